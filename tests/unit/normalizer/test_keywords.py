"""Privacy keywords at the start of a message, and the 1708 commands."""

from dataclasses import dataclass

import pytest

from normalizer.keywords import Command, extract_privacy_keywords, parse_command

TID = "8082656733"  # valid Damm check digit
TID_TYPO = "8082656734"


@dataclass(frozen=True)
class Case:
    label: str
    given: str
    anonymous: bool = False
    confidential: bool = False
    remaining: str | None = None  # None: unchanged
    command: Command | None = None


CASES = [
    # privacy keywords
    Case("both, upper case", "ANONIM RAHASIA jalan rusak di dpn pasar", True, True, "jalan rusak di dpn pasar"),
    Case("both, other order, commas", "Rahasia, anonim, pungli di kelurahan", True, True, "pungli di kelurahan"),
    Case("colon after the keyword", "anonim: lampu jalan mati", True, False, "lampu jalan mati"),
    Case("hashtag, capitalised", "#Anonim, sampah menumpuk", True, False, "sampah menumpuk"),
    Case("slash command with bot name", "/rahasia@LaporBot guru minta uang", False, True, "guru minta uang"),
    Case("email subject tags", "[RAHASIA] [ANONIM] Pungutan liar", True, True, "Pungutan liar"),
    Case("parenthesised", "(anonim) air PDAM mati", True, False, "air PDAM mati"),
    Case("keyword on its own line", "ANONIM\nJalan berlubang", True, False, "Jalan berlubang"),
    Case("dashes between", "rahasia - anonim - banjir", True, True, "banjir"),
    Case("keyword only", "RAHASIA", False, True, ""),
    Case("English spelling", "anonym: jalan rusak", True, False, "jalan rusak"),
    Case("later in the text does not count", "jalan rusak, saya mau anonim", remaining=None),
    Case("word that only starts like it", "Anonimnya dijamin kan?", remaining=None),
    Case("rahasiakan is not the keyword", "Rahasiakan nama saya ya", remaining=None),
    Case("no keyword", "Lampu jalan mati", remaining=None),
    # commands
    Case("CEK", f"CEK {TID}", command=Command("cek", TID)),
    Case("cek with spaces in the id", "cek 808 265 6733", command=Command("cek", TID)),
    Case("/cek with dashes", "/cek 808-265-673-3", command=Command("cek", TID)),
    Case("STATUS is CEK", f"status {TID}", command=Command("cek", TID)),
    Case("CEK glued to the id", f"cek{TID}", command=Command("cek", TID)),
    Case("CEK with a colon", f"CEK: {TID} terima kasih", command=Command("cek", TID)),
    Case("CEK alone", "CEK", command=Command("cek", error="missing_id")),
    Case("CEK with garbage", "cek abc", command=Command("cek", error="not_digits")),
    Case("CEK with too few digits", "CEK 12345", command=Command("cek", error="wrong_length")),
    Case("CEK with letters in the id", "CEK 80826S6733", command=Command("cek", error="not_digits")),
    Case("CEK with a typo", f"CEK {TID_TYPO}", command=Command("cek", error="bad_check_digit")),
    Case("INFO with text", f"INFO {TID} korban bertambah 2 orang",
         command=Command("info", TID, "korban bertambah 2 orang")),
    Case("/info with spaced id and colon", "/info 808 265 6733: foto menyusul", command=Command("info", TID, "foto menyusul")),
    Case("INFO text starting with a number", f"INFO {TID} 2 orang lagi jatuh", command=Command("info", TID, "2 orang lagi jatuh")),
    Case("INFO without text", f"INFO {TID}", command=Command("info", TID, error="missing_text")),
    Case("INFO with a bad id", "INFO 12345678901 jalan", command=Command("info", error="wrong_length")),
    Case("complaint starting with 'cek'", "Cek dulu jalan di depan rumah saya rusak parah", remaining=None),
    Case("word starting with 'cek'", "Cekungan jalan makin dalam", remaining=None),
    Case("word starting with 'info'", "Informasi jalan rusak", remaining=None),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_keywords(case: Case) -> None:
    flags = extract_privacy_keywords(case.given)
    assert (flags.anonymous, flags.confidential) == (case.anonymous, case.confidential)
    assert flags.remaining_text == (case.given if case.remaining is None else case.remaining)
    command = parse_command(case.given)
    assert command == case.command
    if command and command.error:
        assert command.message_id and command.message_en
    elif command:
        assert command.ok and command.message_id == ""
