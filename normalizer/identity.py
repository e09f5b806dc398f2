"""Mask the reporter's own identity where it shows up in their text.

:mod:`normalizer.pii` finds personal data of any kind by its shape; this finds
*this* reporter's, by what the channel told us (their name, handle, address,
phone, NIK), so a signature under an ``[ANONIM]`` mail or "Salam, Budi" in a
chat does not give them away. Used on the body and subject of an anonymous
complaint, and on every ``body_public``.

Matching rules (on the :func:`normalizer.fold.fold` skeleton, any case):

- the full name, its parts in order with any punctuation or spaces between
  (``Budi Santoso``, ``BUDI.SANTOSO``, ``Ma'ruf``) → ``[NAMA]``;
- each part of 3+ letters → ``[NAMA]`` wherever it stands as a word, except
  titles (``Bapak``, ``Hj``, ``Dr``…, never masked alone) and parts that are also
  common Indonesian words (``Indah``, ``Agung``, ``Sari``, ``Jalan``… in
  :data:`COMMON_WORDS`): those only where they are clearly the name: right
  after a cue (``saya``, ``nama``, ``pak``, ``a.n.``, ``salam``, ``hormat saya``,
  ``ttd``…), next to another part of the name, or alone on their line (a
  signature). "Taman kota tidak lagi indah" keeps its word; "Saya Indah" does not;
- the handle, with or without ``@`` → ``[AKUN]``; the address as given (8+
  characters, any spacing) → ``[ALAMAT]``;
- the phone and NIK digits, whatever separators or hidden characters are
  between them and with or without ``0``/``62``/``+62``/``0062`` → ``[NO. HP]`` /
  ``[NIK]`` (the shape-based masking usually got them first).

A name the channel never told us (an SMS) is still masked where the text
introduces it, :func:`mask_self_named`: up to three words after "nama saya",
"namaku", "saya bernama", "perkenalkan (nama) saya", "atas nama", "a.n.",
"my name is", and the line under a closing ("Hormat saya,", "Salam,", "Ttd",
"Wassalam", "Regards"), stopping at the first word that is not a name
("warga", "dari", "yang", …: :data:`NOT_NAMES`) or at punctuation. A bare "saya"
("ANONIM saya Budi Santoso NIK …") introduces a name only where it opens a
sentence or follows a greeting or the privacy keyword ("rumah saya Jalan
Merdeka" keeps its street), and only if the words are a name by their capitals
in a text that does not capitalise everything, or are followed by what people
say after their name ("saya budi santoso warga rt 3", "… nik …"); verbs and
common words ("saya mau", "saya sangat", "Saya Indah melihat") are not names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from normalizer.fold import fold

__all__ = ["COMMON_WORDS", "NOT_NAMES", "TITLES", "IdentityMasker", "mask_self_named"]


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


TITLES = _wordset(
    "bapak pak bpk ibu bu mas mbak kak adik dik bang abang sdr sdri saudara saudari tuan nyonya nona "
    "dr drs dra ir hj haji hajjah hajah st sh se mm msi mpd spd skom mt amd prof kh ust ustad ustadz "
    "mr mrs ms miss sir"
)
COMMON_WORDS = _wordset(
    "indah sari putri putra dewi bunga mawar melati intan mutiara permata bintang cahaya bulan surya "
    "langit embun pelangi ayu bagus agung jaya makmur sejahtera selamat rahayu lestari damai bahagia "
    "suci murni setia kasih sayang cinta harapan raja ratu adil bijak mulia utama pratama kurnia rezeki "
    "rejeki berkah amanah iman ikhlas sabar tenang dian fajar senja pagi siang sore malam hujan angin "
    "laut gunung bukit sungai kali danau pantai tanah air api batu emas perak besi kayu padi jalan kota "
    "desa dinas kantor warga rumah sekolah pasar toko listrik lampu taman kebun sawah hutan merdeka "
    "bangsa negara rakyat umum baru lama besar kecil tinggi panjang tua muda kuning hijau merah putih "
    "hitam biru manis baik benar terang wangi harum mega awan teguh kuat gagah berani setiawan "
    "official info admin resmi layanan pengaduan lapor laporan"
)
_CUE = re.compile(
    r"(?:\b(?:saya|sy|sya|aku|namaku|nama|nm|pelapor|dari|oleh|ttd|tertanda|salam|regards|from|"
    r"an|a\.n|atas\s+nama|hormat\s+(?:saya|kami)|i\s+am|i'm|my\s+name\s+is|name|"
    + "|".join(sorted(TITLES))
    + r"))[\s,.:;\-]*$",
    re.IGNORECASE,
)
_PART = re.compile(r"[^\W\d_]+")
_GAP = r"[\W_]{1,3}"
_SEP = r"(?:[ ]?[.\-/_][ ]?|[ ]|\(|\))?"
_LETTER_BEFORE = r"(?<![^\W\d_])"
_LETTER_AFTER = r"(?![^\W\d_])"


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    label: str
    common: frozenset[str] = field(default_factory=frozenset)  # matches that need a name context

    def spans(self, view: str) -> list[tuple[int, int, str]]:
        return [(m.start(), m.end(), m.group()) for m in self.pattern.finditer(view) if m.end() > m.start()]


_GLUE = re.compile(r"[ ]?[.\-/_][ ]?|[ ]|\(|\)")  # what may stand between two digits of one number


@dataclass(frozen=True)
class _DigitsRule:
    """One reporter's number (phone or NIK) in any spelling, found without compiling a pattern per message
    (the worker builds a masker for every message): the text's digits are searched as one string, then the
    gaps inside a hit must be separators and the digits around it must not touch it."""

    targets: tuple[str, ...]  # the digits as they may be written, e.g. 0812…, 62812…, 0062812…
    label: str
    common: frozenset[str] = frozenset()

    def spans(self, view: str) -> list[tuple[int, int, str]]:
        idx = [m.start() for m in _DIGIT.finditer(view)]
        if len(idx) < min(map(len, self.targets)):
            return []
        digits = "".join(view[i] for i in idx)
        out = []
        for target in self.targets:
            k = digits.find(target)
            while k >= 0:
                end = k + len(target)
                if self._stands_alone(view, idx, k, end):
                    a, b = idx[k], idx[end - 1] + 1
                    while a > 0 and view[a - 1] in "+(":
                        a -= 1
                    if view[b : b + 1] == ")":
                        b += 1
                    out.append((a, b, view[a:b]))
                k = digits.find(target, k + 1)
        return out

    @staticmethod
    def _stands_alone(view: str, idx: list[int], k: int, end: int) -> bool:
        if (k > 0 and idx[k] - idx[k - 1] == 1) or (end < len(idx) and idx[end] - idx[end - 1] == 1):
            return False  # a digit touches it: part of a longer number
        return all(idx[j] - idx[j - 1] == 1 or _GLUE.fullmatch(view[idx[j - 1] + 1 : idx[j]])
                   for j in range(k + 1, end))


_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=1024)
def _name_rules(name: str) -> tuple[_Rule, ...]:
    parts = [p for p in _PART.findall(fold(name).text.casefold()) if p not in TITLES]
    rules = []
    if len(parts) >= 2:
        full = _GAP.join(re.escape(p) for p in parts)
        rules.append(_Rule(re.compile(_LETTER_BEFORE + full + _LETTER_AFTER, re.IGNORECASE), "[NAMA]"))
    words = sorted({p for p in parts if len(p) >= 3}, key=len, reverse=True)
    if words:
        alternation = "|".join(re.escape(w) for w in words)
        common = frozenset(w for w in words if w in COMMON_WORDS)
        rules.append(_Rule(re.compile(f"{_LETTER_BEFORE}(?:{alternation}){_LETTER_AFTER}", re.IGNORECASE),
                           "[NAMA]", common))  # fmt: skip
    return tuple(rules)


def _digits_rule(digits: str, label: str, prefixed: bool) -> _DigitsRule:
    targets = (f"0062{digits}", f"62{digits}", f"0{digits}", digits) if prefixed else (digits,)
    return _DigitsRule(targets, label)


class IdentityMasker:
    """Masks one reporter's identity (see the module docstring); build one per message."""

    def __init__(
        self,
        names: Iterable[str | None] = (),
        handles: Iterable[str | None] = (),
        addresses: Iterable[str | None] = (),
        phones: Iterable[str | None] = (),
        niks: Iterable[str | None] = (),
    ) -> None:
        rules: list[_Rule | _DigitsRule] = []
        self._name_parts: set[str] = set()
        for name in filter(None, names):
            rules.extend(_name_rules(name))
            self._name_parts.update(p for p in _PART.findall(fold(name).text.casefold()) if p not in TITLES)
        for handle in filter(None, handles):
            bare = fold(handle).text.lstrip("@")
            if len(bare) >= 3:
                rules.append(_Rule(re.compile(rf"(?<![\w@])@?{re.escape(bare)}(?![\w])", re.IGNORECASE), "[AKUN]"))
        for address in filter(None, addresses):
            tokens = re.findall(r"[^\W_]+", fold(address).text)
            if len(address.strip()) >= 8 and tokens:
                rules.append(_Rule(re.compile(r"[\W_]+".join(map(re.escape, tokens)), re.IGNORECASE), "[ALAMAT]"))
        for phone in filter(None, phones):
            digits = re.sub(r"\D", "", fold(phone).text)
            national = re.sub(r"^(?:00)?62|^0", "", digits)
            if len(national) >= 8:
                rules.append(_digits_rule(national, "[NO. HP]", prefixed=True))
        for nik in filter(None, niks):
            digits = re.sub(r"\D", "", fold(nik).text)
            if len(digits) >= 8:
                rules.append(_digits_rule(digits, "[NIK]", prefixed=False))
        self._rules = tuple(rules)

    def __bool__(self) -> bool:
        return bool(self._rules)

    def mask(self, text: str) -> str:
        """``text`` with this reporter's identity replaced by labels."""
        if not self._rules or not text:
            return text
        folded = fold(text)
        view = folded.text
        hits: list[tuple[int, int, str]] = []
        for rule in self._rules:
            for start, end, found in rule.spans(view):
                if not rule.common or found.casefold() not in rule.common or self._names_here(view, start, end):
                    hits.append((start, end, rule.label))
        if not hits:
            return text
        hits.sort(key=lambda h: (h[0], -h[1]))
        out, pos = [], 0
        for start, end, label in hits:
            a, b = folded.span(start, end)
            if a < pos:
                continue
            out += [text[pos:a], label]
            pos = b
        out.append(text[pos:])
        return "".join(out)

    def _names_here(self, view: str, start: int, end: int) -> bool:
        """Whether a common word that is also a part of the name is used as the name here."""
        if _CUE.search(view[max(0, start - 24) : start]):
            return True
        before = re.search(rf"([^\W\d_]+){_GAP}$", view[max(0, start - 40) : start])
        after = re.match(rf"{_GAP}([^\W\d_]+)", view[end : end + 40])
        if any(m and m.group(1).casefold() in self._name_parts for m in (before, after)):
            return True
        line_start = view.rfind("\n", 0, start) + 1
        line_end = view.find("\n", end)
        line = view[line_start : len(view) if line_end < 0 else line_end]
        rest = [w for w in _PART.findall(line.casefold()) if w not in self._name_parts]
        return not rest or bool(_CUE.fullmatch(" ".join(rest)))


NOT_NAMES = _wordset(
    "adalah yaitu ialah dari warga tinggal di yang dan atau mau ingin akan sudah telah melapor lapor "
    "melaporkan mengadu mohon minta tolong ini itu selaku sebagai pelapor penduduk asal alamat umur usia "
    "rt rw no nomor hp nik ktp kami saya sy kepada bapak ibu untuk dengan pada sejahtera hangat sehat "
    "selalu kembali wr wb terima kasih is am from and the a of i"
)
_INTRO = re.compile(
    r"\b(?:nama\s+(?:saya|sy|aku)|namaku|(?:saya|sy|aku)\s+bernama|perkenalkan(?:[\s,]+nama)?(?:[\s,]+(?:saya|sy))?"
    r"|atas\s+nama|a\.\s?n\.|a/n|my\s+name\s+is)(?![^\W\d_])[\s:,\-]*(?:(?:adalah|ialah|yaitu)\s+)?"
    r"|(?:^|\n)[ \t]*(?:hormat\s+(?:saya|kami)|salam(?:\s+hormat)?|wassalam\w*|ttd\.?|tertanda|regards|best\s+regards"
    r"|terima\s+kasih)[ \t]*[,.:\-]?[ \t]*\n\s*",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"([^\W\d_]+(?:['\u2019][^\W\d_]+)?)(\.?)([ \t]*)")


def mask_self_named(text: str) -> str:
    """``text`` with a name it introduces itself replaced by ``[NAMA]`` (see the module docstring)."""
    if not text:
        return text
    folded = fold(text)
    view = folded.text
    spans = [(m.end(), end) for m in _INTRO.finditer(view) if (end := _name_end(view, m.end())) > m.end()]
    capitals_say: bool | None = None  # read once, where a bare "saya" is followed by a capital
    for m in _BARE_SAYA.finditer(view):
        end = _name_end(view, m.end(), _NOT_AFTER_SAYA)
        if end == m.end():
            continue
        capital = view[m.end()].isupper()
        if capital and capitals_say is None:
            capitals_say = _capitals_mean_names(view)
        if (capital and capitals_say) or _IDENTITY_AFTER.match(view, end):
            spans.append((m.end(), end))
    if not spans:
        return text
    out, pos = [], 0
    for start, end in sorted(spans):
        a, b = folded.span(start, end)
        if a >= pos:
            out += [text[pos:a], "[NAMA]"]
            pos = b
    out.append(text[pos:])
    return "".join(out)


def _name_end(view: str, pos: int, not_names: frozenset[str] = NOT_NAMES) -> int:
    """Where the name that starts at ``pos`` ends: up to three words, stopping at a word in ``not_names``
    or at punctuation (an initial's dot excepted); ``pos`` itself if there is none."""
    end = pos
    for _ in range(3):
        w = _NAME_WORD.match(view, pos)
        if not w or w.group(1).casefold() in not_names:
            break
        initial = len(w.group(1)) == 1 and w.group(2)
        end = w.end(2) if initial else w.end(1)
        pos = w.end()
        follows = view[pos : pos + 1]
        if not w.group(3) and follows and follows.isalpha():
            break
        if (w.group(2) and not initial) or (follows and not follows.isalpha()):
            break  # punctuation or the end of a sentence ends the name
    return end


# A bare "saya Budi Santoso" (no "nama", no "bernama"): only where "saya" opens a sentence, a bracket or a
# quote, or follows a greeting, so "rumah saya Jalan Merdeka" keeps its street; and only where the words are a name by their
# capitals in a text that does not capitalise everything, or are followed by what one says after one's
# name (a NIK, "warga", "umur"…), as in "saya budi santoso warga rt 3".
_BARE_SAYA = re.compile(
    r"(?:^|[.!?,;:\n()\[\]\"']|\b(?:halo|hai|hi|pagi|siang|sore|malam|assalamualaikum|salam|pak|bu|bapak|ibu"
    r"|min|admin|kak|mas|mbak|perkenalkan|anonim|rahasia|dan|tapi|tetapi|namun|karena|krn|jadi)\b)"
    r"[ \t]*(?:saya|sy|sya|aku)(?![^\W\d_])[ \t]+",
    re.IGNORECASE,
)
_NOT_AFTER_SAYA = NOT_NAMES | COMMON_WORDS | _wordset(
    "sangat amat juga hanya cuma pernah sedang lagi masih baru belum tidak tdk gak ga nggak enggak engga "
    "bukan merasa kecewa sebagai sendiri pribadi sekeluarga rasa kira pikir harap berharap lihat melihat "
    "liat dengar mendengar tahu tau punya memiliki ada bisa dapat perlu butuh sering kemarin tadi sdh blm "
    "udah udh pengen pingin hendak bermaksud ingin sampaikan menyampaikan keluhkan mengeluhkan adukan "
    "ajukan mengajukan tanya bertanya menanyakan orang salah satu seorang ini tersebut"
)
_IDENTITY_AFTER = re.compile(
    r"[ \t,]*(?:\[NIK\]|\[NO\. HP\]|(?:nik|ktp|no\.?[ \t]*(?:hp|telp|ktp)|nomor|umur|usia|warga|penduduk"
    r"|alamat|tinggal|asal|dari[ \t]+(?:rt|rw|desa|kel|kelurahan|kampung|dusun|jl|jalan|kec|kecamatan))\b)",
    re.IGNORECASE,
)


def _capitals_mean_names(view: str) -> bool:
    """Whether a capital inside a sentence says something here: not in a text in capitals or Title Case.
    A sentence's first word is not counted (it has its capital anyway), and a text of a few words has
    no style to read."""
    inner = [m.group(2) for m in _WORD_AND_OPENING.finditer(view) if m.group(1) is None and len(m.group(2)) > 1]
    return len(inner) < 3 or sum(1 for w in inner if w[0].isupper()) * 2 <= len(inner)


_WORD_AND_OPENING = re.compile(r"(?:(^|[.!?\n])[ \t]*)?([^\W\d_]+)")  # group 1 is set where a sentence opens
