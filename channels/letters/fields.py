"""Fields of an Indonesian complaint letter: Perihal/Hal, Nama, NIK, Alamat, phone, email, date, body.

Letters follow the official-letter pattern (``Nama : …`` lines under "Saya
yang bertanda tangan di bawah ini", the body, "Hormat saya", a place and date),
so labelled lines plus a few patterns go a long way. OCR slips in digits
(``O``→0, ``l``→1) are repaired only inside fields that must be digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from channels.phone import normalize_phone as e164

MONTHS = {
    m: i
    for i, m in enumerate(
        (
            "januari",
            "februari",
            "maret",
            "april",
            "mei",
            "juni",
            "juli",
            "agustus",
            "september",
            "oktober",
            "november",
            "desember",
        ),
        start=1,
    )
}
MONTHS.update(
    {
        "agust": 8,
        "agu": 8,
        "okt": 10,
        "des": 12,
        "feb": 2,
        "jan": 1,
        "mar": 3,
        "apr": 4,
        "jun": 6,
        "jul": 7,
        "sep": 9,
        "nov": 11,
    }
)

FIELD_PATTERNS = {
    "subject": re.compile(r"^\s*(?:perihal|hal)\s*[:;.]?\s*(.+)$", re.I),
    "name": re.compile(r"^\s*nama(?:\s+lengkap)?\s*[:;]\s*(.+)$", re.I),
    "nik": re.compile(r"^\s*(?:nik|no\.?\s*ktp|nomor\s+ktp)\s*[:;]\s*(.+)$", re.I),
    "address": re.compile(r"^\s*alamat\s*[:;]\s*(.+)$", re.I),
    "phone": re.compile(
        r"^\s*(?:telepon|telp\.?|no\.?\s*hp|no\.?\s*telp\.?|hp|wa|whatsapp|no\.?\s*wa)\s*[:;]\s*(.+)$", re.I
    ),
    "email": re.compile(r"^\s*e-?mail\s*[:;]\s*(.+)$", re.I),
}
IDENTITY_LABEL = re.compile(
    r"^\s*(nama|nik|alamat|telepon|telp|no\.?\s*\w+|hp|wa|e-?mail|pekerjaan|umur|usia)\b.*[:;]", re.I
)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?:\+?62|0)[\s\-.]?8[\d\s\-.]{7,14}\d")
DATE = re.compile(r"\b(\d{1,2})\s+([A-Za-z]{3,9})\.?\s+(\d{4})\b")
NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})\b")
DIGIT_FIXES = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "D": "0",
        "Q": "0",
        "I": "1",
        "l": "1",
        "|": "1",
        "i": "1",
        "S": "5",
        "s": "5",
        "B": "8",
        "Z": "2",
        "z": "2",
        "G": "6",
        "b": "6",
        "g": "9",
    }
)
BODY_START = re.compile(r"^\s*(dengan\s+hormat|saya\s+yang\s+bertanda)", re.I)
BODY_END = re.compile(r"^\s*(demikian|hormat\s+(saya|kami)|wassalam|atas\s+perhatian)", re.I)


@dataclass
class LetterFields:
    subject: str | None = None
    name: str | None = None
    nik: str | None = None
    address: str | None = None
    phone: str | None = None  # normalised, 62…
    email: str | None = None
    letter_date: date | None = None
    body: str = ""


def digits_only(value: str) -> str:
    return re.sub(r"\D", "", value.translate(DIGIT_FIXES))


def normalize_nik(value: str) -> str | None:
    """16 digits, or None: a half-read NIK is worse than none."""
    d = digits_only(value.replace(" ", ""))
    return d if len(d) == 16 else None


def normalize_phone(value: str) -> str | None:
    """An Indonesian mobile number as OCR read it (``O812-…``) → ``62…`` (E.164 without '+')."""
    return e164(digits_only(value), mobile=True)


def parse_date(text: str) -> date | None:
    """The last date in the text (the letter's own date sits at its end)."""
    found: date | None = None
    for m in DATE.finditer(text):
        month = MONTHS.get(m.group(2).lower())
        if month:
            try:
                found = date(int(m.group(3)), month, int(m.group(1)))
            except ValueError:
                continue
    if found is None:
        for m in NUMERIC_DATE.finditer(text):
            try:
                found = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            except ValueError:
                continue
    return found


def clean_value(value: str) -> str | None:
    v = re.sub(r"\s+", " ", value).strip(" :;.,")
    return v or None


LIST_ITEM = re.compile(r"^\s*(?:[-–•*·]\s+|\(?\d{1,2}[.)]\s+|\(?[a-zA-Z][.)]\s+)")
LABELLED = re.compile(r"^\s*[A-Z][\w./ ]{0,24}?\s*:\s*\S")  # "Nama : …", "Perihal: …"
HYPHENATED = re.compile(r"(\w+)[-\u00ad]$")
WRAPPED_SHARE = 0.65  # a line shorter than this share of the page's full lines was not wrapped: it ends there


def _full_width(lines: list[str]) -> int:
    """Characters in a full (wrapped) line on this page: the longest but for the longest tenth (stray long lines)."""
    lengths = sorted(len(x) for x in lines)
    return lengths[len(lengths) - 1 - len(lengths) // 10] if lengths else 0


def _join(prev: str, line: str) -> str:
    """``prev`` + ``line`` as one run of text, mending a word broken with a hyphen at the line's end."""
    m = HYPHENATED.search(prev)
    if not m:
        return f"{prev} {line}"
    if not line[:1].islower():  # "2024-" + "2025", "Sulawesi-" + "Selatan": a real hyphen, kept
        return prev[: m.end(1)] + "-" + line
    stem, word = m.group(1), line.split()[0]
    # Indonesian reduplication keeps its hyphen ("anak-" + "anak", "lubang-" + "lubangnya"); a split word loses it
    keep = "-" if prev.endswith("-") and word.lower().startswith(stem.lower()) else ""
    return prev[: m.end(1)] + keep + line


def paragraphs(lines: list[str], wrapped_only: bool = True) -> str:
    """Join wrapped lines into paragraphs; a blank line separates paragraphs.

    Within a paragraph a line is joined to the one before it when that one was
    wrapped; a line stays on its own (a newline) when it is a list item or a
    labelled line (``Nama : …``), or follows one that ends in ``:``, is
    labelled, or is clearly shorter than the page's full lines (an address
    line, a closing). ``wrapped_only=False`` joins every line (handwriting in a
    form's box wraps anywhere). Words broken with a hyphen are mended.
    """
    full = _full_width([x.strip() for x in lines if x.strip()])
    paras: list[list[str]] = []
    cur: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not line:
            if cur:
                paras.append(cur)
                cur = []
            continue
        if not cur:
            cur.append(line)
            continue
        prev = cur[-1].rsplit("\n", 1)[-1]
        alone = LIST_ITEM.match(line) or LABELLED.match(line) or prev.endswith(":") or LABELLED.match(prev)
        short = wrapped_only and len(prev) < WRAPPED_SHARE * full and not HYPHENATED.search(prev)
        if alone or short:
            cur[-1] += "\n" + line
        else:
            cur[-1] = _join(cur[-1], line)
    if cur:
        paras.append(cur)
    return "\n\n".join("".join(p) for p in paras)


def extract_body(lines: list[str]) -> str:
    """The text between the identity block (or the salutation) and the closing."""
    start = 0
    for i, line in enumerate(lines):
        if BODY_START.match(line) or FIELD_PATTERNS["subject"].match(line):
            start = max(start, i + 1)
    ident = [i for i, line in enumerate(lines) if IDENTITY_LABEL.match(line)]
    ident = [i for i in ident if i >= start - 1] or ident
    if ident:
        start = max(start, ident[-1] + 1)
    end = len(lines)
    for i in range(start, len(lines)):
        if BODY_END.match(lines[i]):
            end = i
            break
    body = paragraphs(lines[start:end])
    return body or paragraphs(lines)


def extract_letter_fields(text: str) -> LetterFields:
    lines = text.splitlines()
    out = LetterFields()
    for line in lines:
        for key, pat in FIELD_PATTERNS.items():
            m = pat.match(line)
            if m and getattr(out, key) is None:
                value = m.group(1)
                if key == "nik":
                    out.nik = normalize_nik(value)
                elif key == "phone":
                    out.phone = normalize_phone(value)
                elif key == "email":
                    em = EMAIL.search(value)
                    out.email = em.group(0).lower() if em else None
                else:
                    setattr(out, key, clean_value(value))
    if out.email is None and (em := EMAIL.search(text)):
        out.email = em.group(0).lower()
    if out.phone is None and (pm := PHONE.search(text)):
        out.phone = normalize_phone(pm.group(0))
    out.letter_date = parse_date(text)
    out.body = extract_body(lines)
    return out
