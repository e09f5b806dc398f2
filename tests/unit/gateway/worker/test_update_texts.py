"""The words of an update (issue 15): every channel style names the tracking ID; an SMS is GSM-7 when the
answer allows it and never more than SMS_MAX_PARTS parts, a long answer shortened with where to read it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.sms.gsm import GSM7_BASIC, GSM7_EXTENDED, gsm7_length, is_gsm7, sms_parts
from gateway.worker.templates import Templates
from gateway.worker.update_texts import SMS_MAX_PARTS, UpdateTexts, clean, gsm_fold

TID = "1234567890"
TEXTS = {lang: UpdateTexts(Templates(lang)) for lang in ("id", "en")}
KINDS = ("response", "request_details", "status")


def segments_fit(text: str) -> bool:
    """What the network carries: at most SMS_MAX_PARTS parts of 153 septets (GSM-7) or 67 UTF-16 units."""
    if is_gsm7(text):
        n = gsm7_length(text)
        return n <= 160 or -(-n // 153) <= SMS_MAX_PARTS
    n = len(text.encode("utf-16-be", "surrogatepass")) // 2
    return n <= 70 or -(-n // 67) <= SMS_MAX_PARTS


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=3000), kind=st.sampled_from(KINDS), lang=st.sampled_from(("id", "en")),
       status=st.sampled_from((None, "in_progress", "resolved", "needs_details")))
def test_any_answer_fits_the_sms_limits_and_keeps_the_tracking_id(text, kind, lang, status):
    out = TEXTS[lang].render("sms", kind, TID, status, text).text
    assert TID in out
    assert sms_parts(out) <= SMS_MAX_PARTS and segments_fit(out)
    out.encode("utf-8")  # no lone surrogate reaches the sender


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=GSM7_BASIC.replace("\x1b", "") + GSM7_EXTENDED + "“”‘’–—…\u00a0āīū", max_size=2000))
def test_an_answer_gsm7_can_carry_stays_gsm7(text):
    out = TEXTS["id"].render("sms", "response", TID, "in_progress", text).text
    assert is_gsm7(out)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=500), style=st.sampled_from(("email", "chat", "letter")), kind=st.sampled_from(KINDS))
def test_other_channels_name_the_tracking_id_and_carry_the_whole_answer(text, style, kind):
    out = TEXTS["id"].render(style, kind, TID, "resolved", text)
    assert TID in out.text
    if kind != "status" and clean(text):
        assert clean(text) in out.text
    assert (out.subject is not None and TID in out.subject) == (style == "email")


def test_a_long_answer_is_cut_at_a_word_and_says_where_the_rest_is():
    answer = "Perbaikan jalan dijadwalkan bulan depan setelah anggaran disetujui. " * 40
    out = TEXTS["id"].render("sms", "response", TID, "in_progress", answer).text
    assert sms_parts(out) == SMS_MAX_PARTS
    assert "dipersingkat" in out and "lapor.go.id" in out and out.count(TID) >= 2
    head = out.split("jawaban instansi: ", 1)[1].split(" ...(dipersingkat", 1)[0]
    assert answer.startswith(head) and head.split(" ")[-1] in answer.split(" ")  # whole words only


def test_a_short_answer_is_whole_and_a_status_change_is_named():
    ans = TEXTS["id"].render("sms", "response", TID, "resolved", "Lampu sudah diganti.").text
    assert "Lampu sudah diganti." in ans and "selesai" in ans and "dipersingkat" not in ans
    status = TEXTS["en"].render("sms", "status", TID, "in_progress", "ignored").text
    assert "ignored" not in status and TID in status


@pytest.mark.parametrize(("given_text", "folded"), [
    ("“Ya” – sudah…", '"Ya" - sudah...'),
    ("Jl. Kāliurang", "Jl. Kaliurang"),
    ("café", "café"),  # é is in GSM-7
    ("emoji 😀 stays", "emoji 😀 stays"),  # nothing to gain: UCS-2 anyway
])
def test_gsm_fold(given_text, folded):
    assert gsm_fold(clean(given_text)) == folded


def test_clean_drops_controls_and_bidi_overrides():
    assert clean("a\x00b\u202ec\ud800d\x1be") == "abcde"
