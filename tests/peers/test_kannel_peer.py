"""The Kannel test peer against a tiny aiohttp webhook sink: what the gateway will really see."""

from __future__ import annotations

import asyncio
import os
import re
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.peers import kannel
from tests.peers.kannel import MT, KannelPeer, fakesmsc_lines, make_kannel, parse_mt_log
from tests.peers.ports import LOOPBACK, free_port

__all__ = ["make_kannel"]  # the fixture, imported so the tests below can request it

MakeKannel = Callable[..., KannelPeer]
SENDER, SHORTCODE = "6281234567890", "1708"
GSM_TEXT = "Jalan rusak di depan SDN 3"
EMOJI_TEXT = "Banjir di RT 05 😭🙏 tolong segera — café ñ"
# 300 GSM chars; char 154 (first of part 2) is a space, and 'é', '@' and '€' ride along
LONG_GSM = ("Lampu jalan mati di Jl. Sudirman no. 12, sdh 3 minggu. " * 6)[:152] + "  é@€ " + "x" * 142
REPLY_BODY = "this HTTP reply must never become an SMS"


@dataclass(frozen=True)
class Hit:
    """One webhook call, with query values kept as the bytes Kannel sent."""

    method: str
    path: str
    query: dict[str, bytes]
    body: bytes
    headers: dict[str, str]

    def text(self) -> str:
        charset = self.query["charset"].decode()
        return self.query["text"].decode(charset)


class Sink:
    """Records every call to /channels/sms/kannel; answers 503 to the first ``fail_first``."""

    def __init__(self) -> None:
        self.hits: asyncio.Queue[Hit] = asyncio.Queue()
        self.fail_first = 0
        self.calls = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        if self.calls <= self.fail_first:
            return web.Response(status=503)
        raw = parse_qs(urlsplit(request.raw_path).query, keep_blank_values=True, encoding="latin-1")
        query = {key: values[0].encode("latin-1") for key, values in raw.items()}
        hit = Hit(request.method, request.path, query, await request.read(), dict(request.headers))
        await self.hits.put(hit)
        return web.Response(text=REPLY_BODY)

    async def next_hit(self, timeout: float = 10.0) -> Hit:
        return await asyncio.wait_for(self.hits.get(), timeout)


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    sink = Sink()
    app = web.Application()
    app.router.add_route("*", "/channels/sms/kannel", sink.handle)
    server = TestServer(app, host=LOOPBACK, port=free_port())
    await server.start_server()
    sink.url = str(server.make_url("/channels/sms/kannel"))
    yield sink
    await server.close()


async def sendsms(peer: KannelPeer, to: str, text: str, **extra: str) -> None:
    params = {"username": peer.username, "password": peer.password, "from": peer.sender, "to": to, "text": text}
    async with aiohttp.ClientSession() as http, http.get(peer.sendsms_url, params={**params, **extra}) as resp:
        assert (resp.status, await resp.text()) == (202, "0: Accepted for delivery")


def start_and_join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


async def wait_for_line(path: Path, needle: str, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while needle not in path.read_text(errors="replace"):
            await asyncio.sleep(0.05)


# --- MO: handset -> Kannel -> webhook -------------------------------------------------------


async def test_gsm_mo_reaches_webhook_with_exact_parameters(make_kannel: MakeKannel, sink: Sink) -> None:
    peer = make_kannel(sink.url + "?secret=s3cret")
    assert await peer.inject_async(SENDER, SHORTCODE, GSM_TEXT) == 1
    hit = await sink.next_hit()

    assert (hit.method, hit.path) == ("GET", "/channels/sms/kannel")
    assert hit.headers["User-Agent"].startswith("Kannel/")
    q = hit.query
    assert list(q) == ["secret", "from", "to", "text", "ts", "unixtime", "id", "smsc", "coding", "charset", "udh"]
    assert (q["secret"], q["from"], q["to"], q["text"]) == (
        b"s3cret",
        SENDER.encode(),
        SHORTCODE.encode(),
        GSM_TEXT.encode(),
    )
    assert (q["smsc"], q["coding"], q["charset"], q["udh"]) == (b"fakemo", b"0", b"UTF-8", b"")
    assert uuid.UUID(q["id"].decode())
    assert re.fullmatch(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", q["ts"])
    assert q["unixtime"].isdigit()


async def test_long_gsm_mo_arrives_as_one_call_with_all_text(make_kannel: MakeKannel, sink: Sink) -> None:
    assert len(LONG_GSM) == 300
    peer = make_kannel(sink.url)
    assert await peer.inject_async(SENDER, SHORTCODE, LONG_GSM) == 2
    hit = await sink.next_hit()
    assert hit.text() == LONG_GSM
    assert (hit.query["coding"], hit.query["udh"]) == (b"0", b"")
    # nothing else was delivered before the next message: the parts were one call
    await peer.inject_async(SENDER, SHORTCODE, "penanda")
    assert (await sink.next_hit()).text() == "penanda"


async def test_ucs2_mo_arrives_as_utf16be_and_raw_as_utf8(make_kannel: MakeKannel, sink: Sink) -> None:
    peer = make_kannel(sink.url)
    await peer.inject_async(SENDER, SHORTCODE, EMOJI_TEXT)
    hit = await sink.next_hit()
    assert (hit.query["coding"], hit.query["charset"]) == (b"2", b"UTF-16BE")
    assert len(hit.query["text"]) == 86
    assert hit.query["text"].decode("utf-16-be") == EMOJI_TEXT

    await peer.inject_async(SENDER, SHORTCODE, EMOJI_TEXT, coding="raw")
    hit = await sink.next_hit()
    assert (hit.query["coding"], hit.query["charset"]) == (b"0", b"UTF-8")
    assert hit.query["text"].decode("utf-8") == EMOJI_TEXT


async def test_text_with_newline_goes_as_ucs2(make_kannel: MakeKannel, sink: Sink) -> None:
    peer = make_kannel(sink.url)
    await peer.inject_async(SENDER, SHORTCODE, "RAHASIA\nPungli di kantor desa")
    hit = await sink.next_hit()
    assert hit.query["charset"] == b"UTF-16BE"
    assert hit.text() == "RAHASIA\nPungli di kantor desa"


async def test_post_webhook_with_mo_recode(make_kannel: MakeKannel, sink: Sink) -> None:
    peer = make_kannel(sink.url, method="post", mo_recode=True)
    await peer.inject_async(SENDER, SHORTCODE, EMOJI_TEXT)
    hit = await sink.next_hit()
    assert hit.method == "POST"
    assert (hit.query["coding"], hit.query["charset"]) == (b"0", b"UTF-8")
    assert hit.body.decode("utf-8") == EMOJI_TEXT
    assert (hit.headers["X-Kannel-From"], hit.headers["X-Kannel-To"]) == (SENDER, SHORTCODE)


async def test_failed_webhook_call_is_retried(make_kannel: MakeKannel, sink: Sink) -> None:
    sink.fail_first = 2  # a gateway restarting: two 503s, then up
    peer = make_kannel(sink.url)
    await peer.inject_async(SENDER, SHORTCODE, GSM_TEXT)
    assert (await sink.next_hit()).text() == GSM_TEXT
    assert sink.calls == 3


async def test_concurrent_injects_from_threads_all_arrive(make_kannel: MakeKannel, sink: Sink) -> None:
    peer = make_kannel(sink.url)
    texts = {f"laporan nomor {i}" for i in range(8)}
    threads = [threading.Thread(target=peer.inject, args=(SENDER, SHORTCODE, t)) for t in texts]
    await asyncio.to_thread(start_and_join, threads)
    got = {(await sink.next_hit()).text() for _ in texts}
    assert got == texts


# --- MT: gateway -> sendsms -> network ----------------------------------------------------------


async def test_sendsms_plain_and_ucs2_show_up_decoded(make_kannel: MakeKannel, sink: Sink) -> None:
    peer = make_kannel(sink.url)
    await peer.inject_async(SENDER, SHORTCODE, GSM_TEXT)
    await sink.next_hit()  # answered with REPLY_BODY, which max-messages = 0 must swallow
    await wait_for_line(peer.state_dir / "smsbox.log", "No reply sent, denied.")

    plain = "Tiket PGD-0001 diterima. Cek: CEK 1234567890 ke 1708 (café @ £)"
    await sendsms(peer, SENDER, plain)
    await sendsms(peer, SENDER, EMOJI_TEXT, coding="2", charset="UTF-8")
    await peer.wait_for_mt_async(lambda m: m.text == EMOJI_TEXT)

    messages = peer.mt_messages()
    assert messages == [MT(SHORTCODE, SENDER, plain), MT(SHORTCODE, SENDER, EMOJI_TEXT)]
    assert [m.coding for m in messages] == [0, 2]


async def test_long_sendsms_comes_back_as_one_mt(make_kannel: MakeKannel, sink: Sink) -> None:
    peer = make_kannel(sink.url)
    long_ucs2 = ("Laporan Anda 😭 sdh diterima — " * 10)[:200]
    await sendsms(peer, SENDER, LONG_GSM)
    await sendsms(peer, SENDER, long_ucs2, coding="2", charset="UTF-8")
    mt = await peer.wait_for_mt_async(lambda m: m.coding == 2)

    assert (mt.text, mt.parts) == (long_ucs2, 4)
    first = peer.mt_messages()[0]
    assert (first, first.parts) == (MT(SHORTCODE, SENDER, LONG_GSM), 2)


async def test_stop_reaps_every_process(make_kannel: MakeKannel, sink: Sink) -> None:
    peer = make_kannel(sink.url)
    pids = peer.pids
    assert set(pids) == {"bearerbox", "smsbox", "fakesmsc-mt"} and peer.running
    peer.stop()
    for pid in pids.values():
        assert not os.path.exists(f"/proc/{pid}"), "process left running or unreaped"
    peer.stop()  # idempotent


# --- pure halves: MO encoding and MT log decoding ---------------------------------------


def test_fakesmsc_lines_choose_coding_like_a_handset() -> None:
    assert fakesmsc_lines("62", "1708", "halo {}") == ["62 1708 text halo {}"]
    assert fakesmsc_lines("62", "1708", "hi 😭") == ["62 1708 ucs2 %00h%00i%00%20%D8%3D%DE-"]
    assert fakesmsc_lines("62", "1708", "é", "raw") == ["62 1708 text é"]
    lines = fakesmsc_lines("62", "1708", "€" * 100, ref=7)  # 200 septets: 76 + 24 chars
    assert lines == [
        "62 1708 udh-text %05%00%03%07%02%01 " + "€" * 76,
        "62 1708 udh-text %05%00%03%07%02%02 " + "€" * 24,
    ]
    with pytest.raises(ValueError):
        fakesmsc_lines("62", "1708", "a\nb", "gsm")


def test_parse_mt_log_reassembles_and_glues() -> None:
    log = "\n".join(
        [
            "2026-11-25 22:17:18 [1] [0] INFO: fakesmsc starting",
            "2026-11-25 22:17:18 [1] [0] DEBUG: Got message 1: <1708 62 text line1>",
            "2026-11-25 22:17:18 [1] [0] DEBUG: Got message 2: <line2 %41+>",
            "2026-11-25 22:17:18 [1] [0] DEBUG: Got message 3: <1708 62 udh %05%00%03%09%02%01 data %00x%D8%3D>",
            "2026-11-25 22:17:18 [1] [0] DEBUG: Got message 4: <1708 63 udh %05%00%03%01%02%02 data +%40%C3%A9>",
            "2026-11-25 22:17:18 [1] [0] DEBUG: Got message 5: <1708 62 udh %05%00%03%09%02%02 data %DE-%00%21>",
            "2026-11-25 22:17:18 [1] [0] DEBUG: Got message 6: <1708 62 ucs-2 %00o%00k>",
        ]
    )
    assert parse_mt_log(log) == [
        MT("1708", "62", "line1\nline2 %41+"),
        MT("1708", "62", "x😭!"),
        MT("1708", "62", "ok"),
    ]  # the 2nd part of "63"'s message never came: left out


@pytest.mark.parametrize(("ci", "outcome"), [(None, pytest.skip.Exception), ("true", pytest.fail.Exception)])
def test_missing_kannel_skips_locally_and_fails_on_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str | None, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(kannel, "BEARERBOX", "/nonexistent/bearerbox")
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="bearerbox missing"):
        kannel.require_kannel()
