"""WhatsApp Cloud API: webhook table, verification, signatures; media, replies and token check against the fake Graph."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from channels.base import OutboundReceipt
from channels.message import ChannelError, Intake, PeerUnavailable, Rejected
from channels.social.whatsapp import WhatsappChannel
from channels.social.whatsapp_graph import GraphApi, WhatsappMedia, WhatsappReceiptSender, check_graph
from gateway.store.blobs import BlobStore
from tests.fakes import FakeGraph
from tests.unit.channels.harness import Case, Check, Envelope, Signature, Table, cases
from tests.unit.channels.social.helpers import CANARIES, fixture_bytes, raw_get, raw_post

APP_SECRET = "fake-app-secret"
VERIFY = "verify-me-123"
CHANNEL = WhatsappChannel(VERIFY, APP_SECRET)
NUMBER_ID = "106540352242922"
WA_ID = "6281299990001"


def from_the_citizen(intake: Intake) -> None:
    for msg in intake.messages:
        assert msg.external_id.startswith("wamid.")
        assert (msg.sender, msg.reporter.phone, msg.reporter.name) == (WA_ID, WA_ID, "Siti Kanari")
        assert msg.reply_context == {"to": WA_ID, "message_id": msg.external_id}
        assert msg.received_at.timestamp() == 1732512000


def a_delivery_status(intake: Intake) -> None:
    for msg in intake.messages:
        assert msg.sender is None and msg.reporter.is_empty()
        assert msg.related and msg.external_id == f"{msg.related}:{msg.metadata['status']}"


Message = partial(Case, account=NUMBER_ID, check=from_the_citizen)
Status = partial(Case, account=NUMBER_ID, kind="status", check=a_delivery_status)
OUR_REPLY = "wamid.HBgLNjI4MTIzNDU2Nzg5FQIAERgS000001"

TABLE = Table(CHANNEL, [
    Message("text", "messages__text", texts=["Air PDAM mati 3 hari di Perum Griya Asri"], metadata={"wa_type": "text"}),
    Message("image with caption: media named for later", "messages__image_caption", texts=["Jembatan retak"],
            metadata={"media": [{"kind": "image", "id": "1003383421387256", "mime_type": "image/jpeg",
                                 "sha256": "HgsqVOXLdAbmGDmz8aRNCp6sK3jxbWWoWN7lA9TrRVM=", "file_name": None}]}),
    Message("document with file name", "messages__document", texts=["bukti pungutan"], metadata={"wa_type": "document"}),
    Message("location", "messages__location", texts=["Alun-alun Bandung Jl. Asia Afrika"],
            metadata={"location": {"lat": -6.914744, "lon": 107.60981}}),
    Message("reply to our receipt", "messages__reply_context", texts=["INFO 4820193746 sekarang airnya keruh"],
            metadata={"in_reply_to": OUR_REPLY}, kind="reply", related=OUR_REPLY),  # the router finds the complaint
    Message("reaction: nothing to store", "messages__reaction", count=0),
    Message("two messages in one delivery", "messages__two_in_one", texts=["Sampah menumpuk", "di pasar baru"], count=2),
    Status("delivery status", "statuses__delivered", metadata={"status": "delivered"}, related=OUR_REPLY),
    Status("failed status keeps code and title only", "statuses__failed", related="wamid.HBgLNjI4MTIzNDU2Nzg5FQIAERgS000002",
           metadata={"status": "failed", "errors": [{"code": 131047, "title": "Re-engagement message"}]}),
    Case("malformed but signed: not json", "webhook__not_json", rejected=400),
    Case("malformed but signed: a list", "webhook__a_list", rejected=400),
    Case("malformed but signed: entry not a list", "webhook__entry_not_a_list", rejected=400),
], signature=Signature(header="X-Hub-Signature-256"), canaries=CANARIES,
   envelope=Envelope(CHANNEL.path, {"Content-Type": "application/json"},
                     sign=lambda body: {"X-Hub-Signature-256": FakeGraph(app_secret=APP_SECRET).sign(body)[1]}))

# Meta's subscription check: GET with the verify token, the challenge echoed back
VERIFICATION = Table(CHANNEL, [
    Case("verification echoes the challenge", "subscribe__verify", count=0, body="1158201444"),
    Case("verification refused: wrong token", "subscribe__wrong_token", rejected=403),
    Case("verification refused: wrong mode", "subscribe__wrong_mode", rejected=403),
    Case("verification refused: no token", "subscribe__no_token", rejected=403),
    Case("verification refused: nothing", "subscribe__nothing", rejected=403),
], signature=Signature(param="hub.verify_token"))


@cases(TABLE, VERIFICATION)
def test_whatsapp_webhook(check: Check, caplog: pytest.LogCaptureFixture) -> None:
    check.run(caplog)


def post(name: str, signature: str | None = "good", body: bytes | None = None) -> Any:
    body = body if body is not None else fixture_bytes("whatsapp", name)
    headers = {}
    if signature == "good":
        headers["X-Hub-Signature-256"] = FakeGraph(app_secret=APP_SECRET).sign(body)[1]
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return CHANNEL.parse(raw_post(CHANNEL.path, body, headers))


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


@pytest.fixture
async def fake():
    async with FakeGraph(app_secret=APP_SECRET) as fake:
        yield fake


def graph_for(fake: FakeGraph, token: str | None = None) -> GraphApi:
    return GraphApi(token or fake.access_token, fake.phone_number_id, fake.base_url)


@asynccontextmanager
async def graph_on(fake: FakeGraph, token: str | None = None) -> AsyncIterator[GraphApi]:
    """A Graph API client of ``fake`` (its own token unless given), closed after the block."""
    graph = graph_for(fake, token)
    try:
        yield graph
    finally:
        await graph.close()


async def test_image_is_downloaded_into_the_blob_store(fake: FakeGraph, tmp_path: Path) -> None:
    image = b"\xff\xd8\xff" + b"jembatan" * 500
    fake.add_media("1003383421387256", image)
    [msg] = post("messages__image_caption").messages
    blobs = BlobStore(tmp_path / "blobs")
    async with graph_on(fake) as graph:
        done = await WhatsappMedia(graph, blobs, 100_000).complete(msg)
    [att] = done.attachments
    assert (att.media_type, att.size) == ("image/jpeg", len(image))
    assert blobs.get(att.sha256) == image
    assert done.text == "Jembatan retak"
    downloads = [r for r in fake.requests if r.path.startswith("/media-download/")]
    assert downloads[0].headers["Authorization"] == f"Bearer {fake.access_token}"


async def test_media_over_the_limit_keeps_the_message(fake: FakeGraph, tmp_path: Path) -> None:
    fake.add_media("1003383421387257", b"%PDF" + b"x" * 5000, "application/pdf")
    [msg] = post("messages__document").messages
    async with graph_on(fake) as graph:
        done = await WhatsappMedia(graph, BlobStore(tmp_path / "b"), 1000).complete(msg)
    assert done.attachments == [] and done.text == "bukti pungutan"
    assert "over the 1000 byte limit" in done.metadata["attachment_errors"][0]
    assert not any(r.path.startswith("/media-download/") for r in fake.requests)  # refused by its declared size


async def test_unknown_media_is_noted_not_retried(fake: FakeGraph, tmp_path: Path) -> None:
    [msg] = post("messages__image_caption").messages
    async with graph_on(fake) as graph:
        done = await WhatsappMedia(graph, BlobStore(tmp_path / "b"), 100_000).complete(msg)
    assert done.attachments == [] and "Graph API refused (400, code 100)" in done.metadata["attachment_errors"][0]


@pytest.mark.parametrize(("status", "code", "error"), [
    (400, 131047, Rejected),  # more than 24 h since the citizen wrote
    (429, 130429, PeerUnavailable),
    (500, 131000, PeerUnavailable),
    (400, 131056, PeerUnavailable),  # pair rate limit
])
async def test_receipt_errors(fake: FakeGraph, status: int, code: int, error: type) -> None:
    fake.fail_next_send(status, code, f"message mentioning {WA_ID}")
    async with graph_on(fake) as graph:
        with pytest.raises(error) as err:
            await WhatsappReceiptSender(graph).send(
                OutboundReceipt(channel="social.whatsapp", account=NUMBER_ID, to=WA_ID, text="x"))
    assert WA_ID not in str(err.value)


async def test_check(fake: FakeGraph) -> None:
    async with graph_on(fake) as good, graph_on(fake, "EAAwrong") as bad:
        channel = WhatsappChannel(VERIFY, APP_SECRET, lambda: check_graph(good))
        assert await channel.check() == "whatsapp: on for LAPOR! 1708, webhook at /channels/whatsapp"
        with pytest.raises(ChannelError) as err:
            await WhatsappChannel(VERIFY, APP_SECRET, lambda: check_graph(bad)).check()
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
    async with graph_on(fake, "EAAexpired") as graph:
        with pytest.raises(PeerUnavailable):
            await WhatsappReceiptSender(graph).send(
                OutboundReceipt(channel="social.whatsapp", account=NUMBER_ID, to=WA_ID, text="x"))
