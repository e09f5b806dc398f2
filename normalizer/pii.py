"""Find and mask personal data in complaint text; normalize contacts.

Masking convention (``body_public``): each hit is replaced whole by a bracketed
label, so the sentence stays readable and no digit of the number survives:

    NIK / KTP number ........ [NIK]
    Kartu Keluarga number ... [NO. KK]
    KKS card number ......... [NO. KKS]
    BPJS/KIS/KIP card number  [NO. KARTU]   (only after such a label)
    phone number ............ [NO. HP]
    email address ........... [EMAIL]

    any other run of 16+ digits  [NOMOR]

Any 16-digit number (also grouped with spaces, dots, dashes, ``/`` or ``_``) is
an NIK unless a nearby label says KK or KKS. Phones are Indonesian mobile
numbers in ``08…``, ``(0812) …``, ``62 8…``, ``+62 8…`` or ``0062 8…`` form, or any
8–15-digit number right after a label such as "HP", "WA" or "telp". Dates,
times, money (``Rp 150.000``), RT/RW and other short numbers are left alone, but
no run of 16 or more digits ever survives masking, whatever its context.

Numbers are looked for in the :func:`normalizer.fold.fold` skeleton, so zero-width
and other format characters between digits, fullwidth digits and the digits of
other scripts (Arabic-Indic, Devanagari, …) hide nothing; a hit's span is the
text as written, hidden characters inside it included.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Literal

from channels.phone import normalize_phone as e164
from normalizer.fold import fold

__all__ = ["MASKS", "PiiHit", "PiiKind", "find_pii", "mask_pii", "normalize_email", "normalize_phone"]

PiiKind = Literal["nik", "kk", "kks", "card", "phone", "email", "number"]

MASKS: dict[PiiKind, str] = {
    "nik": "[NIK]",
    "kk": "[NO. KK]",
    "kks": "[NO. KKS]",
    "card": "[NO. KARTU]",
    "phone": "[NO. HP]",
    "email": "[EMAIL]",
    "number": "[NOMOR]",
}


@dataclass(frozen=True, slots=True)
class PiiHit:
    kind: PiiKind
    start: int
    end: int

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


# Between two digits of one number: one separator, maybe with a space around it, or a space.
_SEP = r"(?:[ ]?[.\-/_][ ]?|[ ])"
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+", re.UNICODE)
# an address spelled out so that filters miss it: budi [at] gmail [dot] com, budi(at)gmail.com, BUDI AT GMAIL DOT COM,
# budi @ gmail . com; a bare lower-case "at" is a word, so only brackets, capitals or a spaced "@" count
_AT = r"(?:\s*[\[({<]\s*(?:(?i:at)|@)\s*[\])}>]\s*|\s+AT\s+|\s+@\s*|\s*@\s+)"
_DOT_SPELLED = r"(?:\s*[\[({<]\s*(?:(?i:dot)|\.)\s*[\])}>]\s*|\s+DOT\s+)"
_LABEL_RE = r"[^\W_](?:[\w-]*[^\W_])?"
_SPELLED_EMAIL = re.compile(
    rf"(?<![\w.+-])[\w+-]+(?:(?:\.|{_DOT_SPELLED})[\w+-]+)*{_AT}{_LABEL_RE}(?:(?:{_DOT_SPELLED}|\s*\.\s*){_LABEL_RE})+")
# 16 digits, optionally grouped ("3201 2345 6789 0001", "32.01.23.456789.0001", "3201/2345/6789/0001").
_SIXTEEN = re.compile(rf"(?<![\d.,])\d(?:{_SEP}?\d){{15}}(?![\d]|[.,]\d)")
_MOBILE_HEAD = (
    rf"(?:(?:\+|00)[ ]?62{_SEP}?(?:\(0\){_SEP}?)?|\(\+?62\){_SEP}?|62{_SEP}?)(?:8\d{{1,3}}|\(8\d{{1,3}}\))"
    r"|\(0?8\d{1,3}\)|08\d{1,3}"
)
_MOBILE = re.compile(rf"(?<![\w+])(?:{_MOBILE_HEAD})(?:{_SEP}?\d{{2,4}}){{1,4}}(?![\d]|[.,]\d)")
_LONG_RUN = re.compile(r"\d{16,}")
# A label, then a number. The label decides the kind; the number may be any length in range.
_LABELLED = re.compile(
    r"(?P<label>\bno(?:mor)?\.?\s*(?:kartu\s*)?(?:kks|kk|ktp|nik|hp|wa|telp|telepon|bpjs|kis|kip|peserta)\b"
    r"|\b(?:nik|ktp|e-?ktp|kartu\s+keluarga|kks|kk|hp|handphone|ponsel|wa|whatsapp|telp|telepon|tlp|kontak"
    r"|bpjs|kis|kip|kartu\s+peserta)\b)"
    r"(?:\s*(?:saya|sy|kami|no\.?|nomor)){0,2}\s*[:=.]?\s*"
    rf"(?P<number>\+?\d(?:{_SEP}?\d){{7,19}})(?![\d]|[.,]\d)",
    re.IGNORECASE,
)
_MONEY_BEFORE = re.compile(r"(?:rp\.?|idr|rupiah)\s*$", re.IGNORECASE)
_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+")  # "15.000.000": an amount, even after a label


def _label_kind(label: str) -> PiiKind:
    label = label.casefold()
    if "kks" in label:
        return "kks"
    if "kk" in label or "keluarga" in label:
        return "kk"
    if "nik" in label or "ktp" in label:
        return "nik"
    if any(k in label for k in ("bpjs", "kis", "kip", "peserta")):
        return "card"
    return "phone"


def find_pii(s: str) -> list[PiiHit]:
    """Every piece of personal data in ``s``, in text order, non-overlapping (spans in ``s`` as given)."""
    folded = fold(s)
    v = folded.text
    hits: list[PiiHit] = []  # kept sorted by start; earlier patterns win overlaps (spans in the skeleton)
    starts: list[int] = []

    def add(kind: PiiKind, start: int, end: int) -> None:
        i = bisect.bisect_left(starts, start)
        if (i > 0 and hits[i - 1].end > start) or (i < len(hits) and hits[i].start < end):
            return
        starts.insert(i, start)
        hits.insert(i, PiiHit(kind, start, end))

    for m in _EMAIL.finditer(v):
        add("email", m.start(), m.end())
    for m in _SPELLED_EMAIL.finditer(v):
        add("email", m.start(), m.end())
    for m in _LABELLED.finditer(v):
        if _THOUSANDS.fullmatch(m["number"]):
            continue
        add(_label_kind(m["label"]), m.start("number"), m.end("number"))
    for m in _SIXTEEN.finditer(v):
        if not _MONEY_BEFORE.search(v[max(0, m.start() - 10) : m.start()]):
            add("nik", m.start(), m.end())
    for m in _MOBILE.finditer(v):
        digits = re.sub(r"\D", "", m.group())
        digits = digits[2:] if digits.startswith("00") else digits
        national = digits[2:] if digits.startswith("62") else digits[1:]
        if 8 <= len(national) <= 13:
            add("phone", m.start(), m.end())
    for m in _LONG_RUN.finditer(v):  # whatever else a long run of digits is, it may be an NIK in disguise
        _cover(hits, starts, m.start(), m.end())
    return [PiiHit(h.kind, *folded.span(h.start, h.end)) for h in hits]


def _cover(hits: list[PiiHit], starts: list[int], start: int, end: int) -> None:
    """Make ``[start, end)`` part of one hit: merged with the hits it overlaps, or a new ``number``."""
    i = bisect.bisect_right(starts, start) - 1
    i = i if i >= 0 and hits[i].end > start else i + 1
    j = i
    while j < len(hits) and hits[j].start < end:
        j += 1
    if j - i == 1 and hits[i].start <= start and hits[i].end >= end:
        return
    kind: PiiKind = hits[i].kind if j > i else "number"
    lo = min([start] + [h.start for h in hits[i:j]])
    hi = max([end] + [h.end for h in hits[i:j]])
    hits[i:j] = [PiiHit(kind, lo, hi)]
    starts[i:j] = [lo]


def mask_pii(s: str) -> str:
    """``s`` with every :func:`find_pii` hit replaced by its label (see module docstring)."""
    out, pos = [], 0
    for hit in find_pii(s):
        out.append(s[pos : hit.start])
        out.append(MASKS[hit.kind])
        pos = hit.end
    out.append(s[pos:])
    return "".join(out)


def normalize_phone(s: str) -> str | None:
    """:func:`channels.phone.normalize_phone` of the text's fold: fullwidth and other scripts' digits
    and hidden format characters give the same number."""
    return e164(fold(s or "").text)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def normalize_email(s: str) -> str | None:
    """Lower-cased bare address from ``a@b.id``, ``Name <A@B.ID>`` or ``mailto:…``; ``None`` when not an address."""
    _, addr = parseaddr((s or "").strip().removeprefix("mailto:"))
    addr = addr.strip().translate(_ASCII_LOWER)  # not casefold(): ß would be ss, KELVIN SIGN k
    local, at, domain = addr.rpartition("@")
    if not at or not local or "." not in domain or " " in addr or domain.startswith(".") or domain.endswith("."):
        return None
    return addr
