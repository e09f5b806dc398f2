"""WhatsApp's 24-hour window and the update template's parameters, with hostile values."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from channels.social.whatsapp_window import (
    MAX_PARAMETER,
    WINDOW_SECONDS,
    in_window,
    last_time,
    parameter,
    short_status,
    template_payload,
)

NOW = 1_800_000_000.0


def test_the_window_is_24_hours_less_a_margin_and_unknown_is_closed() -> None:
    assert in_window(NOW - 60, NOW) and in_window(NOW - 23 * 3600, NOW)
    assert not in_window(NOW - WINDOW_SECONDS + 60, NOW) and not in_window(NOW - 25 * 3600, NOW)
    assert not in_window(None, NOW)


def test_the_latest_known_time_counts_and_nonsense_is_ignored() -> None:
    assert last_time(None, NOW - 10, NOW - 5) == NOW - 5
    assert last_time("yesterday", True, -3, float("nan"), float("inf"), None) is None


def test_status_words_per_language_and_the_gateways_own_first() -> None:
    assert short_status({"status": "resolved"}, "id") == "selesai"
    assert short_status({"status": "resolved"}, "en") == "resolved"
    assert short_status({"status": "resolved", "status_text": "Selesai ✔"}, "en") == "Selesai ✔"
    assert short_status({"status": "made_up_state"}, "id") == "made up state"


@given(st.text(max_size=300))
def test_a_parameter_is_one_short_line_meta_accepts(text: str) -> None:
    p = parameter(text)
    assert p and len(p) <= MAX_PARAMETER
    assert "\n" not in p and "\t" not in p and "    " not in p and p == p.strip()


@given(st.text(max_size=40), st.text(max_size=200))
def test_the_template_carries_only_the_ticket_and_the_status(ticket: str, status_text: str) -> None:
    body = template_payload("6281200000001", "lapor_update", "id", ticket, short_status({"status_text": status_text}, "id"))
    params = body["template"]["components"][0]["parameters"]
    assert [p["type"] for p in params] == ["text", "text"]
    assert all(p["text"] and "\n" not in p["text"] for p in params)
    assert body["type"] == "template" and "text" not in body
