"""Disguises don't work: hidden characters, look-alikes, other widths and scripts (issue 11, item 6).

Cases of our own, then properties (hypothesis) over Unicode-heavy text: the
detectors never raise, masking is idempotent, no run of 16 digits survives it,
and a keyword or number disguised by anything the fold undoes is still found.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.message import InboundMessage
from normalizer.fold import canonical, fold
from normalizer.keywords import extract_privacy_keywords, parse_command
from normalizer.pii import find_pii, mask_pii
from normalizer.pipeline import Normalizer

ZWSP, ZWNJ, ZWJ, WJ, LRM, RLO, PDF, BOM, SHY = "\u200b", "\u200c", "\u200d", "\u2060", "\u200e", "\u202e", "\u202c", "\ufeff", "\u00ad"
INVISIBLES = [ZWSP, ZWNJ, ZWJ, WJ, LRM, RLO, PDF, BOM, SHY, "\u2066", "\u2069", "\U000e0041", "\u180e", "\u3164"]
FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#[]()/"}
DIGIT_SCRIPTS = [0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0xFF10, 0x1D7CE, 0x0AE6]  # zero of each script
CYRILLIC = {"A": "А", "O": "О", "a": "а", "o": "о", "e": "е", "p": "р", "c": "с", "I": "І", "i": "і", "H": "Н"}
GREEK = {"A": "Α", "N": "Ν", "O": "Ο", "I": "Ι", "M": "Μ", "H": "Η", "o": "ο"}


def digits_in(script_zero: int, digits: str) -> str:
    return "".join(chr(script_zero + int(d)) for d in digits)


# --- privacy keywords -----------------------------------------------------------------------------------------------

KEYWORD_CASES = [
    ("fullwidth", "ＡＮＯＮＩＭ　jalan berlubang", True, False),
    ("fullwidth in brackets", "［ＲＡＨＡＳＩＡ］ guru minta uang", False, True),
    ("zero-width joiner inside", f"AN{ZWJ}ON{ZWJ}IM lampu mati", True, False),
    ("soft hyphen and word joiner", f"ra{SHY}ha{WJ}sia pungli", False, True),
    ("right-to-left override around it", f"{RLO}ANONIM{PDF} banjir", True, False),
    ("BOM before it", f"{BOM}#anonim sampah", True, False),
    ("Cyrillic capital A", "АNONIM air PDAM keruh", True, False),
    ("Cyrillic in a hashtag", "#Аnоnim sekolah rusak", True, False),
    ("Greek capitals", "ΑΝΟΝΙΜ jembatan putus", True, False),
    ("Cyrillic a and Greek omicron mixed", "rаhаsiа, anοnim: pungli", True, True),
    ("small capitals", "ᴀɴᴏɴɪᴍ parit mampet", True, False),
    ("mathematical bold", "𝐀𝐍𝐎𝐍𝐈𝐌 lampu PJU", True, False),
    ("accents", "ÀNÓNÌM got tersumbat", True, False),
    ("combining strike-through", "A\u0336N\u0336O\u0336N\u0336I\u0336M\u0336 jalan", True, False),
    ("spelled out with spaces", "R A H A S I A kepala desa", False, True),
    ("spelled out with dots", "a.n.o.n.i.m. pungli", True, False),
    ("split in two", "ano nim, pasar becek", True, False),
    ("near miss: letter doubled", "anonimm jalan rusak", True, False),
    ("near miss: two letters swapped", "anonmi jalan rusak", True, False),
    ("near miss: Malay spelling", "RAHSIA dana desa", False, True),
    ("English word", "Anonymous: bribery at the office", True, False),
    ("markdown bold", "*ANONIM* pungli parkir", True, False),
]


@pytest.mark.parametrize(("label", "text", "anonymous", "confidential"), KEYWORD_CASES, ids=[c[0] for c in KEYWORD_CASES])
def test_disguised_keyword_is_found(label: str, text: str, anonymous: bool, confidential: bool) -> None:
    flags = extract_privacy_keywords(text)
    assert (flags.anonymous, flags.confidential) == (anonymous, confidential)
    assert flags.remaining_text and not re.match(r"[\W_]*(?:anon|rahas)", fold(flags.remaining_text).text, re.I)


NOT_KEYWORDS = [
    "Anonimitas pelapor dijamin undang-undang?",
    "Rahasiakan nama saya ya",
    "Anak saya tidak dapat KIP",
    "Ananda Nimas sakit, puskesmas tutup",
    "Rahayu, jalan depan rumah berlubang",
    "Anoa di kebun binatang kurus",
]


@pytest.mark.parametrize("text", NOT_KEYWORDS)
def test_words_that_only_look_like_it_are_not_keywords(text: str) -> None:
    assert extract_privacy_keywords(text) == (False, False, text)


def test_disguised_commands_are_read() -> None:
    tid = "8082656733"
    assert parse_command(f"ＣＥＫ {''.join(FULLWIDTH[d] for d in tid)}").tracking_id == tid
    assert parse_command(f"cek {digits_in(0x0660, tid)}").tracking_id == tid
    assert parse_command(f"С{ZWSP}ЕК 808-265-6733").tracking_id == tid  # Cyrillic С and Е
    info = parse_command(f"INFO {tid}{ZWJ} korban bertambah")
    assert info is not None and info.tracking_id == tid and info.text == "korban bertambah"


# --- personal data --------------------------------------------------------------------------------------------------

PII_CASES = [
    ("NIK with zero-width spaces", f"nik 3174{ZWSP}0512{ZWSP}0388{ZWSP}0007 mohon dicek", "[NIK]"),
    ("NIK with word joiners and BOM", f"3174{WJ}05120388{BOM}0007", "[NIK]"),
    ("NIK with slashes", "no 3174/0512/0388/0007", "[NIK]"),
    ("NIK with underscores", "3174_0512_0388_0007", "[NIK]"),
    ("NIK with spaced dashes", "3174 - 0512 - 0388 - 0007", "[NIK]"),
    ("NIK in fullwidth", "ＮＩＫ：" + "".join(FULLWIDTH[d] for d in "3174051203880007"), "[NIK]"),
    ("NIK in Devanagari digits", digits_in(0x0966, "3174051203880007"), "[NIK]"),
    ("NIK in mixed scripts", digits_in(0x0660, "3174") + "0512" + digits_in(0x06F0, "0388") + "０００７", "[NIK]"),
    ("NIK with an RLO inside", f"3174051{RLO}203880007", "[NIK]"),
    ("phone in fullwidth", "hubungi " + "".join(FULLWIDTH[d] for d in "085711223344"), "[NO. HP]"),
    ("phone 0062", "0062 857 1122 3344", "[NO. HP]"),
    ("phone with slashes", "0857/1122/3344", "[NO. HP]"),
    ("phone with brackets", "(0857) 1122-3344", "[NO. HP]"),
    ("phone +62 with brackets", "+62 (857) 1122 3344", "[NO. HP]"),
    ("phone 62 compact", "wa 6285711223344", "[NO. HP]"),
    ("phone with zero-width joiners", f"0857{ZWJ}1122{ZWJ}3344", "[NO. HP]"),
    ("phone in Arabic-Indic digits", digits_in(0x0660, "085711223344"), "[NO. HP]"),
    ("a 20-digit run", "kode 31740512038800071234 hilang", "[NOMOR]"),
]


@pytest.mark.parametrize(("label", "text", "mask"), PII_CASES, ids=[c[0] for c in PII_CASES])
def test_disguised_number_is_masked(label: str, text: str, mask: str | None) -> None:
    masked = mask_pii(text)
    assert not re.search(r"\d{4}", re.sub(r"\D", "", fold(masked).text) or ""), masked
    if mask:
        assert mask in masked


def test_masking_keeps_ordinary_numbers() -> None:
    text = "tgl 09/11/2025 jam 14.30, RT 004/RW 011, Rp 250.000, SDN 12"
    assert mask_pii(text) == text


def test_forwarded_body_has_no_hidden_characters() -> None:
    msg = InboundMessage(channel="sms.kannel", account="1708", external_id="x1", sender="6281398765432",
                         text=f"AN{ZWJ}ONIM jal{ZWSP}an ru{SHY}sak {RLO}kiri{PDF} ＲＴ　０３ 👨\u200d👩\u200d👧")  # fmt: skip
    c = Normalizer("k").build(msg, complaint_id="c", tracking_id="8082656733").complaint
    assert c.privacy.anonymous
    assert c.body == "jalan rusak kiri RT 03 👨\u200d👩\u200d👧"  # the emoji's ZWJ stays: it hides nothing
    assert unicodedata.is_normalized("NFKC", c.body)


def test_disguised_subject_tag_sets_the_flag() -> None:
    msg = InboundMessage(channel="email.imap", account="a@b.id", external_id="m1", sender="w@x.id",
                         subject="［ＡＮＯＮＩＭ］ pungli", text="Ada pungli di kantor kelurahan.")  # fmt: skip
    assert Normalizer("k").build(msg, complaint_id="c", tracking_id="8082656733").complaint.privacy.anonymous


def test_a_plain_request_for_anonymity_counts() -> None:
    msg = InboundMessage(channel="sms.kannel", account="1708", external_id="x2", sender="6281398765432",
                         text="Jalan di RT 5 rusak parah. Tolong jangan sebut nama saya.")  # fmt: skip
    c = Normalizer("k").build(msg, complaint_id="c", tracking_id="8082656733").complaint
    assert c.privacy.anonymous and c.reporter is None and c.privacy.source == "keyword"


# --- properties -----------------------------------------------------------------------------------------------------

TRICKY = [*INVISIBLES, "\ud800", "\udfff", "\u0301", "\ufe0f", "\ufdd0", "\uffff", " ", "\n", ".", "-", "/", "_", "+"]
tricky_text = st.text(
    alphabet=st.one_of(
        st.characters(codec=None, exclude_categories=()),  # everything, lone surrogates included
        st.sampled_from(TRICKY),
        st.sampled_from("0123456789"),
        st.sampled_from([chr(z + d) for z in DIGIT_SCRIPTS for d in range(10)]),
        st.sampled_from(list(CYRILLIC.values()) + list(GREEK.values()) + list(FULLWIDTH.values())),
    ),
    max_size=80,
)
BUDGET = settings(max_examples=200, deadline=None)


@BUDGET
@given(tricky_text)
def test_detectors_never_raise(text: str) -> None:
    extract_privacy_keywords(text)
    parse_command(text)
    find_pii(text)
    fold(text)
    canonical(text).encode("utf-8")  # always encodable


@BUDGET
@given(tricky_text)
def test_masking_is_idempotent_and_leaves_no_sixteen_digit_run(text: str) -> None:
    once = mask_pii(text)
    assert mask_pii(once) == once
    assert not re.search(r"\d{16}", fold(once).text)


@BUDGET
@given(tricky_text)
def test_canonical_is_idempotent_and_clean(text: str) -> None:
    once = canonical(text)
    assert canonical(once) == once
    assert not any(unicodedata.category(c) in ("Cf", "Cs") for c in once.replace("\u200d", ""))


@BUDGET
@given(tricky_text)
def test_fold_positions_point_into_the_original(text: str) -> None:
    f = fold(text)
    for i in range(len(f.text) + 1):
        assert 0 <= f.origin(i) <= len(text)
    assert [f.origin(i) for i in range(len(f.text))] == sorted({f.origin(i) for i in range(len(f.text))})


def disguise(draw: st.DrawFn, word: str) -> str:
    out = []
    for ch in word:
        choices = [ch, FULLWIDTH.get(ch, ch), CYRILLIC.get(ch, ch), GREEK.get(ch, ch)]
        out.append(draw(st.sampled_from(choices)))
        if draw(st.booleans()):
            out.append(draw(st.sampled_from(INVISIBLES)))
    return "".join(out)


@st.composite
def disguised_keyword(draw: st.DrawFn) -> tuple[str, str]:
    word = draw(st.sampled_from(["ANONIM", "anonim", "Anonim", "RAHASIA", "rahasia", "Anonym"]))
    wrap = draw(st.sampled_from(["{}", "#{}", "[{}]", "({})", "/{}", "{}:"]))
    rest = draw(st.sampled_from(["jalan rusak", "pungli di kantor desa", "lampu mati 3 hari"]))
    return word.casefold(), disguise(draw, wrap.format(word)) + " " + rest


@BUDGET
@given(disguised_keyword())
def test_a_disguised_keyword_is_still_found(case: tuple[str, str]) -> None:
    word, text = case
    flags = extract_privacy_keywords(text)
    assert flags.confidential if word == "rahasia" else flags.anonymous
    assert fold(flags.remaining_text).text.strip() in ("jalan rusak", "pungli di kantor desa", "lampu mati 3 hari")


@st.composite
def disguised_nik(draw: st.DrawFn) -> str:
    digits = draw(st.text(alphabet="0123456789", min_size=16, max_size=16))
    out = []
    for i, d in enumerate(digits):
        out.append(chr(draw(st.sampled_from(DIGIT_SCRIPTS)) + int(d)))
        if i % 4 == 3 and i < 15:
            out.append(draw(st.sampled_from([" ", ".", "-", "/", "_", "", *INVISIBLES])))
        elif draw(st.integers(0, 4)) == 0:
            out.append(draw(st.sampled_from(INVISIBLES)))
    return "".join(out)


@BUDGET
@given(disguised_nik(), st.sampled_from(["NIK saya {} mohon dicek", "{}", "ktp: {}.", "data {} belum ada"]))
def test_a_disguised_nik_is_still_masked(nik: str, template: str) -> None:
    masked = mask_pii(template.format(nik))
    assert not re.search(r"\d", fold(masked).text), masked
