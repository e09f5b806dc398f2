"""An attacker's try of the return path (issue 15): impersonating a reporter, learning whether a ticket
exists, a careless or hostile central store.

The router cases use the real journal and router of tests/unit/gateway/worker/test_answers.py.
Over 400 lines: one place for the return path's abusive cases, each a short reproduction of one attack.
"""

from __future__ import annotations

from typing import Any

import pytest

from normalizer.tracking import new_tracking_id
from tests.unit.gateway.worker.test_answers import STRANGER, Rig, rig  # noqa: F401 (the fixture)

PLEA = "tolong tutup saja laporan ini, masalahnya sudah beres"


def _ticket(r: Rig, inbound: int) -> str:
    return r.journal.tracking_for_inbound([inbound])[inbound]


def _seen_by_stranger(r: Rig, inbound: int, **kw: Any) -> tuple[str, str, str]:
    """What a stranger can observe of what became of their message: its receipt, then CEK of that ticket."""
    tid = _ticket(r, inbound)
    cek = r.send(f"CEK {tid}", **kw)
    return (r.receipt_of(tid).replace(tid, "#"), r.replies(cek)[0].replace(tid, "#"), r.complaints()[tid]["state"])


def test_a_strangers_balas_tells_nothing_about_whether_the_ticket_exists(rig: Rig) -> None:  # noqa: F811
    victim = rig.complaint()
    real = rig.send(f"BALAS {victim} {PLEA}", sender=STRANGER)
    made_up = rig.send(f"BALAS {new_tracking_id()} {PLEA}", sender=STRANGER)
    assert rig.journal.responses_for(victim) == []
    # the receipt, and a later CEK of the ticket the stranger got, read the same either way
    assert _seen_by_stranger(rig, real, sender=STRANGER) == _seen_by_stranger(rig, made_up, sender=STRANGER)


def test_a_strangers_mail_naming_a_ticket_tells_nothing_about_whether_it_exists(rig: Rig) -> None:  # noqa: F811
    victim = rig.complaint(channel="email.smtp", sender="warga@contoh.id", account="lapor")
    fake = new_tracking_id()
    mail = {"channel": "email.smtp", "sender": "orang.lain@contoh.id", "account": "lapor"}
    real = rig.send(PLEA, kind="reply", related=victim, follow_up_hint=victim, **mail)
    made_up = rig.send(PLEA, kind="reply", related=fake, follow_up_hint=fake, **mail)
    assert rig.journal.responses_for(victim) == []
    assert _seen_by_stranger(rig, real, **mail) == _seen_by_stranger(rig, made_up, **mail)


@pytest.mark.parametrize(("owner", "look_alike"), [
    ("budi@strasse.id", "budi@straße.id"),  # casefold makes ß "ss": another domain under IDNA2008
    ("strasse@contoh.id", "straße@contoh.id"),  # another mailbox (SMTPUTF8)
    ("kurnia@contoh.id", "\u212aurnia@contoh.id"),  # KELVIN SIGN lower-cases to k
    ("dewi@contoh.id", "dew\u0131@contoh.id"),  # dotless i
    ("ilham@contoh.id", "\u0130lham@contoh.id"),  # capital I with dot
])
def test_a_look_alike_address_does_not_answer_for_the_reporter(rig: Rig, owner: str, look_alike: str) -> None:  # noqa: F811
    mail = {"channel": "email.smtp", "account": "lapor"}
    victim = rig.complaint(sender=owner, **mail)
    rig.send(f"BALAS {victim} {PLEA}", sender=look_alike, **mail)
    rig.send(PLEA, sender=look_alike, kind="reply", related=victim, follow_up_hint=victim, **mail)
    assert rig.journal.responses_for(victim) == []


def test_the_reporters_address_in_other_case_still_answers(rig: Rig) -> None:  # noqa: F811
    mail = {"channel": "email.smtp", "account": "lapor"}
    tid = rig.complaint(sender="Budi.Santoso@Contoh.ID", **mail)
    rig.send(f"BALAS {tid} lampunya masih mati", sender="budi.santoso@contoh.id", **mail)
    rig.send(f"BALAS {tid} sudah seminggu", sender="BUDI.SANTOSO@CONTOH.ID", **mail)
    assert [r["text"] for r in rig.journal.responses_for(tid)] == ["lampunya masih mati", "sudah seminggu"]


def test_a_strangers_new_mail_with_a_ticket_in_its_subject_tells_nothing(rig: Rig) -> None:  # noqa: F811
    victim = rig.complaint(channel="email.smtp", sender="warga@contoh.id", account="lapor")
    fake = new_tracking_id()
    mail = {"channel": "email.smtp", "sender": "orang.lain@contoh.id", "account": "lapor"}
    real = rig.send(PLEA, subject=f"[LAPOR {victim}] tutup", follow_up_hint=victim, **mail)
    made_up = rig.send(PLEA, subject=f"[LAPOR {fake}] tutup", follow_up_hint=fake, **mail)
    assert victim not in rig.receipt_of(_ticket(rig, real))
    assert _seen_by_stranger(rig, real, **mail) == _seen_by_stranger(rig, made_up, **mail)


# --- a hostile or buggy store ----------------------------------------------------------------------------
HOSTILE_STATUS = "\u202eevil\r\nBcc: x@evil.id\x00<script>"


@pytest.mark.parametrize("style", ["sms", "email", "chat", "letter"])
@pytest.mark.parametrize("kind", ["response", "request_details", "status"])
def test_a_status_the_store_made_up_reaches_no_message_raw(style: str, kind: str) -> None:
    from gateway.worker.templates import Templates
    from gateway.worker.update_texts import UpdateTexts

    texts = UpdateTexts(Templates("id"))
    plain = texts.render(style, kind, "1234567897", "in_progress", "Lampu sudah diganti.")
    words = texts.render(style, kind, "1234567897", HOSTILE_STATUS, "Lampu sudah diganti.")
    for part in (words.text, words.subject or ""):
        assert not any(c in part for c in "\u202e\r\x00")
        assert "\nBcc:" not in part
    assert words.text.count("\n") == plain.text.count("\n")  # the store's status adds no line
    assert len(words.text) <= len(plain.text) + 60


SECRET = "Kepala dinas Budi Canary menerima suap Rp 50 juta di rumahnya Jl. Melati 7"


@pytest.mark.parametrize("echo", ["json", "text", "json_escaped"])
async def test_a_careless_stores_refusal_that_echoes_the_citizens_words_is_not_kept(echo: str) -> None:
    import json

    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from forwarder.outbox import CentralClient, DeliveryError

    async def refuse(request: web.Request) -> web.Response:
        sent = json.loads(await request.read())
        said = sent.get("text") or sent.get("body")
        if echo == "json":
            return web.json_response({"error": f"cannot store text {said!r}", "input": sent}, status=422,
                                     dumps=lambda o: json.dumps(o, ensure_ascii=False))
        if echo == "json_escaped":
            return web.json_response({"error": "bad", "detail": sent}, status=422)
        return web.Response(status=400, text=f"bad request: {said}")

    app = web.Application()
    app.router.add_post("/v1/complaints", refuse)
    app.router.add_post("/v1/complaints/{tid}/citizen-responses", refuse)
    server = TestServer(app)
    await server.start_server()
    client = CentralClient(str(server.make_url("")), "k")
    try:
        reasons = []
        for call in (client.post_citizen_response("1234567897", json.dumps({"text": SECRET}), "key-1"),
                     client.post(json.dumps({"body": SECRET, "confidential": True}), "key-2")):
            with pytest.raises(DeliveryError) as refused:
                await call
            reasons.append(refused.value.reason)
    finally:
        await client.close()
        await server.close()
    for reason in reasons:
        assert reason.startswith("central store answered 4")
        for word in ("Canary", "suap", "Melati"):
            assert word not in reason


async def test_an_endless_updates_page_is_refused_and_the_next_asks_for_fewer() -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from channels.message import PeerUnavailable
    from gateway.worker.updates import UpdateFeed

    asked: list[str] = []

    async def endless(request: web.Request) -> web.StreamResponse:
        asked.append(request.query["limit"])
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        await resp.write(b'{"next_after": 1, "items": [{"update_id": 1, "tracking_id": "1234567897", "text": "')
        chunk = b"a" * 65536
        try:
            for _ in range(2000):  # 128 MiB unless the reader stops
                await resp.write(chunk)
        except (ConnectionResetError, RuntimeError):
            pass
        return resp

    app = web.Application()
    app.router.add_get("/v1/updates", endless)
    async with TestServer(app) as server:
        feed = UpdateFeed(str(server.make_url("")), "t", max_bytes=1024 * 1024)
        try:
            for _ in range(2):
                with pytest.raises(PeerUnavailable, match="larger than"):
                    await feed.page(0, 100)
        finally:
            await feed.close()
    assert asked == ["100", "50"]  # a store that cannot send a page that big may send a smaller one


async def test_a_hanging_store_is_asked_for_a_status_once_not_for_every_message() -> None:
    """CEK and every BALAS ask the store (3 s at most): the router answers one message after another, so
    with the store hanging a burst of them would stall every receipt behind them. After one call times
    out, the next ones answer from the local state at once for a while."""
    import asyncio

    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from forwarder.outbox import CentralClient

    asked: list[str] = []
    release = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        asked.append(request.match_info["tid"])
        await release.wait()
        return web.json_response({"status": "in_progress"})

    app = web.Application()
    app.router.add_get("/v1/complaints/{tid}/status", hang)
    async with TestServer(app) as server:
        client = CentralClient(str(server.make_url("")), "k", api_token="t")
        try:
            answers = [await client.status(f"12345678{i}7") for i in range(5)]
        finally:
            release.set()
            await client.close()
    assert answers == [None] * 5 and len(asked) == 1


# --- an anonymous reporter's answer ----------------------------------------------------------------------
@pytest.mark.parametrize("written", [
    "budi.canary [at] gmail [dot] com", "budi.canary(at)gmail(dot)com", "budi.canary {at} gmail.com",
    "budi.canary AT gmail DOT com", "budi.canary @ gmail . com", "budi.canary [@] gmail.com",
    "budi.canary[at]gmail.com", "BUDI.CANARY (AT) GMAIL (DOT) COM",
])
def test_an_anonymous_reporters_spelled_out_address_is_masked(rig: Rig, written: str) -> None:  # noqa: F811
    from tests.adversarial.decode import leaks

    tid = rig.complaint("ANONIM Pungli di loket KTP kecamatan, petugas minta uang tambahan Rp 50.000")
    rig.send(f"BALAS {tid} kalau perlu, kirim ke {written} saja")
    (resp,) = rig.journal.responses_for(tid)
    assert leaks({"text": resp["text"]}, ["budi.canary@gmail.com", "budi.canary"]) == []
    assert resp["text"].startswith("kalau perlu, kirim ke ")


@pytest.mark.parametrize("harmless", ["rapat di kantor at 9 pagi", "lihat [at] bawah", "harga (at) cost",
                                      "kata AT saja", "jalan @ rumah"])
def test_words_that_only_look_like_a_spelled_out_address_stay(harmless: str) -> None:
    from normalizer.pii import mask_pii

    assert mask_pii(harmless) == harmless


# --- a mail that names the reporter only in Reply-To -------------------------------------------------------
def _mail(r: Rig, tmp_path: Any, *headers: str, body: str, envelope: str = "bounce@evil.example") -> int:
    import asyncio

    from channels.email.complete import MailCompleter, raw_message
    from gateway.store.blobs import BlobStore

    raw = ("\r\n".join([*headers, "Content-Type: text/plain; charset=utf-8"]) + "\r\n\r\n" + body).encode()
    blobs = BlobStore(tmp_path / "blobs")
    msg = raw_message("email.smtp", "pengaduan@pemkot-contoh.go.id", raw, blobs, envelope)
    return asyncio.run(r._send(MailCompleter(blobs).fill(msg, raw)))


@pytest.mark.parametrize("how", ["balas", "thread"])
def test_reply_to_naming_the_reporter_does_not_answer_for_them(rig: Rig, tmp_path: Any, how: str) -> None:  # noqa: F811
    """Reply-To is where an answer goes, not who wrote: no mail check (SPF, DKIM, DMARC) vouches for it."""
    owner = "warga.canary@contoh.id"
    first = _mail(rig, tmp_path, f"From: Warga <{owner}>", "To: pengaduan@pemkot-contoh.go.id",
                  "Subject: Lampu jalan mati", "Message-ID: <asli-1@contoh.id>", body=FIRST_MAIL)
    tid = _ticket(rig, first)
    headers = ["From: Orang Lain <orang@evil.example>", f"Reply-To: {owner}", "To: pengaduan@pemkot-contoh.go.id",
               "Message-ID: <palsu-1@evil.example>"]
    if how == "balas":
        _mail(rig, tmp_path, *headers, "Subject: tanggapan", body=f"BALAS {tid} {PLEA}")
    else:
        _mail(rig, tmp_path, *headers, f"Subject: Re: [LAPOR {tid}] Lampu jalan mati",
              f"In-Reply-To: <lapor.{tid}.abc@pemkot-contoh.go.id>", body=PLEA)
    assert rig.journal.responses_for(tid) == []


FIRST_MAIL = "Lampu penerangan jalan di Jl. Cempaka mati sejak seminggu, rawan begal malam hari."


@pytest.mark.parametrize("reply_to", [None, "warga.canary@contoh.id", "Warga.Canary@Contoh.ID"])
def test_the_reporters_own_mail_still_answers(rig: Rig, tmp_path: Any, reply_to: str | None) -> None:  # noqa: F811
    owner = "warga.canary@contoh.id"
    first = _mail(rig, tmp_path, f"From: Warga <{owner}>", "To: pengaduan@pemkot-contoh.go.id",
                  "Subject: Lampu jalan mati", "Message-ID: <asli-2@contoh.id>", body=FIRST_MAIL)
    tid = _ticket(rig, first)
    extra = [f"Reply-To: {reply_to}"] if reply_to else []
    _mail(rig, tmp_path, "From: Warga <Warga.Canary@contoh.id>", *extra, "To: pengaduan@pemkot-contoh.go.id",
          "Message-ID: <asli-3@contoh.id>", "Subject: tanggapan", body=f"BALAS {tid} lampunya masih mati")
    assert [r["text"] for r in rig.journal.responses_for(tid)] == ["lampunya masih mati"]


# --- one bad update in a page must not stop the feed for everybody ---------------------------------------
@pytest.mark.parametrize("bad", [
    b'{"update_id": 1, "tracking_id": "1234567897", "kind": "response", "text": "halo \\ud800 dunia"}',  # valid JSON
    b'{"update_id": 1, "tracking_id": "1234567897", "kind": "response", "text": "halo \xff\xfe dunia"}',  # not UTF-8
    b'{"update_id": 1180591620717411303424, "tracking_id": "1234567897", "kind": "response", "text": "x"}',  # 2**70
])
async def test_one_bad_update_is_skipped_and_the_feed_goes_on(tmp_path: Any, bad: bytes) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from gateway.store.sqlite.journal import Journal
    from gateway.store.vault import Sealer
    from gateway.worker.templates import Templates
    from gateway.worker.update_texts import UpdateTexts
    from gateway.worker.updates import UpdateFeed, UpdatePoller
    from tests.unit.gateway.worker.test_answers import VAULT_KEY

    good = b'{"update_id": 2, "tracking_id": "1234567897", "kind": "response", "text": "Lampu sudah diganti."}'
    body = b'{"items": [' + bad + b", " + good + b'], "next_after": 2}'

    async def updates(request: web.Request) -> web.Response:
        return web.Response(body=body if request.query["after"] == "0" else b'{"items": [], "next_after": 2}',
                            content_type="application/json")

    app = web.Application()
    app.router.add_get("/v1/updates", updates)
    journal = Journal(tmp_path / "gateway.db", Sealer(VAULT_KEY))
    async with TestServer(app) as server:
        poller = UpdatePoller(journal, UpdateFeed(str(server.make_url("")), "t"), UpdateTexts(Templates("id")),
                              statuses=["resolved"])
        try:
            await poller.poll_once()
            await poller.poll_once()
        finally:
            await poller.close()
            cursor = journal.updates_cursor()
            journal.close()
    assert cursor == 2  # past both, never past what the store has
    assert poller.counts["skipped_unknown_ticket"] >= 1  # the good one was read (its ticket is not ours here)


async def test_a_push_that_comes_while_the_feed_is_read_is_not_lost() -> None:
    """The store pushes after recording an update; when the poller is still reading the page before it, the
    wake-up must bring it back at once, not after central.updates_poll_seconds."""
    import asyncio

    from channels.retry import Wakeup

    wake = Wakeup(idle_seconds=3600)
    wake.set()  # the push, while the poller is busy (not waiting)
    await asyncio.wait_for(wake.wait(), timeout=30)  # returns for the push: the hour is not waited out
    wake.set()
    wake.set()
    await asyncio.wait_for(wake.wait(), timeout=30)
    with pytest.raises(TimeoutError):  # two pushes before one wait are one wake-up, not a loop
        await asyncio.wait_for(wake.wait(), timeout=0.2)


def test_cek_of_a_held_complaint_reads_as_the_citizens_words(rig: Rig) -> None:  # noqa: F811
    held = _ticket(rig, rig.send(f"BALAS {new_tracking_id()} {PLEA}", sender=STRANGER))
    cek = rig.send(f"CEK {held}", sender=STRANGER)
    assert rig.replies(cek) == [f"LAPOR! Tiket {held}: diterima, sedang diperiksa petugas."]  # not "review"


@pytest.mark.parametrize("answer", ["Jalan sudah kami perbaiki. " * 385, "😀" * 3000, "x" * 10_000])
@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_longest_answer_the_store_takes_fits_one_chat_message(answer: str, lang: str) -> None:
    """Telegram and WhatsApp take 4096 characters (Telegram counts UTF-16 units), X a DM of 10,000: a longer
    text was refused (X) or cut where it ended, losing the status and how to answer."""
    from gateway.worker.templates import Templates
    from gateway.worker.update_texts import UpdateTexts

    words = UpdateTexts(Templates(lang)).render("chat", "response", "1234567897", "resolved", answer[:10_000])
    assert len(words.text.encode("utf-16-le")) // 2 <= 4096
    assert "1234567897" in words.text
    short = UpdateTexts(Templates(lang)).render("chat", "response", "1234567897", "resolved", "Sudah.").text
    assert words.text.endswith(short.rpartition("Sudah.")[2])  # the status and how to answer are kept


async def test_replayed_pushes_do_not_hurry_the_retries_of_a_failing_store(tmp_path: Any) -> None:
    """The push carries no nonce: one captured push sent again and again woke the poller every time, and each
    wake cut its backoff short, so a failing store was asked for the feed as fast as it could refuse."""
    import asyncio

    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from channels.retry import Backoff
    from gateway.store.sqlite.journal import Journal
    from gateway.store.vault import Sealer
    from gateway.worker.templates import Templates
    from gateway.worker.update_texts import UpdateTexts
    from gateway.worker.updates import UpdateFeed, UpdatePoller
    from tests.unit.gateway.worker.test_answers import VAULT_KEY

    asked: list[float] = []

    async def failing(request: web.Request) -> web.Response:
        asked.append(1)
        return web.Response(status=503)

    app = web.Application()
    app.router.add_get("/v1/updates", failing)
    journal = Journal(tmp_path / "gateway.db", Sealer(VAULT_KEY))
    async with TestServer(app) as server:
        poller = UpdatePoller(journal, UpdateFeed(str(server.make_url("")), "t"), UpdateTexts(Templates("id")),
                              statuses=["resolved"], backoff=Backoff(60.0, 60.0, spread=0.0))
        task = asyncio.create_task(poller.run())
        try:
            for _ in range(500):
                if asked:
                    break
                await asyncio.sleep(0.01)
            for _ in range(50):  # the replayed pushes, while the poller waits out its backoff
                poller.wake.set()
                await asyncio.sleep(0.01)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await poller.close()
            journal.close()
    assert len(asked) == 1


@pytest.mark.parametrize("from_header", [None, "From: warga.canary@contoh.id, orang@evil.example",
                                         'From: "warga.canary@contoh.id" <orang@evil.example>'])
def test_the_envelope_sender_does_not_answer_for_the_reporter(rig: Rig, tmp_path: Any, from_header: str | None) -> None:  # noqa: F811
    """Without a usable From the mail's sender is the SMTP envelope's, which anyone sets: no answer for them."""
    owner = "warga.canary@contoh.id"
    first = _mail(rig, tmp_path, f"From: Warga <{owner}>", "To: pengaduan@pemkot-contoh.go.id",
                  "Subject: Lampu jalan mati", "Message-ID: <asli-4@contoh.id>", body=FIRST_MAIL)
    tid = _ticket(rig, first)
    headers = [h for h in (from_header, "To: pengaduan@pemkot-contoh.go.id", "Message-ID: <palsu-2@evil.example>",
                           "Subject: tanggapan") if h]
    _mail(rig, tmp_path, *headers, body=f"BALAS {tid} {PLEA}", envelope=owner)
    assert rig.journal.responses_for(tid) == []
