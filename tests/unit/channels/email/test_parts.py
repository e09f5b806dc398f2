"""Small pieces of the email channel: quotes, HTML, tags, thread ids, header scan, rate limit."""

from __future__ import annotations

import pytest

from channels.email.complete import read_privacy_tags
from channels.email.htmltext import html_to_text
from channels.email.mime import scan_message_id
from channels.email.quotes import strip_quotes
from channels.email.send import RateLimiter
from channels.email.thread_ids import (
    damm_valid,
    make_message_id,
    tracking_from_message_ids,
    tracking_from_subject,
)

QUOTES = [
    ("Gmail id", "Jalan rusak.\n\nPada Sen, 3 Mar 2025 pukul 10.12 X <x@y.id> menulis:\n> lama", "Jalan rusak."),
    (
        "Gmail en wrapped",
        "Broken road.\n\nOn Mon, Mar 3, 2025 at 10:12 AM Layanan\n<x@y.id> wrote:\n> old",
        "Broken road.",
    ),
    ("signature", "Air mati.\n-- \nBudi\n0812", "Air mati."),
    ("Outlook block", "Tolong.\n\nFrom: A <a@b.c>\nSent: Monday\nTo: B\nSubject: x\n\nold", "Tolong."),
    ("Outlook id block", "Tolong.\n\nDari: A\nDikirim: Senin\nKepada: B\n\nlama", "Tolong."),
    ("bottom-posting", "On Mon X wrote:\n> question\nJawaban saya di bawah.", "Jawaban saya di bawah."),
    ("mobile footer", "Sampah menumpuk.\n\nDikirim dari iPhone saya", "Sampah menumpuk."),
    ("nothing to strip", "Lampu mati di RT 02.\nSudah 3 hari.", "Lampu mati di RT 02.\nSudah 3 hari."),
]


@pytest.mark.parametrize(("label", "text", "expected"), QUOTES, ids=[q[0] for q in QUOTES])
def test_strip_quotes(label: str, text: str, expected: str) -> None:
    assert strip_quotes(text) == expected


def test_html_to_text_blocks_links_and_quotes() -> None:
    html = (
        "<html><head><style>p{x}</style><title>t</title></head><body><p>Halo&nbsp;pak,</p>"
        '<div>Jalan <b>rusak</b> di <a href="https://maps.example/x">sini</a></div>'
        '<ul><li>satu</li><li>dua</li></ul><div class="gmail_quote">kutipan</div><p>akhir</p></body></html>'
    )
    assert html_to_text(html) == "Halo pak,\n\nJalan rusak di sini (https://maps.example/x)\n\n- satu\n- dua\n\nakhir"


def test_html_to_text_never_raises_on_garbage() -> None:
    assert "teks" in html_to_text("<div><p>teks</b></i><<>>&#xZZ;<script>bad")


@pytest.mark.parametrize(
    ("subject", "body", "anonymous", "confidential", "subject_out", "body_out"),
    [
        ("[ANONIM] Pungli", "isi", True, False, "Pungli", "isi"),
        ("[rahasia][Anonim] Dana desa", "isi", True, True, "Dana desa", "isi"),
        ("Dana desa", "RAHASIA\nisi", False, True, "Dana desa", "isi"),
        ("Dana desa", "[anonim] isi", True, False, "Dana desa", "isi"),
        # the body's grammar is the normaliser's (bare words in any case); a subject's tag needs its brackets
        ("Anonim itu siapa", "anonim saja", True, False, "Anonim itu siapa", "saja"),
        ("Dana desa", "#rahasia, (ANONIM) isi", True, True, "Dana desa", "isi"),
        ("Anonimnya dijamin?", "Anonimnya dijamin? isi", False, False, "Anonimnya dijamin?", "Anonimnya dijamin? isi"),
    ],
)
def test_privacy_tags(
    subject: str, body: str, anonymous: bool, confidential: bool, subject_out: str, body_out: str
) -> None:
    s, b, hint = read_privacy_tags(subject, body)
    assert (s, b.strip()) == (subject_out, body_out)
    if anonymous or confidential:
        assert hint is not None and hint.source == "keyword"
        assert (hint.anonymous, hint.confidential) == (anonymous, confidential)
    else:
        assert hint is None


def test_message_id_scheme_round_trip() -> None:
    mid = make_message_id("4829157367", "lapor.example.go.id")
    assert mid.startswith("<lapor.4829157367.") and mid.endswith("@lapor.example.go.id>")
    assert tracking_from_message_ids(None, f"<a@b> {mid}") == "4829157367"
    assert tracking_from_message_ids("<lapor.4829157368.x@y>") is None  # bad check digit
    assert tracking_from_subject("Re: [LAPOR 4829157367] Jalan") == "4829157367"
    assert tracking_from_subject("Re: [LAPOR 4829157360] Jalan") is None
    assert damm_valid("5724") and not damm_valid("5725")


def test_scan_message_id_reads_only_the_header() -> None:
    raw = b"From: a@b\r\nMessage-ID:\r\n <abc.123@host>\r\n\r\nMessage-ID: <body@x>\r\n"
    assert scan_message_id(raw) == "abc.123@host"
    assert scan_message_id(b"From: a@b\n\nMessage-ID: <body@x>\n") is None
    assert scan_message_id(b"Message-Id: bare-id@host\n\n") == "bare-id@host"


def test_rate_limiter_window() -> None:
    rl = RateLimiter(2, window=3600)
    assert rl.allow("a", 0) and rl.allow("a", 1) and not rl.allow("a", 2)
    assert rl.allow("b", 2)
    assert rl.allow("a", 3601)
