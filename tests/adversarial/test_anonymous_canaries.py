"""Canaries: an ANONIM report on each channel gives nothing of its sender away.

Each message is shaped as its channel makes it (sender, reporter fields,
external id, reply context), carries a canary phone, NIK and name in the text,
and is built by ``Normalizer.build``; :func:`tests.adversarial.decode.leaks`
then decodes every value of the forwarded record and tries the obvious hashes.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from channels.message import InboundMessage, PrivacyHint, ReporterInfo
from normalizer.pipeline import Normalizer
from tests.adversarial.decode import leaks

KEY = "canary-test-reporter-key"
PHONE = "6281398765432"  # the sender's own number
OTHER_PHONE = "0857 1122 3344"  # a number the citizen typed
NIK = "3174051203880007"
FIRST, LAST = "Wahyuningsih", "Pratiwi"
NAME = f"{FIRST} {LAST}"
HANDLE = "@wahyu_pratiwi88"
SHORTCODE = "1708"
TS = "1767225600"


def wamid_for(phone: str) -> str:
    """A wamid as WhatsApp sends them: base64 of a protobuf-like blob that embeds the sender's number."""
    blob = b"\x18\x0d" + phone.encode() + b"\x15\x02\x00\x12\x18\x14" + b"3EB0F1C2D3A4B5C6D7E8"
    return "wamid." + base64.b64encode(blob).decode()


def kannel_fallback_id(sender: str, text: str) -> str:
    """What channels/sms/kannel.py gives a message that came without Kannel's own id."""
    digest = hashlib.sha256(b"\0".join([sender.encode(), SHORTCODE.encode(), TS.encode(), text.encode()]))
    return "sha256:" + digest.hexdigest()


SMS_TEXT = f"ANONIM pungli di kelurahan, nama saya {NAME}, NIK {NIK}, hub {OTHER_PHONE}"


@dataclass
class Case:
    label: str
    msg: InboundMessage
    secrets: list[str] = field(default_factory=list)


def _cases() -> list[Case]:
    received = datetime(2026, 1, 1, 7, 0, tzinfo=UTC)
    base_secrets = [PHONE, OTHER_PHONE, NIK, NAME, FIRST, LAST]
    return [
        Case("sms.kannel with Kannel's id", InboundMessage(
            channel="sms.kannel", account=SHORTCODE, external_id="4f1c2a9e-6b1d-4c55-9a7e-0e1f2a3b4c5d",
            sender=PHONE, received_at=received, text=SMS_TEXT, metadata={"smsc": "tsel", "coding": "0"},
        ), base_secrets),
        Case("sms.kannel without an id (fallback hash)", InboundMessage(
            channel="sms.kannel", account=SHORTCODE, external_id=kannel_fallback_id(PHONE, SMS_TEXT),
            sender=PHONE, received_at=received, text=SMS_TEXT, metadata={"smsc": "tsel", "coding": "0"},
        ), base_secrets),
        Case("social.whatsapp (wamid embeds the number)", InboundMessage(
            channel="social.whatsapp", account="106540352242922", external_id=wamid_for(PHONE), sender=PHONE,
            received_at=received, text=f"#anonim jalan rusak. Salam,\n{FIRST}\nNIK {NIK}",
            reporter=ReporterInfo(phone=PHONE, name=NAME),
            reply_context={"to": PHONE, "message_id": wamid_for(PHONE)}, metadata={"wa_type": "text"},
        ), base_secrets),
        Case("social.telegram", InboundMessage(
            channel="social.telegram", account="laporbot", external_id="731204455", sender="5512093311",
            received_at=received, text=f"/anonim guru minta uang. Saya {FIRST}, wa {PHONE}, nik {NIK}",
            reporter=ReporterInfo(name=NAME, handle=HANDLE),
            reply_context={"chat_id": 5512093311, "message_id": 88}, metadata={"chat_type": "private"},
        ), [*base_secrets, HANDLE, "5512093311"]),
        Case("social.x direct message", InboundMessage(
            channel="social.x", account="1499000000000000000", external_id="dm:1861000000000000777",
            sender="1780000000000000042", received_at=received,
            text=f"ANONIM lampu PJU mati. {LAST} ({HANDLE}) 0{PHONE[2:]}",
            reporter=ReporterInfo(name=NAME, handle=HANDLE),
            reply_context={"participant_id": "1780000000000000042"}, metadata={"x_kind": "dm"},
        ), [*base_secrets, HANDLE, "1780000000000000042"]),
        Case("email with display name and a signature", InboundMessage(
            channel="email.imap", account="pengaduan@lapor.example.go.id",
            external_id="CAK9f2ZpQ1mV@mail.example.com", sender="wahyu.pratiwi88@mail.example.com",
            received_at=received, subject=f"[ANONIM] Pungli SIM a.n. {NAME}",
            text=f"Yth. Admin,\nada pungli di samsat.\n\nHormat saya,\n{NAME}\nHP +62 813-9876-5432\nNIK {NIK}",
            reporter=ReporterInfo(name=NAME, email="wahyu.pratiwi88@mail.example.com"),
            privacy=PrivacyHint(anonymous=True, source="keyword"),
            reply_context={"message_id": "<CAK9f2ZpQ1mV@mail.example.com>"},
        ), [*base_secrets, "wahyu.pratiwi88@mail.example.com", "wahyu.pratiwi88"]),
        Case("letters form with the anonymous box ticked", InboundMessage(
            channel="letters.scan", account="box", external_id=hashlib.sha256(b"scan-bytes").hexdigest(),
            received_at=received, subject="Jalan rusak",
            text=f"Jalan rusak di RT 03. Pelapor {NAME}, {NIK}, alamat Jl. Kenanga No. 12 RT 03 RW 07.",
            reporter=ReporterInfo(name=NAME, nik=NIK, phone=PHONE, address="Jl. Kenanga No. 12 RT 03 RW 07"),
            privacy=PrivacyHint(anonymous=True, source="form"),
            reply_context={"printable": True, "kind": "form", "notify": ["sms"]},
        ), [*base_secrets, "Jl. Kenanga No. 12 RT 03 RW 07", "Kenanga"]),
    ]  # fmt: skip


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_anonymous_record_leaks_nothing(case: Case) -> None:
    n = Normalizer(KEY).build(case.msg, complaint_id="0190f3a2-0000-7000-8000-000000000001", tracking_id="8082656733")
    record = n.complaint.model_dump(mode="json")
    assert record["privacy"]["anonymous"] is True
    assert leaks(record, case.secrets, context=[SHORTCODE, TS, SMS_TEXT, case.msg.text]) == []
    # the vault still has what the receipt needs
    assert n.identity["original_body"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_the_helper_sees_the_unprotected_record(case: Case) -> None:
    """Without the normaliser's care (raw id, raw text) the same record would leak: the check has teeth."""
    record = {"external_id": case.msg.external_id, "body": case.msg.text}
    assert leaks(record, case.secrets, context=[SHORTCODE, TS, SMS_TEXT])


def test_identity_derived_ids_are_caught_by_the_helper() -> None:
    assert leaks({"external_id": wamid_for(PHONE)}, [PHONE]) == ["$.external_id: secret #0 as base64"]
    fallback = kannel_fallback_id(PHONE, SMS_TEXT)
    assert leaks({"external_id": fallback}, [PHONE], context=[SHORTCODE, TS, SMS_TEXT]) == [
        "$.external_id: secret #0 as a hash"
    ]


def test_keyed_external_id_is_stable_and_per_message() -> None:
    """The store stays idempotent on the keyed id; two messages never share one; another key gives another."""
    msg = CASES[2].msg
    a, b = Normalizer(KEY), Normalizer("another-key")
    assert a.anonymous_external_id(msg) == a.anonymous_external_id(msg.model_copy())
    assert a.anonymous_external_id(msg) != a.anonymous_external_id(msg.model_copy(update={"external_id": "x"}))
    assert a.anonymous_external_id(msg) != b.anonymous_external_id(msg)


def test_named_report_keeps_its_external_id_but_masks_the_name_in_public() -> None:
    msg = CASES[3].msg.model_copy(update={"text": f"guru minta uang. Saya {FIRST}, wa {PHONE}"})
    c = Normalizer(KEY).build(msg, complaint_id="0190f3a2-0000-7000-8000-000000000002", tracking_id="8082656733")
    assert c.complaint.privacy.anonymous is False
    assert c.complaint.external_id == msg.external_id
    assert FIRST in c.complaint.body
    assert leaks({"body_public": c.complaint.body_public}, [PHONE, FIRST, NAME]) == []
