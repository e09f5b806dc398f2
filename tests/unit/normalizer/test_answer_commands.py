"""``BALAS <id> <text>`` and ``INFO <id> <text>``: the citizen's answer on their complaint, parsed.

Table cases for the forms citizens type, and hypothesis properties: any text parses without raising, a
valid ID in any spelling gives that ID and the text after it, a mistyped ID never gives another ID.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import damm

from normalizer.keywords import Command, parse_command

TID = "8082656733"


@pytest.mark.parametrize(("given_text", "expected"), [
    (f"BALAS {TID} jalan masih rusak", Command("balas", TID, "jalan masih rusak")),
    (f"balas {TID}: jalan masih rusak", Command("balas", TID, "jalan masih rusak")),
    (f"/balas@LaporBot {TID} jalan masih rusak", Command("balas", TID, "jalan masih rusak")),
    (f"BALAS {TID[:3]}-{TID[3:6]}-{TID[6:]} ok", Command("balas", TID, "ok")),
    (f"ＢＡＬＡＳ {TID} ok", Command("balas", TID, "ok")),
    (f"ВАLАS {TID} ok", Command("balas", TID, "ok")),  # Cyrillic В and А
    (f"BA\u200bLAS {TID} ok", Command("balas", TID, "ok")),
    (f"INFO {TID} ok", Command("info", TID, "ok")),
    ("BALAS", Command("balas", error="missing_id")),
    (f"BALAS {TID}", Command("balas", TID, error="missing_text")),
    (f"BALAS {TID[:-1]}4 ok", Command("balas", error="bad_check_digit")),
    ("BALAS 12345 ok", Command("balas", error="wrong_length")),
    ("Balas dendam preman di pasar induk tiap malam", None),  # a complaint that starts with the word
    ("Balasan surat dari kelurahan belum ada", None),
])
def test_forms(given_text: str, expected: Command | None) -> None:
    assert parse_command(given_text) == expected


def test_explanations_name_the_command() -> None:
    assert "BALAS" in Command("balas", error="missing_id").message_id
    assert "BALAS" in Command("balas", TID, error="missing_text").message_en
    assert "INFO" in Command("info", TID, error="missing_text").message_id


def _valid_id(body: int) -> str:
    digits = str(body)
    return digits + damm.calc_check_digit(digits)


ids = st.integers(min_value=10**8, max_value=10**9 - 1).map(_valid_id)
verbs = st.sampled_from(["BALAS", "balas", "Balas", "/balas", "/BALAS", "ВАLАS", "ＢＡＬＡＳ", "INFO", "/info"])
seps = st.sampled_from([" ", "  ", ": ", " #", ", ", " - ", "\n"])
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
answers = st.lists(words, min_size=1, max_size=8).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_without_raising(text: str) -> None:
    for prefix in ("", "BALAS ", "/balas ", "INFO "):
        got = parse_command(prefix + text)
        assert got is None or got.verb in ("cek", "info", "balas")
        if got is not None and got.ok and got.verb != "cek":
            assert got.tracking_id is not None and damm.is_valid(got.tracking_id) and got.text.strip()


@settings(max_examples=300, deadline=None)
@given(verbs, seps, ids, st.sampled_from(["", " ", "-", "."]), answers)
def test_a_valid_id_in_any_spelling_gives_the_id_and_the_text(verb: str, sep: str, tid: str, group: str,
                                                              answer: str) -> None:
    spelled = group.join((tid[:3], tid[3:6], tid[6:]))
    got = parse_command(f"{verb}{sep}{spelled} {answer}")
    assert got == Command("info" if "info" in verb.lower() else "balas", tid, answer)


@settings(max_examples=300, deadline=None)
@given(ids, st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9), answers)
def test_a_mistyped_digit_never_names_another_ticket(tid: str, pos: int, delta: int, answer: str) -> None:
    typo = tid[:pos] + str((int(tid[pos]) + delta) % 10) + tid[pos + 1:]
    got = parse_command(f"BALAS {typo} {answer}")
    assert got is not None and got.error is not None and got.tracking_id is None
