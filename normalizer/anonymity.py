"""A request for anonymity in plain words, anywhere in the text.

The keyword at the start (:mod:`normalizer.keywords`) is the documented way to
ask; citizens also just say it. When in doubt the report is anonymous, so these
phrases (read on the :func:`normalizer.fold.fold` skeleton, any case, SMS
spellings included) make it so:

- "jangan/tidak usah/tolong jangan" + "sebut/tulis/cantumkan/tampilkan/buka/
  sebarkan/bocorkan/publikasikan" (also with ``di-``) + "nama/identitas/data
  (diri)" + "saya/sy/kami/aku/pelapor": *jangan sebut nama saya*;
- "rahasiakan/sembunyikan/samarkan" + "nama/identitas/data (diri)":
  *rahasiakan identitas saya*; and "nama/identitas saya (mohon/tolong)
  dirahasiakan/disembunyikan/jangan disebut";
- "(saya) (mau/ingin/minta/mohon) (tetap) anonim/dianonimkan/tanpa nama":
  *saya minta anonim*; "lapor(an) anonim", "tanpa (nama/identitas)" after a
  verb of reporting;
- English: "keep my name/identity secret/private/anonymous", "don't (mention,
  share, reveal, publish) my name/identity", "(want/wish/prefer) to (stay/remain/
  be) anonymous", "anonymously".

Negations turn the request off when they come right before it ("tidak perlu
dirahasiakan", "boleh sebut nama saya" is not matched at all). False positives
are kept low by demanding the pair (verb + *nama/identitas*) or the explicit
word *anonim*: "nama jalan", "rahasia umum" or "sebut saja" alone do not count.
"""

from __future__ import annotations

import re

from normalizer.fold import fold

__all__ = ["asks_for_anonymity"]

_SELF = r"(?:saya|sy|sya|kami|aku|ku|pelapor|gue|gw)"
_WHAT = r"(?:nama|nm|identitas|data\s*diri|data\s*pribadi|jati\s*diri|nomor|no\.?\s*hp)"
_REVEAL = r"(?:di)?(?:sebut(?:kan)?|tulis(?:kan)?|cantum(?:kan)?|tampil(?:kan)?|buka|sebar(?:kan)?|bocor(?:kan)?|publikasi(?:kan)?|umum(?:kan)?|share|kasih\s*tau|beri\s*tahu(?:kan)?)"
_HIDE = r"(?:di)?(?:rahasia(?:kan)?|sembunyi(?:kan)?|samar(?:kan)?|anonim(?:kan)?|tutup(?:i)?|lindungi)"
_DONT = r"(?:jangan|jgn|jngn|tidak\s*usah|tdk\s*usah|ga(?:k)?\s*usah|gausah|gk\s*usah|nggak\s*usah|tak\s*usah|tanpa)"
_WANT = r"(?:mau|ingin|pengen|pingin|minta|mohon|tolong|harap|hrp|mhn|tlg|sebagai)"
_PHRASES = (
    rf"{_DONT}\s+(?:{_REVEAL}\s+)?{_WHAT}(?:\s+{_SELF})?\b",  # jangan sebut nama saya, tanpa nama
    rf"{_DONT}\s+{_REVEAL}\s+{_SELF}\b",  # jangan sebut saya
    rf"\b{_HIDE}\s+(?:{_WHAT})\b",  # rahasiakan identitas saya
    rf"\b{_WHAT}\s+(?:{_SELF}\s+)?(?:{_WANT}\s+)?(?:{_HIDE}|{_DONT}\s+{_REVEAL})\b",  # nama saya mohon dirahasiakan
    rf"\b(?:{_SELF}\s+)?{_WANT}\s+(?:tetap\s+|untuk\s+|jadi\s+|menjadi\s+)?(?:di)?anonim(?:kan)?\b",  # saya minta anonim
    r"\b(?:lapor(?:an)?|mengadu|pengaduan|aduan)\s+(?:secara\s+)?anonim\b",  # laporan anonim
    r"\bsecara\s+anonim\b",
    r"\bkeep\s+(?:my|our)\s+(?:name|identity|details)\s+(?:secret|private|confidential|anonymous|hidden)\b",
    r"\b(?:do\s*n[o']?t|do\s+not|please\s+don'?t|never)\s+(?:mention|share|reveal|publish|disclose|use|show)\s+"
    r"(?:my|our)\s+(?:name|identity|details)\b",
    r"\b(?:want|wish|prefer|like|would\s+like|need)\s+to\s+(?:stay|remain|be|keep)\s+anonymous\b",
    r"\banonymously\b",
)
_REQUEST = re.compile("|".join(f"(?:{p})" for p in _PHRASES), re.IGNORECASE)
_NEGATION = re.compile(
    r"\b(?:tidak|tdk|tak|ga|gak|nggak|ngga|bukan|not|no|don'?t)\s+(?:perlu\s+|usah\s+|harus\s+|need\s+to\s+)?$",
    re.IGNORECASE,
)


# Every phrase needs one of these words (or "anon…"): a cheap test before the phrase regex.
_TRIGGERS = frozenset(
    {"nama", "nm", "identitas", "data", "jati", "nomor", "hp", "jangan", "jgn", "jngn", "usah", "gausah", "tanpa",
     "name", "identity", "details"}
)  # fmt: skip
_WORD = re.compile(r"[a-z]+")


def asks_for_anonymity(text: str) -> bool:
    """Whether ``text`` asks, in words, that the reporter stay unnamed (see the module docstring)."""
    view = fold(text or "").text
    low = view.lower()
    if "anon" not in low and _TRIGGERS.isdisjoint(_WORD.findall(low)):
        return False
    return any(not _NEGATION.search(view[max(0, m.start() - 24) : m.start()]) for m in _REQUEST.finditer(view))
