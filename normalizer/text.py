"""Text cleanup for complaint bodies: whitespace, control characters, SMS quirks.

Pure functions over ``str``; they never look at the channel. Apply
:func:`clean_text` first: :func:`collapse_duplicated_concatenation` relies on
its normalized whitespace.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "MIN_REPEATED_PREFIX",
    "clean_text",
    "collapse_duplicated_concatenation",
    "is_substantive",
    "strip_greeting_only",
    "words",
]

# Invisible characters that only get in the way (zero-width space, word joiner,
# BOM, soft hyphen). ZWJ/ZWNJ stay: emoji sequences and some scripts need them.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))
_LINE_BREAKS = re.compile(r"\r\n|[\r\u2028\u2029\x0b\x0c\x85]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # Unicode Cc minus tab/newline (others already mapped)
_HSPACE = re.compile(r"[^\S\n]+")  # any whitespace except newline
_BLANK_RUN = re.compile(r"\n{4,}")  # more than two blank lines

MIN_REPEATED_PREFIX = 40


def clean_text(s: str) -> str:
    """NFC, CRLF → LF, no control chars except newline, collapsed spaces, ≤ 2 consecutive blank lines, trimmed."""
    # Not gateway.worker.update_texts.clean: that one words an agency's answer for a phone (quotes folded
    # for GSM-7, layout kept); this one keeps the citizen's characters and evens out the spacing of the record.
    s = unicodedata.normalize("NFC", s or "")
    s = _LINE_BREAKS.sub("\n", s).translate(_INVISIBLE)
    s = _CONTROL.sub("", s)
    lines = (_HSPACE.sub(" ", line).strip() for line in s.split("\n"))
    return _BLANK_RUN.sub("\n\n\n", "\n".join(lines)).strip()


def collapse_duplicated_concatenation(s: str, min_len: int = MIN_REPEATED_PREFIX) -> str:
    """Undo an SMSC that sent a prefix of the text (its first part, or all of it) before the full text.

    ``P + W`` where ``W`` starts with ``P`` and ``len(P) >= min_len`` becomes ``W``;
    ``W + W`` is the same case with ``P == W``. Short repetitions ("tolong tolong")
    and repeats that are not at the start are left alone.
    """
    while True:
        collapsed = _collapse_once(s, min_len)
        if collapsed == s:
            return s
        s = collapsed


def _collapse_once(s: str, min_len: int) -> str:
    if len(s) < 2 * min_len:
        return s
    head = s[:min_len]
    start = s.find(head, min_len)
    while start != -1:
        prefix = s[:start].rstrip()
        rest = s[start:]
        if len(prefix) >= min_len and rest.startswith(prefix):
            return rest
        start = s.find(head, start + 1)
    return s


# Greetings, fillers and test words that carry no complaint on their own.
# Compared after squeezing repeated letters ("haloooo" → "halo", "tesss" → "tes").
_FILLER = {
    "halo", "helo", "hai", "hay", "hi", "hei", "hey", "hello", "alo", "p", "ping", "tes", "test", "testing",
    "cek", "coba", "min", "mimin", "admin", "kak", "ka", "pak", "bapak", "bu", "ibu", "mas", "mbak", "bang",
    "gan", "sis", "om", "bro", "permisi", "maaf", "salam", "asalamualaikum", "asalamu", "alaikum", "askum",
    "aslm", "wr", "wb", "wrwb", "warahmatulahi", "wabarakatuh", "selamat", "pagi", "siang", "sore", "malam",
    "met", "ok", "oke", "okey", "ya", "y", "iya", "yes", "no", "tidak", "ga", "gak", "nggak", "ngak",
    "terima", "kasih", "trima", "makasih", "trimakasih", "terimakasih", "thanks", "thank", "you", "thx", "tq",
    "saya", "sy", "aku", "kami", "mau", "ingin", "pengen", "lapor", "melapor", "laporan", "mengadu", "aduan",
    "pengaduan", "tolong", "mohon", "bantu", "bantuan", "dong", "nih", "ini", "itu", "ada", "apa", "bisa",
    "lapor1708", "good", "morning", "afternoon", "evening", "night", "hallo", "the", "a", "to",
}


_REPEATS = re.compile(r"(.)\1+")


def _squeeze(word: str) -> str:
    return _REPEATS.sub(r"\1", word)


_FILLER_SQUEEZED = {_squeeze(w) for w in _FILLER}
_WORD = re.compile(r"[^\W_]+")


def is_substantive(s: str) -> bool:
    """False for empty text, greetings, test pings, 'mau lapor', punctuation or emoji only.

    True as soon as one word outside the filler list has 3+ letters ("banjir").
    """
    for word in _WORD.findall((s or "").casefold()):
        if sum(ch.isalpha() for ch in word) < 3:
            continue
        if _squeeze(word) not in _FILLER_SQUEEZED:
            return True
    return False


def strip_greeting_only(s: str) -> str:
    """``''`` when the text is only a greeting or filler (see :func:`is_substantive`), else the text unchanged."""
    return s if is_substantive(s) else ""


# SMS and chat shorthand → the full word, so keyword, language and duplicate
# checks see one spelling. Only unambiguous forms ("smp" is both a school and
# "sampai", so it stays).
SLANG: dict[str, str] = {
    "yg": "yang", "tdk": "tidak", "tdak": "tidak", "gk": "tidak", "gak": "tidak", "ga": "tidak", "nggak": "tidak",
    "ngga": "tidak", "enggak": "tidak", "engga": "tidak", "sdh": "sudah", "udh": "sudah",
    "udah": "sudah", "sudh": "sudah", "dah": "sudah", "blm": "belum", "blum": "belum", "belom": "belum",
    "dgn": "dengan", "dg": "dengan", "utk": "untuk", "untk": "untuk", "tuk": "untuk", "krn": "karena",
    "krna": "karena", "karna": "karena", "jln": "jalan", "jl": "jalan", "bln": "bulan", "thn": "tahun",
    "hr": "hari", "tp": "tapi", "tpi": "tapi", "dr": "dari", "dri": "dari", "sy": "saya", "sya": "saya",
    "kmi": "kami", "org": "orang", "bs": "bisa", "bsa": "bisa", "hrs": "harus", "jg": "juga", "lg": "lagi",
    "lgi": "lagi", "sm": "sama", "aja": "saja", "kalo": "kalau", "klo": "kalau", "gmn": "bagaimana",
    "gimana": "bagaimana", "knp": "kenapa", "dpn": "depan", "blkg": "belakang", "dkt": "dekat",
    "skrg": "sekarang", "skrng": "sekarang", "bgt": "banget", "msh": "masih", "sblm": "sebelum",
    "stlh": "setelah", "trs": "terus", "trus": "terus", "pd": "pada", "dlm": "dalam", "kpd": "kepada",
    "mhn": "mohon", "tlg": "tolong", "tlong": "tolong", "bpk": "bapak", "kel": "kelurahan", "kec": "kecamatan",
    "kab": "kabupaten", "rs": "rumah sakit", "pkm": "puskesmas", "sklh": "sekolah", "jd": "jadi",
    "jdi": "jadi", "spt": "seperti", "sprt": "seperti", "ttg": "tentang", "bnyk": "banyak", "byk": "banyak",
    "sgt": "sangat", "pdhl": "padahal", "brp": "berapa", "bbrp": "beberapa", "kmrn": "kemarin",
    "mlm": "malam", "wrg": "warga", "rmh": "rumah", "tgl": "tanggal", "ktr": "kantor", "pemkot": "pemerintah kota",
    "pemkab": "pemerintah kabupaten", "sampe": "sampai", "ampe": "sampai", "emg": "memang", "bkn": "bukan",
    "tsb": "tersebut", "mks": "terima kasih", "makasih": "terima kasih",
    "trims": "terima kasih", "ektp": "e ktp",
}

_TOKEN = re.compile(r"[^\W_]+")
_LONG_RUN = re.compile(r"([^\W\d_])\1{2,}")  # "rusakkk" → "rusak", "saat" stays


def words(s: str, slang: dict[str, str] | None = None) -> list[str]:
    """Lower-case word tokens with SMS shorthand expanded (``SLANG`` unless given).

    Letter runs of 3+ are squeezed ("tolonggg"), and the reduplication digit is
    dropped ("syarat2" → "syarat").
    """
    table = SLANG if slang is None else slang
    out: list[str] = []
    # runs squeezed in the whole text at once: a run of one letter never crosses a token's edge, and one
    # sub() per token was half the cost of the normaliser's three calls per message
    text = _LONG_RUN.sub(r"\1", unicodedata.normalize("NFKC", s or "").casefold())
    for token in _TOKEN.findall(text):
        if token[-1] == "2" and token[:-1].isalpha():
            token = token[:-1]
        expanded = table.get(token)
        if expanded is None:
            out.append(token)
        else:
            out.extend(expanded.split())
    return out
