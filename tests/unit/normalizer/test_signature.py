"""The closing signature block (normalizer.signature): what is cut, what never is, and its properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normalizer.signature import strip_signature

COMPLAINT = "Jalan rusak di depan SDN 3, lubangnya dalam dan sudah dua motor jatuh minggu ini."


@pytest.mark.parametrize("closing", [
    "Salam,\nBudi S.\nJl. Melati No. 7",
    "Salam, Budi S.",
    "Hormat saya,\nBudi Santoso\nKetua RT 05 RW 02\n0812-3456-7890",
    "Hormat kami,\nWarga Perum Griya Asri Blok C",
    "Terima kasih.\nBudi\nJl. Melati 7",
    "Terima kasih atas perhatiannya.\nBudi S.",
    "Wassalam,\nBudi",
    "Wassalamualaikum Wr. Wb.\nBudi Santoso",
    "Regards,\nBudi Santoso\nbudi.s@mail.example.com",
    "Best regards,\nBudi",
    "Thanks,\nBudi",
    "Sincerely,\nBudi Santoso\n12 Melati Street",
    "Cheers,\nBudi",
    "-- \nBudi Santoso\n+62 812 3456 7890",
    "Dikirim dari iPhone saya",
    "Sent from my Android",
    "Get Outlook for iOS",
    "Terima kasih.\nSalam,\nBudi",
])
def test_a_closing_block_is_cut(closing: str) -> None:
    assert strip_signature(f"{COMPLAINT}\n{closing}") == COMPLAINT
    assert strip_signature(f"{COMPLAINT}\n\n{closing}\n\n") == COMPLAINT


def test_under_a_valediction_set_apart_only_the_block_goes() -> None:
    text = f"{COMPLAINT}\n\nHormat saya,\n\nBudi S.\nJl. Melati No. 7"
    assert strip_signature(text) == f"{COMPLAINT}\n\nHormat saya,"


@pytest.mark.parametrize("text", [
    COMPLAINT,
    f"{COMPLAINT}\nTerima kasih.",  # names nobody
    f"{COMPLAINT}\nTerima kasih.\nTolong segera ditangani sebelum ada korban.",  # a sentence, not a name
    f"{COMPLAINT}\nTerima kasih.\nLokasi: Jl. Melati No. 7",  # the complaint's place
    f"{COMPLAINT}\nSalam,\ndi depan SDN 3 Jl. Cempaka",
    f"{COMPLAINT}\nTerima kasih pak lurah sudah menambal sebagian, tapi sisanya masih berlubang dalam.",
    f"{COMPLAINT} Salam, Budi",  # mid-line: not a block of its own
    f"Salam sejahtera, saya mau lapor.\n{COMPLAINT}\nMohon ditindaklanjuti segera oleh dinas terkait.",
    f"{COMPLAINT}\nThanks for fixing the light last week",
    f"Terima kasih.\nBudi\n\n{COMPLAINT}",  # a closing above the last paragraph is not the end
    f"{COMPLAINT}\nSalam,\n" + "\n".join(f"Baris {i}" for i in range(10)),  # too many lines to be a signature
    f"{COMPLAINT}\n\nAlamat kejadian:\n\nJl. Melati No. 7",
])
def test_the_complaint_is_never_cut(text: str) -> None:
    assert strip_signature(text) == text


def _last_block_start(text: str) -> int:
    """The length of the text before its last blank-line-separated block, trailing blanks dropped."""
    lines = text.split("\n")
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and lines[start - 1].strip():
        start -= 1
    return len("\n".join(lines[:start]).rstrip())


WORDS = st.sampled_from([
    "Salam", "Salam,", "Hormat saya,", "Terima kasih.", "Regards,", "Thanks", "--", "-- ", "Sent from my iPhone",
    "Budi", "S.", "Jl.", "Melati", "No. 7", "RT", "05", "0812 3456 7890", "jalan", "rusak", "di", "depan", "SDN",
    "lampu", "mati", "tolong", "Lokasi:", "?", "!", ",", "", " ", "\t", "\r", "Wassalam", "ttd", "é", "\u200b",
])
LINE = st.lists(WORDS, max_size=8).map(" ".join)
TEXT = st.one_of(st.lists(LINE, max_size=14).map("\n".join), st.text(max_size=300))


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_properties(text: str) -> None:
    out = strip_signature(text)
    assert text.startswith(out)  # a prefix of the original
    assert out in ("", text) or text[len(out)] == "\n"  # cut at a line boundary
    assert len(out) >= _last_block_start(text)  # never into the body before the last block
    assert strip_signature(out) == out or len(strip_signature(out)) >= _last_block_start(out)


def test_a_long_run_of_valedictions_looks_at_the_last_lines_only() -> None:
    text = "Salam,\n" * 50_000 + "Budi"
    out = strip_signature(text)
    assert text.startswith(out) and out.count("\n") >= 50_000 - 10


def test_a_megabyte_line_after_a_valediction_is_a_paragraph() -> None:
    text = f"{COMPLAINT}\nSalam,\n" + "Budi " * 200_000
    assert strip_signature(text) == text
    assert strip_signature("Terima kasih " * 200_000) == "Terima kasih " * 200_000
