"""Kannel's get-url/post-url MO and its delivery reports: tables over ``fixtures/kannel/*.http``."""

from __future__ import annotations

from functools import partial

import pytest

from channels.message import Intake
from channels.sms.kannel import KannelAuth, KannelChannel, KannelDlrChannel
from tests.unit.channels.harness import Case, Check, Signature, Table, cases

NUMBER = "6281234567890"
MO = partial(Case, sender=NUMBER, canaries=(NUMBER,))
KANNEL_ID = "4deef49a-2f01-4132-8c3a-17796e836e71"
JOINED = ("Jalan berlubang di Jl. Merdeka depan SDN 3 sudah 3 bulan tidak diperbaiki, sudah ada 2 motor jatuh "
          "minggu ini. Mohon segera ditambal sebelum musim hujan, warga RT 04 RW 02 Kel. Sukamaju sudah resah.")

# no shared secret: only the Kannel on this host (loopback) may call
OPEN = Table(KannelChannel(KannelAuth(None, [])), [
    MO("GSM-7 text via get-url", "mo__gsm7", text="Jalan rusak di depan SDN 3", external_id=KANNEL_ID,
       account="1708", metadata={"smsc": "fakemo", "coding": "0"}),
    MO("reply body is empty: receipts go by sendsms", "mo__gsm7", body=""),
    MO("UCS-2 arrives as UTF-16BE", "mo__ucs2", text="Banjir 😭 café", metadata={"coding": "2"}),
    MO("raw UTF-8 in a 7-bit message", "mo__utf8_in_7bit", text="Sampah — pasar"),
    MO("8-bit binary that is UTF-8", "mo__8bit_utf8", text="tolong ñ"),
    MO("two parts joined by Kannel: one message", "mo__concat_2of2", text=JOINED,
       external_id="9a1c2b3d-0000-4000-8000-00000000c2c2"),
    MO("empty text is accepted (answered with a request for details)", "mo__empty", text=""),
    MO("odd UTF-16 bytes", "mo__odd_utf16", rejected=400, reason="UTF-16BE"),
    MO("invalid UTF-8", "mo__invalid_utf8", rejected=400, reason="UTF-8"),
    MO("unknown charset", "mo__unknown_charset", rejected=400, reason="charset"),
    MO("no sender", "mo__no_sender", rejected=400, reason="from"),
    MO("no text", "mo__no_text", rejected=400, reason="text"),
    MO("POST body with charset in Content-Type", "mo__post_ucs2", text="Lampu mati 🙏", external_id="p1"),
    MO("a caller that is not loopback", "mo__gsm7", remote="192.0.2.7", rejected=403, reason="source"),
], canaries=(NUMBER,))

SECRET = Table(KannelChannel(KannelAuth("s3cret", ["127.0.0.1"])), [
    MO("shared secret missing", "mo__no_secret", rejected=403, reason="secret"),
    MO("shared secret right", "mo__with_secret", text="abc"),
], signature=Signature(param="secret"), canaries=(NUMBER,))



def status_alone(intake: Intake) -> None:
    assert intake.messages[0].metadata == {"status": "delivered"}


DLR = Table(KannelDlrChannel(KannelAuth(None, [])), [
    Case("DLR becomes a status record", "dlr__delivered", kind="status", related="abc", external_id="abc:1",
         account="dlr", sender=None, check=status_alone),
    Case("failed DLR", "dlr__failed", kind="status", related="rcpt-7f3a", metadata={"status": "failed"}),
])


@cases(OPEN, SECRET, DLR)
def test_kannel(check: Check, caplog: pytest.LogCaptureFixture) -> None:
    check.run(caplog)
