"""Commands for the service counter: ``scan`` and ``form`` (``review`` is gateway/cli/review.py).

File names, reasons and channels can come from a sender; everything printed from them goes
through :mod:`gateway.cli.display` (literal ``Text``, no raw controls or bidi overrides).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from channels.message import Rejected
from gateway.cli.display import safe_cell, safe_text
from gateway.settings import Settings


def _journal(settings: Settings):  # type: ignore[no-untyped-def]
    from gateway.store import open_journal

    return open_journal(settings)


def cmd_scan(args: argparse.Namespace, settings: Settings) -> int:
    from channels.letters.scan import LettersChannel
    from gateway.store.blobs import BlobStore

    console = Console()
    journal = _journal(settings)
    reader = LettersChannel.from_settings(settings.letters, BlobStore.for_settings(settings))
    results: list[tuple[str, str, str]] = []
    accepted: dict[int, str] = {}
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as progress:
            task = progress.add_task("scanning", total=len(args.files))
            for path in args.files:
                progress.update(task, description=f"reading {escape(safe_text(Path(path).name))}")
                try:
                    msg = reader.read_file(path)
                except (Rejected, OSError) as exc:
                    results.append((path, "failed", exc.reason if isinstance(exc, Rejected) else str(exc)))
                else:
                    res = asyncio.run(journal.accept(msg))
                    accepted[int(res.message_id)] = path
                    note = "; ".join(msg.review_reasons) if msg.review_reasons else ""
                    results.append((path, "duplicate" if res.duplicate else "accepted", note))
                progress.advance(task)
        tracking = _wait_for_tracking(journal, accepted, args.wait)
        held = {t: (journal.complaint_by_tracking(t) or {}).get("state") == "review" for t in tracking.values()}
    finally:
        journal.close()
    table = Table(title="scan")
    for col in ("file", "result", "tracking ID", "note"):
        table.add_column(col, overflow="fold")
    for path, result, note in results:
        tid = next((t for i, t in tracking.items() if accepted.get(i) == path), "")
        if tid and held.get(tid):
            result = "held for review"
        table.add_row(safe_cell(path), safe_cell(result), safe_cell(tid), safe_cell(note))
    console.print(table)
    if accepted and len(tracking) < len(accepted):
        console.print("[yellow]some scans are still queued: a running `lapor-gateway run` processes them[/]")
    receipts = settings.data.dir / "receipts"
    if tracking:
        console.print(f"printable receipts: {receipts}/<tracking ID>.pdf")
    return 1 if any(r[1] == "failed" for r in results) else 0


def _wait_for_tracking(journal: Any, accepted: dict[int, str], wait: float) -> dict[int, str]:
    deadline = time.monotonic() + wait
    found: dict[int, str] = {}
    while accepted and time.monotonic() < deadline:
        found = journal.tracking_for_inbound(list(accepted))
        if len(found) == len(accepted):
            break
        time.sleep(0.3)
    return found


def cmd_form(args: argparse.Namespace, settings: Settings | None) -> int:
    from channels.letters.form import render_form_pdf

    out = render_form_pdf(args.output)
    print(f"complaint-box form written to {out}")
    return 0


def register(add: Callable[..., argparse.ArgumentParser], load: Callable[..., Settings]) -> None:
    from gateway.cli.review import register_review

    def bind(fn: Callable[[argparse.Namespace, Settings], int]) -> Callable[..., int]:
        return lambda args: fn(args, load(args))

    scan = add("scan", bind(cmd_scan), "OCR scanned letters/forms (JPEG, PNG, TIFF, PDF) into complaints",
               "Read scanned letters and complaint-box forms into the journal of the gateway whose data this is\n"
               "(a running `lapor-gateway run` processes them), then wait for their tracking IDs. A scan the\n"
               "machine could not read well is held for review (`lapor-gateway review`). Printable receipts are\n"
               "written to <data.dir>/receipts/<tracking ID>.pdf.")
    scan.add_argument("files", nargs="+", metavar="FILE", help="scans to read (JPEG, PNG, TIFF, PDF)")
    scan.add_argument("--wait", type=float, default=20.0, metavar="SECONDS",
                      help="seconds to wait for tracking IDs from the running gateway (default 20; 0: do not wait)")
    form = add("form", lambda args: cmd_form(args, None), "write the printable complaint-box form (PDF)",
               "Write the printable complaint-box form (Nama, NIK, Alamat, No. HP, Isi, the Anonim and Rahasia\n"
               "boxes) as a PDF. Reads no gateway data.")
    form.add_argument("output", nargs="?", default="formulir-pengaduan.pdf", metavar="OUT.pdf",
                      help="where to write it (default: ./formulir-pengaduan.pdf)")
    register_review(add, bind)
