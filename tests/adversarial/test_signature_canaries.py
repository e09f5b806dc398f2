"""Canaries: an anonymous reporter's closing signature ("Salam,\\nBudi S.\\nJl. Melati No. 7") is not forwarded.

The name was masked word by word (``[NAMA] S.``) and the street address went out in clear. Checked,
decoded (:func:`tests.adversarial.decode.leaks`), on the forwarded record for a mail, an SMS and a
Telegram text, and on the citizen response an anonymous reporter's answer in the thread posts. The
complaint's own place ("di depan SDN 3 Jl. Cempaka") stays; a named reporter's body keeps its signature
(the agency may call them), their ``body_public`` does not carry it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from channels.message import InboundMessage, PrivacyHint, ReporterInfo
from normalizer.pipeline import Normalizer
from tests.adversarial.decode import leaks
from tests.unit.gateway.worker.test_answers import Rig

KEY = "signature-canary-key"
MAIL = "budi.kanari@mail.example.com"
PHONE = "6281377712345"
PLACE = "di depan SDN 3 Jl. Cempaka"
COMPLAINT = f"Jalan rusak parah {PLACE}, lubangnya dalam dan dua motor sudah jatuh."
SIGNATURE = "Salam,\nBudi S.\nJl. Melati No. 7\n0813-7771-2345"
SECRETS = ["Budi", "Melati", "Jl. Melati No. 7", "Budi S.", MAIL, PHONE]
RECEIVED = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)


def _mail(text: str, anonymous_tag: bool = True) -> InboundMessage:
    return InboundMessage(channel="email.imap", account="pengaduan@lapor.example.go.id", external_id="<a1@m>",
                          sender=MAIL, received_at=RECEIVED, subject="[ANONIM] Jalan rusak" if anonymous_tag else
                          "Jalan rusak", text=text, reporter=ReporterInfo(name="Budi Santoso", email=MAIL),
                          privacy=PrivacyHint(anonymous=True, source="keyword") if anonymous_tag else None)


CASES = {
    "email tagged [ANONIM]": _mail(f"{COMPLAINT}\n\n{SIGNATURE}"),
    "email asking in words": _mail(f"Jangan sebut nama saya.\n{COMPLAINT}\n\n{SIGNATURE}", anonymous_tag=False),
    "email, valediction set apart": _mail(f"{COMPLAINT}\n\nHormat saya,\n\nBudi S.\nJl. Melati No. 7"),
    "email, -- delimiter": _mail(f"{COMPLAINT}\n-- \nBudi S.\nJl. Melati No. 7"),
    "sms": InboundMessage(channel="sms.kannel", account="1708", external_id="k1", sender=PHONE,
                          received_at=RECEIVED, text=f"ANONIM {COMPLAINT}\n{SIGNATURE}"),
    "telegram": InboundMessage(channel="social.telegram", account="bot", external_id="9", sender="5512093311",
                               received_at=RECEIVED, text=f"/anonim {COMPLAINT}\nTerima kasih.\nBudi\nJl. Melati No. 7",
                               reporter=ReporterInfo(handle="@budi_k"),
                               reply_context={"chat_id": 5512093311, "message_id": 3}),
}


@pytest.mark.parametrize("label", list(CASES))
def test_an_anonymous_signature_is_not_forwarded(label: str) -> None:
    msg = CASES[label]
    n = Normalizer(KEY).build(msg, complaint_id="0190f3a2-0000-7000-8000-0000000000a1", tracking_id="8082656733")
    record = n.complaint.model_dump(mode="json")
    assert record["privacy"]["anonymous"] is True
    assert leaks(record, SECRETS, context=[msg.text]) == []
    assert PLACE in record["body"] and PLACE in record["body_public"]  # the complaint's place is not the reporter's
    assert "[NAMA] S." not in record["body"]
    assert "Jl. Melati" in n.identity["original_body"]  # the sealed vault keeps what they wrote


def test_the_check_has_teeth() -> None:
    assert leaks({"body": CASES["email tagged [ANONIM]"].text}, SECRETS)


def test_a_named_reporters_signature_stays_in_the_body_not_in_public() -> None:
    msg = _mail(f"{COMPLAINT}\n\n{SIGNATURE}", anonymous_tag=False)
    c = Normalizer(KEY).build(msg, complaint_id="0190f3a2-0000-7000-8000-0000000000a2", tracking_id="8082656733")
    assert c.complaint.privacy.anonymous is False
    assert c.complaint.body.endswith("Jl. Melati No. 7\n0813-7771-2345")
    assert leaks({"body_public": c.complaint.body_public}, SECRETS) == []
    assert PLACE in (c.complaint.body_public or "")


@pytest.fixture
def rig(tmp_path: Path) -> Any:
    r = Rig(tmp_path)
    yield r
    r.journal.close()


@pytest.mark.parametrize("answer", [
    f"Sampai sekarang belum diperbaiki, {PLACE}.\n\n{SIGNATURE}",
    "Sampai sekarang belum diperbaiki.\nTerima kasih.\nBudi\nJl. Melati No. 7",
    "Sampai sekarang belum diperbaiki.\n-- \nBudi S.\nJl. Melati No. 7",
])
def test_an_anonymous_reporters_answer_in_the_thread_posts_no_signature(rig: Rig, answer: str) -> None:
    kw: dict[str, Any] = dict(channel="email.smtp", sender=MAIL, account="lapor",
                              reporter=ReporterInfo(name="Budi Santoso", email=MAIL))
    tid = rig.complaint(f"ANONIM {COMPLAINT}", **kw)
    assert rig.complaints()[tid]["record"]["privacy"]["anonymous"] is True
    rig.send(answer, kind="reply", related=tid, **kw)
    (resp,) = rig.journal.responses_for(tid)
    assert resp["text"].startswith("Sampai sekarang belum diperbaiki")
    assert leaks(dict(resp), SECRETS, context=[answer]) == []


def test_a_named_reporters_answer_keeps_its_text(rig: Rig) -> None:
    kw: dict[str, Any] = dict(channel="email.smtp", sender=MAIL, account="lapor")
    tid = rig.complaint(COMPLAINT, **kw)
    rig.send(f"Belum diperbaiki.\n\n{SIGNATURE}", kind="reply", related=tid, **kw)
    assert [r["text"] for r in rig.journal.responses_for(tid)] == [f"Belum diperbaiki.\n\n{SIGNATURE}"]
