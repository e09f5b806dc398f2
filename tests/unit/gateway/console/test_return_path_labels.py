"""The return path's intake-log states in a clerk's words (issue 15): the log page, a complaint's timeline and the
log's state filter showed 'update_queued', 'citizen_response', 'answer_refused' as they are."""

from __future__ import annotations

import pytest

from gateway.console.i18n import STATES, state_label

RETURN_PATH_STATES = [
    "update_queued", "update_sent", "update_failed", "update_rate_limited", "citizen_response",
    "response_forwarded", "response_dead_letter", "response_rate_limited", "response_rejected",
    "retry_held_response", "answer_refused", "held_for_review", "status_query", "help", "held_sent",
    "details_sent", "details_received", "waiting_for_details",
]


@pytest.mark.parametrize("state", RETURN_PATH_STATES)
def test_each_return_path_state_has_words_in_both_languages(state: str) -> None:
    words_id, words_en = state_label(state, "id"), state_label(state, "en")
    assert words_id and words_en and words_id != words_en
    assert state not in (words_id, words_en)  # not the code again
    assert state in STATES  # so the log's state filter offers it too


def test_waiting_for_details_reads_apart_from_awaiting_details() -> None:
    """Both were 'Menunggu rincian' in the log's state filter: one is the event of asking, one the state."""
    from gateway.console.words import reason_words

    assert state_label("waiting_for_details", "id") != state_label("awaiting_details", "id")
    assert reason_words("waiting_for_details", "id") == "Menunggu rincian dari pelapor"
