"""The channel harness itself: the .http format, and the checks it adds fail a channel that deserves it."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest

from channels.base import RawRequest, require_signature
from channels.message import InboundMessage, Intake
from channels.signing import sha256_signature
from tests.unit.channels.harness import Case, Check, Signature, Table, expand, parse_http

KEY = "k"
BODY = b'{"from": "6281299990001"}'
log = logging.getLogger("tests.leaky")


def test_http_origin_form() -> None:
    raw = parse_http(b"GET /channels/sms/kannel?from=62812&text=%41 HTTP/1.1\nHost: 127.0.0.1:8080\n\n")
    assert (raw.method, raw.path, raw.query, raw.body, raw.scheme, raw.host) == (
        "GET", "/channels/sms/kannel", b"from=62812&text=%41", b"", "http", "127.0.0.1:8080")
    assert raw.remote == "127.0.0.1"


def test_http_absolute_form_crlf_and_final_newline() -> None:
    raw = parse_http(b"POST https://gw.example.go.id/channels/sms/twilio HTTP/1.1\r\nHost: gw.example.go.id\r\n"
                     b"x-twilio-signature: abc=\r\n\r\nBody=a\n\n")
    assert (raw.scheme, raw.host, raw.path, raw.url) == ("https", "gw.example.go.id", "/channels/sms/twilio",
                                                         "https://gw.example.go.id/channels/sms/twilio")
    assert raw.headers["X-Twilio-Signature"] == "abc="  # names are case-insensitive
    assert raw.body == b"Body=a\n"  # only the file's final newline is dropped


def test_http_hex_body() -> None:
    raw = parse_http(b"POST /p HTTP/1.1\nX-Fixture-Body: hex\nContent-Type: text/plain\n\n00 41 d8 3d\n de 4f\n")
    assert raw.body == b"\x00A\xd8\x3d\xde\x4f" and "X-Fixture-Body" not in raw.headers


class Signed:
    name = "sms.test"
    path = "/p"

    def __init__(self, checks: bool = True, leaks: bool = False, fresh_ids: bool = False) -> None:
        self.checks, self.leaks, self.fresh_ids = checks, leaks, fresh_ids

    def parse(self, raw: RawRequest) -> Intake:
        if self.checks:
            require_signature(sha256_signature(KEY, raw.body), raw.headers.get("X-Signature"))
        if self.leaks:
            log.debug("sms from %s", "6281299990001")
        ext = str(uuid.uuid4()) if self.fresh_ids else "m1"
        return Intake(messages=[InboundMessage(channel=self.name, account="1708", external_id=ext,
                                               sender="6281299990001")])


def table(tmp_path: Path, channel: Signed) -> Table:
    (tmp_path / "mo__x.http").write_bytes(b"POST /p HTTP/1.1\nX-Signature: " + sha256_signature(KEY, BODY).encode()
                                          + b"\n\n" + BODY + b"\n")
    return Table(channel, [Case("x", "mo__x", sender="6281299990001")], signature=Signature(header="X-Signature"),
                 fixtures=tmp_path)


def run(t: Table, what: str, caplog: pytest.LogCaptureFixture) -> None:
    Check(t, t.cases[0], what).run(caplog)


def test_a_good_channel_passes_every_check(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    t = table(tmp_path, Signed())
    assert [p.id for p in expand(t)] == ["x", "x / bad signature refused", "x / replay, same external id",
                                         "x / no canary in logs"]
    for p in expand(t):
        p.values[0].run(caplog)


def test_a_channel_that_ignores_the_signature_fails(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
        run(table(tmp_path, Signed(checks=False)), "bad signature", caplog)


def test_a_channel_that_logs_the_sender_fails(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(AssertionError, match="leaked into the logs"):
        run(table(tmp_path, Signed(leaks=True)), "canaries", caplog)


def test_a_channel_with_a_new_id_each_time_fails(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(AssertionError):
        run(table(tmp_path, Signed(fresh_ids=True)), "replay", caplog)


def test_no_signature_check_for_a_case_about_the_signature(tmp_path: Path) -> None:
    t = table(tmp_path, Signed())
    t = Table(t.channel, [Case("refused", "mo__x", rejected=403)], signature=t.signature, fixtures=tmp_path)
    assert [p.id for p in expand(t)] == ["refused", "refused / no canary in logs"]
