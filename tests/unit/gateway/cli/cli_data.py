"""A gateway's data dir built through the Journal API (no gateway running), for the CLI's tests."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from channels.message import InboundMessage
from gateway.store.blobs import BlobStore
from gateway.store.records import ComplaintRow, Event, InboundOutcome, ReceiptRow
from gateway.store.sqlite.journal import Journal
from gateway.store.vault import Sealer
from normalizer.tracking import new_tracking_id
from tests.gateway_proc import REPO, GatewayProcess


def journal(gw: GatewayProcess) -> Journal:
    return Journal(gw.data_dir / "gateway.db", Sealer(gw.env["LAPOR_PRIVACY__VAULT_KEY"]))


def blobs(gw: GatewayProcess) -> BlobStore:
    return BlobStore(gw.data_dir / "blobs", sealer=Sealer(gw.env["LAPOR_PRIVACY__VAULT_KEY"]))


def new_gateway(tmp_path: Path, **env: str) -> GatewayProcess:
    """A data dir with an (empty) journal: what a first ``run`` leaves."""
    gw = GatewayProcess(tmp_path / "gw", {"PYTHONIOENCODING": "utf-8", **env})
    gw.data_dir.mkdir(parents=True)
    journal(gw).close()
    return gw


def add_complaint(gw: GatewayProcess, record: dict[str, Any], *, state: str = "normalized", outcome: str = "normalized",
                  anonymous: bool = False, confidential: bool = False, receipts: list[ReceiptRow] | None = None,
                  events: list[Event] | None = None) -> str:
    """One complaint (its inbound message, record, receipts and events), as the worker writes it."""
    tid = record.setdefault("tracking_id", new_tracking_id())
    record.setdefault("channel", "sms.kannel")
    record.setdefault("account", "1708")
    record.setdefault("received_at", "2026-12-02T01:15:02+00:00")
    j = journal(gw)

    async def go() -> None:
        (res,) = await j.accept_many([InboundMessage(channel=record["channel"], account=record["account"],
                                                     external_id=f"ext-{tid}", sender="6281200000001", text="t")])
        inbound = int(res.message_id)
        row = ComplaintRow(id=f"c-{tid}", tracking_id=tid, inbound_id=inbound, channel=record["channel"],
                           record_json=json.dumps(record), reporter_ref=None, anonymous=anonymous,
                           confidential=confidential, vault={}, state=state)
        for r in receipts or []:
            r.complaint_id, r.tracking_id = row.id, tid
        out = InboundOutcome(inbound, outcome, row, receipts=receipts or [], events=events or [])
        assert await j.record_outcomes([out], cursor=inbound) == [True]

    asyncio.run(go())
    j.close()
    return tid


def log_events(gw: GatewayProcess, events: list[Event]) -> None:
    j = journal(gw)

    async def go() -> None:
        for e in events:
            await j.log_event(e)

    asyncio.run(go())
    j.close()


def cli(gw: GatewayProcess, *args: str, cwd: Path = REPO, columns: int | None = None, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full = {**gw.env, **(env or {})}
    if columns:
        full["COLUMNS"] = str(columns)
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=timeout)


def conversation_at(gw: GatewayProcess, tid: str, columns: int) -> tuple[str, list[str]]:
    """``show <tid>`` at ``columns`` wide, whose Conversation lines must each fit with no trailing blanks: its first
    line and the non-blank lines after it."""
    out = cli(gw, "show", tid, columns=columns)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("Conversation (1)")[1].splitlines()[1:]
    assert all(len(ln) <= columns and ln == ln.rstrip() for ln in lines)
    return lines[0], [ln for ln in lines[1:] if ln.strip()]


def bare_env() -> dict[str, str]:
    """The environment without any LAPOR_* variable (no data dir, no secrets given)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LAPOR_")} | {"PYTHONPATH": str(REPO)}
