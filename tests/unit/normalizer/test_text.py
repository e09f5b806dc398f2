"""Text cleanup: whitespace, control characters, duplicated SMS concatenation, substance."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from normalizer.text import clean_text, collapse_duplicated_concatenation, is_substantive, strip_greeting_only, words

LONG = (
    "Jalan rusak parah di depan SDN 3 Cibeureum, sudah 3 bulan tidak diperbaiki. Mohon segera ditindaklanjuti "
    "karena sudah banyak korban jatuh dari motor terutama malam hari karena lampu jalan juga mati. Terima kasih."
)
FIRST_PART = LONG[:153]


@dataclass(frozen=True)
class Case:
    label: str
    fn: Callable[[str], Any]
    given: str
    expected: Any


CASES = [
    # clean_text
    Case("CRLF and CR become LF", clean_text, "baris satu\r\nbaris dua\rbaris tiga", "baris satu\nbaris dua\nbaris tiga"),
    Case("runs of spaces and tabs collapse", clean_text, "jalan  \t rusak\u00a0\u00a0parah", "jalan rusak parah"),
    Case("control characters go, newline stays", clean_text, "lampu\x00 mati\x07\nRT\x1b 05", "lampu mati\nRT 05"),
    Case("zero-width space and BOM go", clean_text, "\ufeffban\u200bjir", "banjir"),
    Case("at most two blank lines", clean_text, "a\n\n\n\n\n\nb\n\nc", "a\n\n\nb\n\nc"),
    Case("trimmed, lines too", clean_text, "  \n  Yth. Bapak  \n  isi  \n\n", "Yth. Bapak\nisi"),
    Case("NFC: decomposed e-acute composes", clean_text, "cafe\u0301", "caf\u00e9"),
    Case("emoji with ZWJ kept", clean_text, "banjir 👨\u200d👩\u200d👧 😭", "banjir 👨\u200d👩\u200d👧 😭"),
    Case("empty stays empty", clean_text, "", ""),
    # collapse_duplicated_concatenation
    Case("first part repeated before the full text", collapse_duplicated_concatenation, FIRST_PART + LONG, LONG),
    Case("first part repeated, space between", collapse_duplicated_concatenation, FIRST_PART + " " + LONG, LONG),
    Case("whole text twice", collapse_duplicated_concatenation, LONG + LONG, LONG),
    Case("whole text twice with a newline", collapse_duplicated_concatenation, LONG + "\n" + LONG, LONG),
    Case("three copies", collapse_duplicated_concatenation, LONG + LONG + LONG, LONG),
    Case("legit short repetition kept", collapse_duplicated_concatenation, "tolong tolong jalan rusak", "tolong tolong jalan rusak"),
    Case("short text twice kept (below 40 chars)", collapse_duplicated_concatenation, "lampu mati lampu mati", "lampu mati lampu mati"),
    Case("repeat not at the start kept", collapse_duplicated_concatenation, "Laporan: " + LONG + " " + LONG[:60], "Laporan: " + LONG + " " + LONG[:60]),
    Case("plain long text untouched", collapse_duplicated_concatenation, LONG, LONG),
    # is_substantive / strip_greeting_only
    Case("empty is not substantive", is_substantive, "", False),
    Case("halo", is_substantive, "halo", False),
    Case("stretched greeting", is_substantive, "Haloooo min!!", False),
    Case("test ping", is_substantive, "tes", False),
    Case("single p", is_substantive, "p", False),
    Case("PING in caps", is_substantive, "PING", False),
    Case("salam only", is_substantive, "Assalamualaikum wr wb", False),
    Case("punctuation only", is_substantive, "?!...", False),
    Case("emoji only", is_substantive, "🙏🙏😭", False),
    Case("wants to report but says nothing", is_substantive, "selamat pagi pak, saya mau lapor", False),
    Case("one real word", is_substantive, "banjir", True),
    Case("greeting then a complaint", is_substantive, "Halo min, jln rusak di dpn pasar", True),
    Case("greeting stripped to empty", strip_greeting_only, "halo min 🙏", ""),
    Case("complaint kept as is", strip_greeting_only, "Halo, lampu jalan mati", "Halo, lampu jalan mati"),
    # words
    Case("SMS shorthand expanded", words, "Jln rusak yg di dpn, sdh 3 bln tdk diperbaiki",
         ["jalan", "rusak", "yang", "di", "depan", "sudah", "3", "bulan", "tidak", "diperbaiki"]),
    Case("stretched letters and reduplication", words, "Rusakkk!! syarat2 sdh lengkap", ["rusak", "syarat", "sudah", "lengkap"]),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_text(case: Case) -> None:
    assert case.fn(case.given) == case.expected


def test_clean_then_collapse_pipeline_order() -> None:
    sent = (FIRST_PART + "\r\n" + LONG).replace(" ", "  ")
    assert collapse_duplicated_concatenation(clean_text(sent)) == LONG
