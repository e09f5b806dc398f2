"""channels.phone: the one phone rule, in its general and its mobile-only (a letter's form) forms."""

from __future__ import annotations

import pytest

from channels.phone import normalize_phone

CASES = [
    # (given, general, mobile only)
    ("0812-3456-7890", "6281234567890", "6281234567890"),
    ("+62 (0)812 3456 7890", "6281234567890", "6281234567890"),
    ("0062 812 3456 7890", "6281234567890", "6281234567890"),
    ("81234567890", None, "6281234567890"),  # a form's box after a printed "+62" / "0"
    ("(021) 765-4321", "62217654321", None),  # a landline is not a mobile
    ("+1 415 555 0100", "14155550100", None),
    ("0812-345", None, None),
    ("", None, None),
    ("nomor", None, None),
]


@pytest.mark.parametrize(("given", "general", "mobile"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_normalize_phone(given: str, general: str | None, mobile: str | None) -> None:
    assert normalize_phone(given) == general
    assert normalize_phone(given, mobile=True) == mobile
