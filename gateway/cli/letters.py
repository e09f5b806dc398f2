"""Commands for the service counter: ``scan``, ``form`` and ``review``.

File names, reasons and channels can come from a sender; everything printed from them goes
through :mod:`gateway.cli.display` (literal ``Text``, no raw controls or bidi overrides).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
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

_SAFE_EXT = re.compile(r"[a-z0-9]{1,8}")


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
    finally:
        journal.close()
    table = Table(title="scan")
    for col in ("file", "result", "tracking ID", "note"):
        table.add_column(col, overflow="fold")
    for path, result, note in results:
        tid = next((t for i, t in tracking.items() if accepted.get(i) == path), "")
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


def cmd_form(args: argparse.Namespace, settings: Settings) -> int:
    from channels.letters.form import render_form_pdf

    out = render_form_pdf(args.output)
    print(f"complaint-box form written to {out}")
    return 0


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    journal = _journal(settings)
    try:
        if args.approve or args.reject:
            tid, approve = (args.approve, True) if args.approve else (args.reject, False)
            if not journal.review_decide_sync(tid, approve):
                print(f"lapor-gateway: {safe_text(tid)} is not waiting for review")
                return 1
            print(f"{safe_text(tid)} {'approved: it will be forwarded and answered' if approve else 'rejected: kept, not sent'}")
            return 0
        queue = journal.review_queue()
    finally:
        journal.close()
    if args.images:
        return _export_images(settings, queue, args.images, Path(args.out))
    table = Table(title=f"review queue ({len(queue)})")
    for col in ("tracking ID", "channel", "reasons", "page images"):
        table.add_column(col, overflow="fold")
    for item in queue:
        n = len(_page_images(item))
        reasons = "\n".join(safe_text(r) for r in json.loads(item["reasons"] or "[]"))
        table.add_row(safe_cell(item["tracking_id"]), safe_cell(item["channel"]), safe_cell(reasons, newlines=True),
                      safe_cell(f"{n} page(s): review --images {item['tracking_id']}"))
    Console().print(table)
    return 0


def _page_images(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in json.loads(item["attachments"] or "[]") if a["media_type"].startswith("image/")]


def _export_images(settings: Settings, queue: list[dict[str, Any]], tracking_id: str, out: Path) -> int:
    """The page images are sealed at rest; a reviewer gets them opened into a folder of their choice."""
    from gateway.store.blobs import BlobStore

    item = next((i for i in queue if i["tracking_id"] == tracking_id), None)
    if item is None:
        print(f"lapor-gateway: {safe_text(tracking_id)} is not waiting for review")
        return 1
    blobs = BlobStore.for_settings(settings)
    out.mkdir(parents=True, exist_ok=True)
    for n, image in enumerate(_page_images(item), start=1):
        ext = image["media_type"].partition("/")[2].lower().replace("jpeg", "jpg")
        ext = ext if _SAFE_EXT.fullmatch(ext) else "img"  # a media type from a message never names a path
        target = out / f"{tracking_id}-{n}.{ext}"
        target.write_bytes(blobs.get(image["sha256"]))
        print(safe_text(target))
    return 0


def register(add: Callable[..., argparse.ArgumentParser], load: Callable[..., Settings]) -> None:
    def bind(fn: Callable[[argparse.Namespace, Settings], int], generate: bool = False) -> Callable[..., int]:
        return lambda args: fn(args, load(args, generate=generate))

    scan = add("scan", bind(cmd_scan, generate=True), "OCR scanned letters/forms (JPEG, PNG, TIFF, PDF) into complaints")
    scan.add_argument("files", nargs="+")
    scan.add_argument("--wait", type=float, default=20.0, help="seconds to wait for tracking IDs from a running gateway")
    form = add("form", bind(cmd_form), "write the printable complaint-box form (PDF)")
    form.add_argument("output", nargs="?", default="formulir-pengaduan.pdf")
    review = add("review", bind(cmd_review), "list scans waiting for a person; approve or reject one")
    group = review.add_mutually_exclusive_group()
    group.add_argument("--approve", metavar="TRACKING_ID")
    group.add_argument("--reject", metavar="TRACKING_ID")
    group.add_argument("--images", metavar="TRACKING_ID", help="write its page images (opened) into --out")
    review.add_argument("--out", default="review-images", help="folder for --images (default: ./review-images)")
