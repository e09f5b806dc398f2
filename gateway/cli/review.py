"""``lapor-gateway review``: what waits for a person, corrected and approved or rejected.

The queue shows each item's text (an excerpt of what OCR read; never a confidential one), its page
count and reasons. Before approval a person may correct the text and fields: ``--text-file FILE`` or
``--edit`` (``$EDITOR``, at a terminal) take a small document::

    Subject: Jalan rusak
    Location: Jl. Merdeka 5, Bandung
    Category: Infrastruktur

    the complaint's text...

The field lines are optional (a file without them is the text alone); the public text is masked again,
and for an anonymous reporter the text too, as the normaliser does. Page images are the citizen's unsealed
letter: they go to a private folder (mode 0700) that is removed when the reviewer is done, or into ``--out``.

``--reject ID --because REASON`` keeps it out and tells the citizen why, in their words, on the channel they
used (:mod:`gateway.worker.rejections`); ``--because do_not_notify`` sends nothing, and a stranger's answer
held for review is never answered. ``--reason TEXT`` is a note for staff, never sent.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from gateway.cli.display import safe_cell, safe_text
from gateway.settings import Settings
from gateway.worker.templates import DO_NOT_NOTIFY, REJECT_CHOICES

EXCERPT_CHARS = 160
HIDDEN = "(confidential: not shown)"
FIELDS = {"subject": "Subject", "location": "Location", "category": "Category"}
_FIELD_LINE = re.compile(r"(Subject|Location|Category):[ \t]*(.*)", re.IGNORECASE)
_SAFE_EXT = re.compile(r"[a-z0-9]{1,8}")
EDIT_HELP = (
    "# Correct the text and the fields below, then save and close the editor. Lines starting with # are\n"
    "# ignored; an empty text changes nothing.\n"
)


def _journal(settings: Settings):  # type: ignore[no-untyped-def]
    from gateway.store import open_journal

    return open_journal(settings)


# --- the correction document --------------------------------------------------------------

def document(record: dict[str, Any]) -> str:
    """The record's text and fields as the document a person edits."""
    cats = record.get("category_suggestion") or []
    values = {"subject": record.get("subject") or "", "location": (record.get("location") or {}).get("text") or "",
              "category": cats[0]["category"] if cats else ""}
    head = "".join(f"{label}: {values[key]}\n" for key, label in FIELDS.items())
    return f"{EDIT_HELP}{head}\n{record.get('body') or ''}\n"


def parse_document(text: str) -> tuple[dict[str, str], str]:
    """(fields given, text). Field lines count only in a block at the top that a blank line ends."""
    lines = [ln for ln in text.replace("\r\n", "\n").split("\n") if not ln.startswith("#")]
    fields: dict[str, str] = {}
    i = 0
    while i < len(lines) and (m := _FIELD_LINE.fullmatch(lines[i].strip())):
        fields[m.group(1).lower()] = m.group(2).strip()
        i += 1
    if fields and (i == len(lines) or lines[i].strip() == ""):
        lines = lines[i:]
    else:
        fields = {}  # not a header block: the whole file is the text
    return fields, "\n".join(lines).strip()


def corrected(record: dict[str, Any], fields: dict[str, str], body: str) -> dict[str, Any]:
    """The record with a person's text and fields; the public text (and, when anonymous, all) masked again."""
    from normalizer.identity import IdentityMasker, mask_self_named
    from normalizer.pii import mask_pii

    reporter = record.get("reporter") or {}
    masker = IdentityMasker(names=[reporter.get("name")], handles=[reporter.get("handle")],
                            addresses=[reporter.get("address")], phones=[reporter.get("phone")],
                            niks=[reporter.get("nik")])

    def mask(s: str) -> str:
        return masker.mask(mask_self_named(mask_pii(s)))

    privacy = record.get("privacy") or {}
    out = dict(record)
    subject = fields.get("subject", record.get("subject") or "") or None
    location = fields.get("location")
    if privacy.get("anonymous"):
        body, subject = mask(body), mask(subject) if subject else None
        location = mask(location) if location else location
    out["body"], out["subject"] = body, subject
    out["body_public"] = None if privacy.get("confidential") else mask(body)
    if location is not None:
        out["location"] = {**(record.get("location") or {}), "text": location or None}
    category = fields.get("category")
    if category:
        rest = [c for c in record.get("category_suggestion") or [] if c.get("category") != category]
        out["category_suggestion"] = [{"category": category, "confidence": 1.0}, *rest]
    return out


def _edit(initial: str) -> str | None:
    """The document after ``$EDITOR`` (``VISUAL``, else ``EDITOR``, else ``vi``); None when it failed."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    folder = Path(tempfile.mkdtemp(prefix="lapor-review-"))  # mode 0700
    path = folder / "correction.txt"
    try:
        path.write_text(initial, encoding="utf-8")
        path.chmod(0o600)
        if subprocess.call([*editor.split(), str(path)]) != 0:
            return None
        return path.read_text(encoding="utf-8")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- the command --------------------------------------------------------------------------

def _pages(record: dict[str, Any], images: list[dict[str, Any]]) -> int:
    """Pages of the letter: what OCR read, else the cleaned page images (the original file is not a page)."""
    ocr = record.get("ocr") or {}
    if isinstance(ocr.get("pages"), int):
        return ocr["pages"]
    cleaned = [a for a in images if re.search(r"-page\d+\.png$", a.get("filename") or "")]
    return len(cleaned) or len(images)


def _page_images(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in record.get("attachments") or [] if str(a.get("media_type", "")).startswith("image/")]


def _confidential(row: dict[str, Any], record: dict[str, Any]) -> bool:
    return bool(row.get("confidential")) or bool((record.get("privacy") or {}).get("confidential"))


def _excerpt(record: dict[str, Any], confidential: bool) -> str:
    if confidential:
        return HIDDEN
    text = " ".join(str(record.get("body") or "").split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def _waiting(journal: Any, tracking_id: str) -> dict[str, Any] | None:
    row = journal.complaint_by_tracking(tracking_id)
    return row if row is not None and row["state"] == "review" else None


def _correct(args: argparse.Namespace, journal: Any, tid: str) -> int | None:
    """Apply ``--text-file``/``--edit`` to ``tid``; an exit code when it must stop there, None to go on."""
    row = _waiting(journal, tid)
    if row is None:
        print(f"lapor-gateway: {safe_text(tid)} is not waiting for review", file=sys.stderr)
        return 1
    record = json.loads(row["record"])
    if args.text_file:
        try:
            text = Path(args.text_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"lapor-gateway: cannot read --text-file: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
            return 2
    else:
        if _confidential(row, record):
            print("lapor-gateway: a confidential text is not opened in an editor; correct it with --text-file FILE",
                  file=sys.stderr)
            return 2
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            print("lapor-gateway: --edit needs a terminal; give the correction with --text-file FILE", file=sys.stderr)
            return 2
        edited = _edit(document(record))
        if edited is None:
            print("lapor-gateway: the editor failed; nothing changed", file=sys.stderr)
            return 1
        text = edited
    fields, body = parse_document(text)
    if not body:
        print("lapor-gateway: the corrected text is empty; nothing changed", file=sys.stderr)
        return 1
    if not journal.review_correct_sync(tid, json.dumps(corrected(record, fields, body), ensure_ascii=False)):
        print(f"lapor-gateway: {safe_text(tid)} is not waiting for review", file=sys.stderr)
        return 1
    print(f"{safe_text(tid)} corrected")
    return None


_SILENT = {
    DO_NOT_NOTIFY: "the citizen is not told (do_not_notify)",
    "strangers_answer": "nobody is told: it answers a ticket that is not its sender's",
    "no_address": "the citizen cannot be told: it came with no address to answer",
}


def _reject(args: argparse.Namespace, settings: Settings, journal: Any) -> int:
    """Reject, and tell the citizen why unless --because do_not_notify (gateway.worker.rejections)."""
    from gateway.worker.rejections import reject
    from gateway.worker.templates import Templates

    tid = args.reject
    note = " ".join((args.reason or "").split())[:500] or None
    templates = Templates(settings.sms.receipt_language, timezone=settings.service.timezone)
    done = reject(journal, templates, tid, args.because, note)
    if not done.decided:  # on stdout, as before (scripts read it there)
        print(f"lapor-gateway: {safe_text(tid)} is not waiting for review")
        return 1
    told = _SILENT[done.silent] if done.silent else (
        f"the citizen is told it cannot be processed ({args.because}; {done.told} "
        f"notice{'s' if done.told > 1 else ''})")
    print(f"{safe_text(tid)} rejected: kept, not sent; {told}")
    return 0


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    journal = _journal(settings)
    try:
        target = args.approve or args.reject or args.edit
        if (args.reason or args.because) and not args.reject:
            print("lapor-gateway: --because and --reason go with --reject ID", file=sys.stderr)
            return 2
        if args.reject and not args.because:
            print("lapor-gateway: --reject ID needs --because REASON, what the citizen is told: "
                  f"{', '.join(REJECT_CHOICES)} ({DO_NOT_NOTIFY}: nothing is sent)", file=sys.stderr)
            return 2
        if (args.text_file or args.edit) and not (args.approve or args.edit):
            print("lapor-gateway: --text-file goes with --approve ID or --edit ID", file=sys.stderr)
            return 2
        if args.text_file or args.edit:
            stop = _correct(args, journal, target)
            if stop is not None or args.edit:
                return stop or 0
        if args.approve:
            if not journal.review_decide_sync(args.approve, True):  # on stdout, as before (scripts read it there)
                print(f"lapor-gateway: {safe_text(args.approve)} is not waiting for review")
                return 1
            print(f"{safe_text(args.approve)} approved: it will be forwarded and answered")
            return 0
        if args.reject:
            return _reject(args, settings, journal)
        queue = journal.review_queue()
        rows = {item["tracking_id"]: journal.complaint_by_tracking(item["tracking_id"]) for item in queue}
    finally:
        journal.close()
    if args.images:
        return _export_images(settings, rows.get(args.images), args.images, args.out)
    table = Table(title=f"review queue ({len(queue)})")
    for col in ("tracking ID", "channel", "pages", "reasons", "text (excerpt)"):
        table.add_column(col, overflow="fold", no_wrap=col in ("tracking ID", "channel", "pages"),
                         ratio=3 if col == "text (excerpt)" else None)
    for item in queue:
        row = rows[item["tracking_id"]] or {}
        record = json.loads(row.get("record") or "{}")
        images = _page_images(record)
        reasons = "\n".join(safe_text(r) for r in json.loads(item["reasons"] or "[]"))
        table.add_row(safe_cell(item["tracking_id"]), safe_cell(item["channel"]),
                      safe_cell(f"{_pages(record, images)}" + ("\nreview --images" if images else ""), newlines=True),
                      safe_cell(reasons, newlines=True),
                      safe_cell(_excerpt(record, _confidential(row, record))))
    Console().print(table)
    if queue:
        # each hint within 80 columns (the choices were one 125-character line)
        print("page images: review --images ID\n"
              "correct:     review --edit ID (or --approve ID --text-file FILE)\n"
              "decide:      review --approve ID | --reject ID --because REASON\n"
              + textwrap.fill(", ".join(REJECT_CHOICES), 80, initial_indent="             REASON: ",
                              subsequent_indent=" " * 21))
    return 0


def _export_images(settings: Settings, row: dict[str, Any] | None, tracking_id: str, out: str | None) -> int:
    """The page images are sealed at rest; a reviewer gets them opened into a private folder (mode 0700) that is
    removed when they press Enter, or into ``--out``."""
    from gateway.store.blobs import BlobStore

    if row is None:
        print(f"lapor-gateway: {safe_text(tracking_id)} is not waiting for review", file=sys.stderr)
        return 1
    interactive = sys.stdin.isatty()
    if out is None and not interactive:
        print("lapor-gateway: not at a terminal: give --out DIR for the page images (the citizen's letter)",
              file=sys.stderr)
        return 2
    folder = Path(out) if out else Path(tempfile.mkdtemp(prefix=f"lapor-review-{tracking_id}-"))
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    blobs = BlobStore.for_settings(settings)
    try:
        for n, image in enumerate(_page_images(json.loads(row["record"])), start=1):
            ext = str(image["media_type"]).partition("/")[2].lower().replace("jpeg", "jpg")
            ext = ext if _SAFE_EXT.fullmatch(ext) else "img"  # a media type from a message never names a path
            target = folder / f"{tracking_id}-{n}.{ext}"
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(blobs.get(image["sha256"]))
            print(safe_text(target))
        if out is None:
            input("open them now; press Enter when done (the folder is then removed) ")
    finally:
        if out is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def register_review(add: Any, bind: Any) -> None:
    review = add("review", bind(cmd_review), "list items waiting for a person; correct, approve or reject one",
                 "The review queue: scans and messages a person must look at, with their text (an excerpt; never a\n"
                 "confidential one), page count and reasons. Correct the text and fields before approving:\n"
                 "  review --edit ID                          in $EDITOR (at a terminal)\n"
                 "  review --approve ID --text-file FILE      from a file, then approve\n"
                 "The document: optional 'Subject:', 'Location:', 'Category:' lines, a blank line, then the text.")
    group = review.add_mutually_exclusive_group()
    group.add_argument("--approve", metavar="ID", help="forward it and send its held receipts")
    group.add_argument("--reject", metavar="ID", help="keep it out (not forwarded); with --because, what the citizen "
                       "is told")
    group.add_argument("--edit", metavar="ID", help="correct its text and fields (--text-file, or $EDITOR)")
    group.add_argument("--images", metavar="ID",
                       help="open its page images into a private folder, removed when you press Enter (or --out)")
    review.add_argument("--because", choices=REJECT_CHOICES, metavar="REASON",
                        help="with --reject: why, as the citizen is told it in their words on the channel they used "
                        f"({', '.join(REJECT_CHOICES)}; {DO_NOT_NOTIFY} for spam or abuse: nothing is sent)")
    review.add_argument("--reason", metavar="TEXT", help="with --reject: a note for staff (kept with the decision, "
                        "shown by show and in the console; never sent to the citizen)")
    review.add_argument("--text-file", metavar="FILE", help="the corrected text and fields (with --approve or --edit)")
    review.add_argument("--out", metavar="DIR", default=None,
                        help="keep the page images in DIR instead (made with mode 0700; remove it when done)")
