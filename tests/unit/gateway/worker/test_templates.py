"""Receipt templates: every language has every key; SMS receipts fit one GSM-7 SMS."""

from __future__ import annotations

import pytest

from channels.sms.gsm import is_gsm7, sms_parts
from gateway.worker.templates import Templates

LANGS = ["id", "en"]


def _keys(t: Templates) -> set[tuple[str, str]]:
    return {(section, key) for section, values in t.data.items() for key in values}


def test_languages_have_the_same_keys() -> None:
    assert _keys(Templates("id")) == _keys(Templates("en"))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("key", ["receipt", "receipt_anonymous"])
def test_first_sms_receipt_is_one_gsm7_sms(lang: str, key: str) -> None:
    text = Templates(lang).render("sms", key, tracking_id="1234567890", follow_up_of=None)
    assert is_gsm7(text) and sms_parts(text) == 1, text


@pytest.mark.parametrize("lang", LANGS)
def test_public_replies_carry_only_the_tracking_id(lang: str) -> None:
    t = Templates(lang)
    for key in ("receipt", "private"):
        text = t.render("public", key, tracking_id="1234567890")
        assert "1234567890" in text and "{" not in text
