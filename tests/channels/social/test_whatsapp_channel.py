"""WhatsApp Cloud API: webhook table, verification, signatures; media, replies and token check against the fake Graph."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from channels.base import OutboundReceipt
from channels.message import ChannelError, PeerUnavailable, Rejected
from channels.social.whatsapp import WhatsappChannel
from channels.social.whatsapp_graph import GraphApi, WhatsappMedia, WhatsappReceiptSender, check_graph
from gateway.store.blobs import BlobStore
from tests.channels.social.helpers import fixture_bytes, raw_get, raw_post
from tests.fakes import FakeGraph

APP_SECRET = "fake-app-secret"
VERIFY = "verify-me-123"
CHANNEL = WhatsappChannel(VERIFY, APP_SECRET)
NUMBER_ID = "106540352242922"
WA_ID = "6281299990001"


def post(name: str, signature: str | None = "good", body: bytes | None = None) -> Any:
    body = body if body is not None else fixture_bytes("whatsapp", name)
    headers = {}
    if signature == "good":
        headers["X-Hub-Signature-256"] = FakeGraph(app_secret=APP_SECRET).sign(body)[1]
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return CHANNEL.parse(raw_post(CHANNEL.path, body, headers))


@dataclass
class Case:
    label: str
    fixture: str
    texts: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    status: bool = False
    count: int = 1
    related: str | None = None  # the reply a status is about (checked when given)


CASES = [
    Case("text", "messages__text", ["Air PDAM mati 3 hari di Perum Griya Asri"], {"wa_type": "text"}),
    Case("image with caption: media named for later", "messages__image_caption", ["Jembatan retak"],
         {"media": [{"kind": "image", "id": "1003383421387256", "mime_type": "image/jpeg",
                     "sha256": "HgsqVOXLdAbmGDmz8aRNCp6sK3jxbWWoWN7lA9TrRVM=", "file_name": None}]}),
    Case("document with file name", "messages__document", ["bukti pungutan"], {"wa_type": "document"}),
    Case("location", "messages__location", ["Alun-alun Bandung Jl. Asia Afrika"],
         {"location": {"lat": -6.914744, "lon": 107.60981}}),
    Case("reply to our receipt", "messages__reply_context", ["INFO 4820193746 sekarang airnya keruh"],
         {"in_reply_to": "wamid.HBgLNjI4MTIzNDU2Nzg5FQIAERgS000001"}),
    Case("reaction: nothing to store", "messages__reaction", count=0),
    Case("two messages in one delivery", "messages__two_in_one", ["Sampah menumpuk", "di pasar baru"], count=2),
    Case("delivery status", "statuses__delivered", status=True,
         metadata={"status": "delivered"}, related="wamid.HBgLNjI4MTIzNDU2Nzg5FQIAERgS000001"),
    Case("failed status keeps code and title only", "statuses__failed", status=True,
         metadata={"status": "failed", "errors": [{"code": 131047, "title": "Re-engagement message"}]}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_whatsapp_webhook(case: Case) -> None:
    intake = post(case.fixture)
    assert intake.status == 200
    assert len(intake.messages) == case.count
    for msg in intake.messages:
        assert (msg.channel, msg.account) == ("social.whatsapp", NUMBER_ID)
        if case.status:
            assert msg.sender is None and msg.reporter.is_empty()
            assert msg.kind == "status" and msg.related
            assert case.related is None or msg.related == case.related
            assert msg.external_id == f"{msg.related}:{msg.metadata['status']}"
        else:
            assert msg.external_id.startswith("wamid.")
            assert (msg.kind, msg.related) == ("complaint", None)
            assert (msg.sender, msg.reporter.phone, msg.reporter.name) == (WA_ID, WA_ID, "Siti Kanari")
            assert msg.reply_context == {"to": WA_ID, "message_id": msg.external_id}
            assert msg.received_at.timestamp() == 1732512000
    if case.texts:
        assert [m.text for m in intake.messages] == case.texts
    if case.count:
        assert intake.messages[0].metadata.items() >= case.metadata.items()


@pytest.mark.parametrize("signature", [None, "", "sha256=00", "sha1=abc", "sha256=" + "a" * 64],
                         ids=["missing", "empty", "short", "other scheme", "wrong"])
def test_bad_signature_is_403(signature: str | None) -> None:
    with pytest.raises(Rejected) as err:
        post("messages__text", signature)
    assert err.value.status == 403


def test_signature_covers_the_exact_bytes() -> None:
    body = fixture_bytes("whatsapp", "messages__text")
    sig = FakeGraph(app_secret=APP_SECRET).sign(body)[1]
    with pytest.raises(Rejected):
        CHANNEL.parse(raw_post(CHANNEL.path, body.replace(b"3 hari", b"4 hari"), {"X-Hub-Signature-256": sig}))


def test_replay_has_the_same_external_id() -> None:
    assert post("messages__text").messages[0].external_id == post("messages__text").messages[0].external_id


@pytest.mark.parametrize("body", [b"{", b"[]", b'{"entry": 3}'], ids=["not json", "a list", "entry not a list"])
def test_malformed_but_signed_is_400(body: bytes) -> None:
    with pytest.raises(Rejected) as err:
        post("", body=body)
    assert err.value.status == 400


def test_verification_echoes_the_challenge() -> None:
    intake = CHANNEL.parse(raw_get(CHANNEL.path, f"hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1158201444"))
    assert (intake.status, intake.body, intake.messages) == (200, "1158201444", [])


@pytest.mark.parametrize("query", [
    "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
    "hub.mode=unsubscribe&hub.verify_token=verify-me-123&hub.challenge=1",
    "hub.mode=subscribe&hub.challenge=1",
    "",
], ids=["wrong token", "wrong mode", "no token", "nothing"])
def test_verification_refused(query: str) -> None:
    with pytest.raises(Rejected) as err:
        CHANNEL.parse(raw_get(CHANNEL.path, query))
    assert err.value.status == 403


@pytest.fixture
async def fake():
    async with FakeGraph(app_secret=APP_SECRET) as fake:
        yield fake


def graph_for(fake: FakeGraph, token: str | None = None) -> GraphApi:
    return GraphApi(token or fake.access_token, fake.phone_number_id, fake.base_url)


async def test_image_is_downloaded_into_the_blob_store(fake: FakeGraph, tmp_path: Path) -> None:
    image = b"\xff\xd8\xff" + b"jembatan" * 500
    fake.add_media("1003383421387256", image)
    [msg] = post("messages__image_caption").messages
    graph = graph_for(fake)
    blobs = BlobStore(tmp_path / "blobs")
    try:
        done = await WhatsappMedia(graph, blobs, 100_000).complete(msg)
    finally:
        await graph.close()
    [att] = done.attachments
    assert (att.media_type, att.size) == ("image/jpeg", len(image))
    assert blobs.get(att.sha256) == image
    assert done.text == "Jembatan retak"
    downloads = [r for r in fake.requests if r.path.startswith("/media-download/")]
    assert downloads[0].headers["Authorization"] == f"Bearer {fake.access_token}"


async def test_media_over_the_limit_keeps_the_message(fake: FakeGraph, tmp_path: Path) -> None:
    fake.add_media("1003383421387257", b"%PDF" + b"x" * 5000, "application/pdf")
    [msg] = post("messages__document").messages
    graph = graph_for(fake)
    try:
        done = await WhatsappMedia(graph, BlobStore(tmp_path / "b"), 1000).complete(msg)
    finally:
        await graph.close()
    assert done.attachments == [] and done.text == "bukti pungutan"
    assert "over the 1000 byte limit" in done.metadata["attachment_errors"][0]
    assert not any(r.path.startswith("/media-download/") for r in fake.requests)  # refused by its declared size


async def test_unknown_media_is_noted_not_retried(fake: FakeGraph, tmp_path: Path) -> None:
    [msg] = post("messages__image_caption").messages
    graph = graph_for(fake)
    try:
        done = await WhatsappMedia(graph, BlobStore(tmp_path / "b"), 100_000).complete(msg)
    finally:
        await graph.close()
    assert done.attachments == [] and "Graph API refused (400, code 100)" in done.metadata["attachment_errors"][0]


async def test_receipt_goes_to_the_messages_endpoint(fake: FakeGraph) -> None:
    graph = graph_for(fake)
    receipt = OutboundReceipt(channel="social.whatsapp", account=NUMBER_ID, to=WA_ID,
                              text="Laporan diterima. Nomor pelacakan: 4820193746",
                              reply_context={"to": WA_ID, "message_id": "wamid.ABC"})
    try:
        wamid = await WhatsappReceiptSender(graph).send(receipt)
    finally:
        await graph.close()
    assert fake.sent_messages == [{
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID, "type": "text",
        "text": {"preview_url": False, "body": "Laporan diterima. Nomor pelacakan: 4820193746"},
        "context": {"message_id": "wamid.ABC"},
    }]
    [req] = [r for r in fake.requests if r.path.endswith("/messages")]
    assert req.path == f"/v21.0/{NUMBER_ID}/messages"
    assert req.headers["Authorization"] == f"Bearer {fake.access_token}"
    assert json.loads(req.body)["to"] == WA_ID
    assert wamid.startswith("wamid.")


@pytest.mark.parametrize(("status", "code", "error"), [
    (400, 131047, Rejected),  # more than 24 h since the citizen wrote
    (429, 130429, PeerUnavailable),
    (500, 131000, PeerUnavailable),
    (400, 131056, PeerUnavailable),  # pair rate limit
])
async def test_receipt_errors(fake: FakeGraph, status: int, code: int, error: type) -> None:
    fake.fail_next_send(status, code, f"message mentioning {WA_ID}")
    graph = graph_for(fake)
    try:
        with pytest.raises(error) as err:
            await WhatsappReceiptSender(graph).send(
                OutboundReceipt(channel="social.whatsapp", account=NUMBER_ID, to=WA_ID, text="x"))
    finally:
        await graph.close()
    assert WA_ID not in str(err.value)


async def test_check(fake: FakeGraph) -> None:
    good, bad = graph_for(fake), graph_for(fake, "EAAwrong")
    try:
        channel = WhatsappChannel(VERIFY, APP_SECRET, lambda: check_graph(good))
        assert await channel.check() == "whatsapp: on for LAPOR! 1708, webhook at /channels/whatsapp"
        with pytest.raises(ChannelError) as err:
            await WhatsappChannel(VERIFY, APP_SECRET, lambda: check_graph(bad)).check()
    finally:
        await good.close()
        await bad.close()
    assert str(err.value) == "whatsapp: access token rejected (401, code 190)"


async def test_check_when_unreachable() -> None:
    async with FakeGraph() as gone:
        graph = graph_for(gone)
    try:
        with pytest.raises(ChannelError, match="unreachable"):
            await check_graph(graph)
    finally:
        await graph.close()


def test_verification_with_a_non_ascii_token() -> None:
    channel = WhatsappChannel("tokén", APP_SECRET)
    assert channel.parse(raw_get(channel.path, "hub.mode=subscribe&hub.verify_token=tok%C3%A9n&hub.challenge=7")).body == "7"
    with pytest.raises(Rejected):
        channel.parse(raw_get(channel.path, "hub.mode=subscribe&hub.verify_token=tok%E9n&hub.challenge=7"))


async def test_expired_token_is_retryable(fake: FakeGraph) -> None:
    graph = graph_for(fake, "EAAexpired")
    try:
        with pytest.raises(PeerUnavailable):
            await WhatsappReceiptSender(graph).send(
                OutboundReceipt(channel="social.whatsapp", account=NUMBER_ID, to=WA_ID, text="x"))
    finally:
        await graph.close()
