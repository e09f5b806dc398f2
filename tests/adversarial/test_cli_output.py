"""Operator tools are safe from data: what the CLI prints from a message is escaped.

Senders, reasons, channels and file names carrying rich markup (``[/]…``, ``[link=…]``) or
terminal controls (CSI/OSC sequences, CR, BS, BEL, C1 controls, bidi overrides) must not crash
``log``/``show``/``review``/``scan`` nor reach the operator's terminal raw; the text stays visible.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.markup import escape

from channels.message import InboundMessage
from gateway import cli
from gateway.cli import log as intake_log
from gateway.cli.display import BIDI_CONTROLS, safe_cell, safe_json, safe_text
from gateway.settings import load_settings
from gateway.store.blobs import BlobStore
from gateway.store.records import ComplaintRow, Event, InboundOutcome
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer
from normalizer.tracking import new_tracking_id
from tests.gateway_proc import GatewayProcess

# Each pairs a hostile value with a word that must still be readable after escaping.
HOSTILE: list[tuple[str, str]] = [
    ("[/]b7781", "b7781"),
    ("[bold magenta]Rusdi[/bold magenta] [/", "Rusdi"),
    ("[link=file:///etc/shadow]tautan[/link]", "tautan"),
    (":pile_of_poo: Warsini", "Warsini"),
    ("\x1b[2J\x1b[1;31mPALSU\x1b[0m", "PALSU"),
    ("\x1b]0;judul-jendela\x07kontak", "judul-jendela"),
    ("0812****77\rOPERATOR: aman", "OPERATOR: aman"),
    ("abc\x08\x08\x08xyz", "xyz"),
    ("\x9b32mhijau\x9c\x85", "hijau"),
    ("laporan\u202egpj.exe", "gpj.exe"),
    ("\u2067isolasi\u2069\u200f", "isolasi"),
    ("nul\x00del\x7ftab\tvt\x0b", "del"),
]
# Not storable in the journal (the channel boundary replaces it), but safe_text must cope too.
LONE_SURROGATE = ("lone\ud83dsurrogate", "surrogate")

TID = new_tracking_id()
DANGEROUS = {chr(c) for c in range(0x20)} - {"\n"} | {chr(c) for c in range(0x7F, 0xA0)} | BIDI_CONTROLS


def assert_clean(out: str, *, newlines: bool = True) -> None:
    """No raw control (except newline), C1, surrogate or bidi control in ``out``."""
    bad = sorted({f"U+{ord(ch):04X}" for ch in out if ch in DANGEROUS or unicodedata.category(ch) == "Cs"})
    assert not bad, bad
    if not newlines:
        assert "\n" not in out


def _vault_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _journal(path: Path, vault_key: str) -> Journal:
    return Journal(path, Sealer(vault_key))


def _log_hostile_events(j: Journal) -> None:
    async def go() -> None:
        for value, _ in HOSTILE:
            await j.log_event(Event(channel=value, state=value, tracking_id=value, contact=value, category=value,
                                    flags=value, detail=value))
        await j.log_event(Event("sms.kannel", "needs_review", "1234567890", contact=HOSTILE[0][0]))

    asyncio.run(go())


# --- the one function --------------------------------------------------------------------

def test_safe_text_shows_controls_visibly_and_keeps_the_words():
    for value, word in [*HOSTILE, LONE_SURROGATE]:
        shown = safe_text(value)
        assert_clean(shown, newlines=False)
        assert word.replace("\r", "") in shown or word in shown.replace("\\", ""), (value, shown)
    assert safe_text("\x1b[31m") == "\u241b[31m"  # ESC as the visible ␛
    assert safe_text("a\u202eb") == "a\\u202eb"
    assert safe_text("x\ny") == "x\u240ay" and safe_text("x\ny", newlines=True) == "x\ny"
    assert safe_text(None) == "" and safe_text(42) == "42"
    assert safe_text("Budi Santoso — Jl. Merdeka 5, Bandung 🇮🇩") == "Budi Santoso — Jl. Merdeka 5, Bandung 🇮🇩"


def test_safe_json_round_trips_and_prints_no_raw_control():
    data = {"fields": [v for v, _ in [*HOSTILE, LONE_SURROGATE]], "nested": {"\x1b[k": "\u202ev"}}
    out = safe_json(data, indent=2)
    assert_clean(out)
    assert json.loads(out) == data


# --- lapor-gateway log --------------------------------------------------------------------

def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=400, color_system=None, force_terminal=False), buf


def test_log_prints_hostile_events_escaped(tmp_path):
    j = _journal(tmp_path / "gateway.db", _vault_key())
    _log_hostile_events(j)
    console, buf = _console()
    intake_log.print_log(j, follow=False, last=100, console=console)
    j.close()
    out = buf.getvalue()
    assert_clean(out)
    for value, word in HOSTILE:
        assert word in out.replace("\\u", "").replace("\u240d", "") or word in out, (value, word)
    assert "[/]b7781" in out  # markup shown as written, not interpreted
    assert "[link=file:///etc/shadow]" in out


def test_log_follow_prints_new_hostile_events_escaped(tmp_path, monkeypatch):
    j = _journal(tmp_path / "gateway.db", _vault_key())
    asyncio.run(j.log_event(Event("sms.kannel", "received")))
    calls = {"n": 0}

    class Stop(Exception):
        pass

    def fake_sleep(_seconds: float) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            _log_hostile_events(j)  # arrives while the operator follows the log
        else:
            raise Stop

    monkeypatch.setattr(intake_log.time, "sleep", fake_sleep)
    console, buf = _console()
    with pytest.raises(Stop):
        intake_log.print_log(j, follow=True, last=10, console=console)
    j.close()
    out = buf.getvalue()
    assert_clean(out)
    assert "[/]b7781" in out and "PALSU" in out and "gpj.exe" in out


# --- the real commands, as subprocesses on a data dir built through the Journal API --------

@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GatewayProcess:
    """A gateway's data dir and environment (not started): the CLI reads its journal."""
    gw = GatewayProcess(tmp_path / "gw", {"COLUMNS": "400", "PYTHONIOENCODING": "utf-8"})
    gw.data_dir.mkdir(parents=True)
    for k, v in gw.env.items():
        if k.startswith("LAPOR_"):
            monkeypatch.setenv(k, v)
    page = BlobStore.for_settings(load_settings(None)).put(b"\x89PNG not really a page", "image/png")
    j = _journal(gw.data_dir / "gateway.db", gw.env["LAPOR_PRIVACY__VAULT_KEY"])
    _log_hostile_events(j)
    record = {
        "tracking_id": TID,
        "channel": "email.smtp",
        "reporter": {"name": "[/]Wati\x1b[8m", "email": "wati@example.id\u202e"},
        "body": "jalan rusak\r\x1b[Ksembunyi\x9b",
        "needs_review": [v for v, _ in HOSTILE],
        "attachments": [{"media_type": "image/../../../x\x1b", "sha256": page.sha256, "filename": "a\x07.png"}],
    }

    async def go() -> None:
        (res,) = await j.accept_many([InboundMessage(channel="email.smtp", account="a", external_id="m1",
                                                     sender="x@example.id", text="t")])
        inbound = int(res.message_id)
        row = ComplaintRow(id="c-17", tracking_id=TID, inbound_id=inbound, channel="email.smtp\x1b[5m[/]",
                           record_json=json.dumps(record), reporter_ref=None, anonymous=False, confidential=False,
                           vault={}, state="review")
        assert await j.record_outcomes([InboundOutcome(inbound, "needs_review", row)], cursor=inbound) == [True]

    asyncio.run(go())
    j.close()
    return gw


def _cli_stdout(gw: GatewayProcess, *args: str) -> str:
    done = gw.cli(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    return done.stdout


def test_cli_log_show_and_review_print_escaped(data_dir: GatewayProcess):
    shown_log = _cli_stdout(data_dir, "log", "-n", "100")
    assert_clean(shown_log)
    assert "[/]b7781" in shown_log and "PALSU" in shown_log and "isolasi" in shown_log

    shown = _cli_stdout(data_dir, "show", TID, "--json")
    assert_clean(shown)
    parsed = json.loads(shown)  # still JSON, with the same values
    assert parsed["record"]["body"] == "jalan rusak\r\x1b[Ksembunyi\x9b"
    assert parsed["record"]["reporter"]["name"] == "[/]Wati\x1b[8m"

    queue = _cli_stdout(data_dir, "review")
    assert_clean(queue)
    assert TID in queue and "[/]b7781" in queue and "gpj.exe" in queue


def test_review_images_never_writes_outside_the_folder(data_dir: GatewayProcess, tmp_path: Path):
    out = tmp_path / "deep" / "out"
    shown = _cli_stdout(data_dir, "review", "--images", TID, "--out", str(out))
    assert_clean(shown)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and data_dir.data_dir not in p.parents]
    assert written == [out / f"{TID}-1.img"]  # the media type from the record names no path


# --- scan ---------------------------------------------------------------------------------

def test_scan_prints_a_hostile_file_name_escaped(tmp_path, monkeypatch, capsys):
    gw = GatewayProcess(tmp_path / "gw")
    for k, v in gw.env.items():
        if k.startswith("LAPOR_"):
            monkeypatch.setenv(k, v)
    monkeypatch.setenv("COLUMNS", "400")
    _journal(gw.data_dir / "gateway.db", gw.env["LAPOR_PRIVACY__VAULT_KEY"]).close()  # scan needs a gateway's data
    name = tmp_path / "surat\x1b[2J[bold red]\u202egnp.\x9bwarga[.png"
    name.write_bytes(b"this is not an image at all")
    code = cli.main(["scan", "--wait", "0", str(name)])
    out = capsys.readouterr()
    assert code == 1  # the file failed, and said so
    assert_clean(out.out)
    assert_clean(out.err)
    assert "warga[.png" in out.out and "[bold red]" in out.out and "failed" in out.out


# --- property: safe_text of anything ------------------------------------------------------

ANY_CHAR = st.one_of(
    st.sampled_from(sorted(DANGEROUS | {"[", "]", "/", "\\", ":", "\n", "\u2028", "\u2029", "\ufeff", chr(0xD800), chr(0xDFFF)})),
    st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None, exclude_categories=()),
)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ANY_CHAR, max_size=60), st.booleans())
def test_safe_text_of_any_string_is_clean_and_renders(value: str, newlines: bool):
    shown = safe_text(value, newlines=newlines)
    assert_clean(shown, newlines=newlines)
    assert "\u2028" not in shown and "\u2029" not in shown
    shown.encode("utf-8")  # printable on a UTF-8 terminal: no lone surrogate left
    console, buf = _console()
    console.print(safe_cell(value, "bold", newlines=newlines))
    console.print(escape(shown))  # also safe through markup, once escaped
    assert_clean(buf.getvalue())
    ordinary = not any(ch in DANGEROUS or unicodedata.category(ch) in ("Cs", "Zl", "Zp") for ch in value)
    if ordinary and (newlines or "\n" not in value):  # a line break in a one-line field is shown, not kept
        assert shown == value  # ordinary text is left alone
    assert json.loads(safe_json({"v": value})) == {"v": value}
