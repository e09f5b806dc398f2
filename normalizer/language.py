"""Cheap language guess for receipts: count Indonesian and English function words.

Indonesian wins ties (it is the service's default); text with neither kind of
word (another language, a number, emoji only) is ``"other"``. SMS shorthand is
expanded first, so "yg tdk sdh" counts as Indonesian.
"""

from __future__ import annotations

from normalizer.record import Language
from normalizer.text import words

__all__ = ["Language", "detect_language"]

_ID_WORDS = """yang dan di ke dari ini itu tidak sudah belum dengan untuk karena pada dalam saya kami kita mereka
    ada akan juga atau tapi tetapi sangat mohon tolong jalan bulan hari tahun bisa harus sampai sejak
    lagi sama saja kalau bagaimana kenapa apakah sekarang masih sebelum setelah terus depan dekat rumah
    oleh bahwa agar supaya hingga seperti tentang banyak beberapa kemarin malam pagi warga rusak sekali
    bapak ibu pak bu terima kasih adalah ialah tersebut namun serta para setiap selama kepada nya kok
    dong sih mana siapa berapa apa mau ingin sedang telah pernah perlu kapan bukan atas nama nomor dimana
    alamat"""
_EN_WORDS = """the a an and of to in on at for with from by is are was were be been being has have had do does did
    not this that these those there it its my our your their we they you he she i me us please street
    road broken since week weeks month months days would could should will can cannot because but
    about into than then when where which who what how why very also just still yet already thank thanks"""
_ID = frozenset(_ID_WORDS.split())
_EN = frozenset(_EN_WORDS.split())


def detect_language(text: str) -> Language:
    """``"id"``, ``"en"`` or ``"other"`` by which function words dominate."""
    tokens = words(text)
    id_hits = sum(t in _ID for t in tokens)
    en_hits = sum(t in _EN for t in tokens)
    if id_hits == en_hits == 0:
        return "other"
    return "en" if en_hits > id_hits else "id"
