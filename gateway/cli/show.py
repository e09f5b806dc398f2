"""``lapor-gateway show TRACKING_ID``: one complaint as an operator reads it, or ``--json`` for machines.

The view: the record's summary, the central store's answer, a timeline of every intake-log event of the
complaint, and each receipt and reply with its text, state and delivery. Times are ISO 8601 in
``service.timezone`` with the offset and the zone's name. A confidential complaint's subject and text are
never shown (``--json`` neither); an anonymous reporter is not in the record, and no receipt's address is
ever opened. Everything from a message goes through :mod:`gateway.cli.display`.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

from rich.console import Console, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from channels.citizen_time import zone, zone_label
from gateway.cli.display import safe_cell, safe_json, safe_text
from gateway.settings import Settings

HIDDEN = "(confidential: not shown)"
TIME_FIELDS = ("created_at", "sent_at", "delivered_at", "forwarded_at", "at", "received_at")


def iso(value: Any, timezone: str) -> str | None:
    """An epoch float or an ISO string as ISO 8601 in ``timezone`` (seconds), e.g. ``2026-12-02T08:15:02+07:00``."""
    if value in (None, ""):
        return None
    try:
        if isinstance(value, int | float):
            moment = datetime.fromtimestamp(float(value), zone(timezone))
        else:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            moment = moment.astimezone(zone(timezone)) if moment.tzinfo else moment.replace(tzinfo=zone(timezone))
    except (TypeError, ValueError, OverflowError, OSError):
        return str(value)
    return moment.isoformat(timespec="seconds")


def shown_time(value: Any, timezone: str) -> str:
    at = iso(value, timezone)
    return f"{at} {zone_label(timezone)}" if at else "-"


def _with_iso_times(row: dict[str, Any], timezone: str) -> dict[str, Any]:
    return {k: iso(v, timezone) if k in TIME_FIELDS else v for k, v in row.items()}


def gather(journal: Any, row: dict[str, Any], timezone: str) -> dict[str, Any]:
    """Everything ``show`` prints, as plain values (the ``--json`` output)."""
    tid = row["tracking_id"]
    record = json.loads(row["record"])
    confidential = bool(row["confidential"]) or bool(record.get("privacy", {}).get("confidential"))
    if confidential:  # the store gets it; an operator's terminal does not
        record = {**record, "subject": None if record.get("subject") is None else HIDDEN, "body": HIDDEN}
    record["received_at"] = iso(record.get("received_at"), timezone)
    texts = journal.receipt_texts_for(tid)
    receipts = [_with_iso_times(r, timezone) | {"text": texts.get(r["id"], "")} for r in journal.receipts_for(tid)]
    events = journal.events_matching(tracking_id=tid, limit=10_000)
    # the return path: what the agency told the citizen (and, beside it, what the citizen answered)
    conversation = [_with_iso_times(u, timezone) | {"by": "agency", "what": "update"} for u in journal.updates_for(tid)]
    conversation += citizen_responses(journal, tid, timezone)
    conversation.sort(key=lambda e: e.get("created_at") or "")
    if confidential:  # the agency's answer on a confidential complaint is for the citizen, not a terminal
        conversation = [e | {"text": HIDDEN} for e in conversation]
    return {
        "tracking_id": tid,
        "state": row["state"],
        "attempts": row["attempts"],
        "last_error": row["last_error"],
        "created_at": iso(row.get("created_at"), timezone),
        "forwarded_at": iso(row.get("forwarded_at"), timezone),
        "review_reason": row.get("review_reason"),
        "timezone": timezone,
        "record": record,
        "central_store": json.loads(row["central_answer"]) if row["central_answer"] else None,
        "receipts": [r for r in receipts if r["kind"] != "update"],
        "conversation": conversation,
        "events": [_with_iso_times({k: v for k, v in e.items() if k != "seq"}, timezone) for e in events],
    }


def citizen_responses(journal: Any, tracking_id: str, timezone: str) -> list[dict[str, Any]]:
    """The citizen's answers on this complaint, as conversation entries (``by`` citizen, ``what``
    citizen_response, ``created_at``, ``channel``, ``text``, ``state``: pending (waiting for the store, or for the
    complaint to reach it), forwarded or dead_letter; ``attachments`` their metadata)."""
    out = []
    for r in journal.responses_for(tracking_id):
        entry = {k: r.get(k) for k in ("channel", "text", "state", "attempts", "last_error", "attachments",
                                       "received_at", "created_at", "forwarded_at")}
        out.append(_with_iso_times(entry, timezone) | {"by": "citizen", "what": "citizen_response"})
    return out


def _summary(out: dict[str, Any], timezone: str) -> Table:
    rec = out["record"]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")

    def line(label: str, value: Any, *, newlines: bool = False) -> None:
        if value not in (None, "", []):
            grid.add_row(label, value if isinstance(value, Text) else safe_cell(value, newlines=newlines))

    privacy = rec.get("privacy") or {}
    flags = [f for f in ("anonymous", "confidential") if privacy.get(f)]
    line("state", out["state"])
    line("channel", f"{safe_text(rec.get('channel'))} (account {safe_text(rec.get('account'))})")
    line("received", shown_time(rec.get("received_at"), timezone))
    line("forwarded", shown_time(out["forwarded_at"], timezone) if out["forwarded_at"] else None)
    line("rejected because" if out["state"] == "rejected" else "review reason", out.get("review_reason"))
    line("central store", _store_status(out, timezone))
    if out["attempts"] or out["last_error"]:
        line("attempts", f"{out['attempts']} · last error: {safe_text(out['last_error']) or '-'}")
    line("privacy", " · ".join(flags) + (f" (from {safe_text(privacy.get('source'))})" if flags else "") or "none")
    reporter = rec.get("reporter")
    if privacy.get("anonymous") or not reporter:
        line("reporter", "anonymous: identity sealed in the vault" if privacy.get("anonymous") else "-")
    else:
        line("reporter", " · ".join(f"{k}: {safe_text(v)}" for k, v in reporter.items() if v))
    cats = rec.get("category_suggestion") or []
    line("category", ", ".join(f"{safe_text(c.get('category'))} ({c.get('confidence', 0):.2f})" for c in cats))
    loc = rec.get("location") or {}
    line("location", loc.get("text"))
    line("subject", rec.get("subject"))
    line("text", rec.get("body"), newlines=True)
    line("needs review", "\n".join(safe_text(r) for r in rec.get("needs_review") or []), newlines=True)
    line("follow-up of", rec.get("follow_up_of"))
    line("duplicate of", ", ".join(safe_text(t) for t in rec.get("possible_duplicate_of") or []))
    ocr = rec.get("ocr") or {}
    if ocr:
        line("ocr", f"{safe_text(ocr.get('engine'))} · {ocr.get('pages')} page(s) · confidence "
                    f"{ocr.get('mean_confidence')}")
    atts = rec.get("attachments") or []
    line("attachments", "\n".join(f"{safe_text(a.get('filename') or '-')} ({safe_text(a.get('media_type'))}, "
                                  f"{a.get('size', '?')} bytes)" for a in atts), newlines=True)
    return grid


def _store_status(out: dict[str, Any], timezone: str) -> str | None:
    """The store's status as the gateway last heard it: the latest update's, else its answer to the forward
    (which alone would read 'received' for ever, however far the agency has got)."""
    store = out["central_store"] or {}
    took = f"took it {shown_time(store.get('received_at'), timezone)}" if store else ""
    told = [e for e in out["conversation"] if e.get("what") == "update" and e.get("status")]
    if told:
        last = max(told, key=lambda e: e.get("update_id") or 0)
        now = f"{safe_text(last['status'])} (update {last.get('update_id')}, {shown_time(last.get('created_at'), timezone)})"
        return f"{now} · {took}" if took else now
    if not store:
        return None
    return f"{safe_text(store.get('status'))} · {took}"


def _event_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def _timeline(out: dict[str, Any], width: int) -> Table:
    """The events as ``log`` shows them: in the service's zone (named in the title), the date in each row from
    100 columns, below that on a line of its own whenever it changes."""
    roomy = width >= 100
    t = Table(box=None, pad_edge=False, title_justify="left", show_header=True)
    for col, kw in (("time", {"no_wrap": True}), ("state", {"no_wrap": True}), ("channel", {}), ("detail", {})):
        t.add_column(col, overflow="fold", **kw)
    day = None
    for e in out["events"]:
        detail = " · ".join(safe_text(e.get(k)) for k in ("contact", "category", "flags", "detail") if e.get(k))
        at = _event_time(e["at"])
        if at is None:
            when = str(e["at"])
        elif roomy:
            when = at.strftime("%Y-%m-%d %H:%M:%S")
        else:
            when = at.strftime("%H:%M:%S")
            if at.date() != day:
                day = at.date()
                t.add_row(Text(day.isoformat(), style="dim"), "", "", "")
        t.add_row(safe_cell(when), safe_cell(e["state"]), safe_cell(e["channel"]), safe_cell(detail))
    return t


def emit(console: Console, renderable: RenderableType = "") -> None:
    """Print ``renderable`` with no trailing spaces on its lines (tables and padding fill them out)."""
    for segments in console.render_lines(renderable, console.options, pad=False, new_lines=False):
        line = Text.assemble(*((seg.text, seg.style) for seg in segments if not seg.control))
        line.rstrip()
        console.print(line, no_wrap=True, overflow="ignore", crop=False, highlight=False)


def _indented(console: Console, text: Text) -> None:
    """A line under a receipt's head that wraps at the same indent, not at column 0."""
    emit(console, Padding(text, (0, 0, 0, 4)))


def _sends(console: Console, head: Text, r: dict[str, Any], timezone: str) -> None:
    """The rest of a receipt's or a conversation entry's lines: attempts, when, delivery, error, its text."""
    if r.get("attempts"):
        head.append_text(safe_cell(f" · {r['attempts']} attempt(s)"))
    emit(console, Padding(head, (0, 0, 0, 2)))
    for label, key in (("created", "created_at"), ("sent", "sent_at"), ("delivered", "delivered_at")):
        if r.get(key):
            _indented(console, safe_cell(f"{label:<10} {r[key]} {zone_label(timezone)}"))
    if r.get("delivery_status"):
        _indented(console, safe_cell(f"{'delivery':<10} {r['delivery_status']}"))
    if r.get("last_error"):
        _indented(console, safe_cell(f"{'error':<10} {r['last_error']}"))
    _indented(console, safe_cell(r.get("text") or "(no text)", "italic", newlines=True))


def _receipts(console: Console, out: dict[str, Any], timezone: str) -> None:
    if not out["receipts"]:
        console.print("  none")
    for r in out["receipts"]:
        head = Text()
        head.append_text(safe_cell(f"{r['kind']} via {safe_text(r['channel'])}", "bold"))
        head.append_text(safe_cell(f" · {r['state']}"))
        _sends(console, head, r, timezone)


def _conversation(console: Console, out: dict[str, Any], timezone: str) -> None:
    if not out["conversation"]:
        console.print("  none")
    for e in out["conversation"]:
        head = Text()
        if e["what"] == "update":
            label = f"update {e.get('update_id')} ({safe_text(e.get('update_kind'))}"
            label += f", status {safe_text(e['status'])})" if e.get("status") else ")"
            head.append_text(safe_cell(f"{label} via {safe_text(e['channel'])}", "bold"))
        else:
            head.append_text(safe_cell(f"{safe_text(e['what'])} via {safe_text(e.get('channel'))}", "bold"))
        head.append_text(safe_cell(f" · {e.get('state')}"))
        _sends(console, head, e, timezone)


_NOT_AN_ID = {"wrong_length": "it has 10 digits", "not_digits": "digits only", "bad_check_digit": "a digit is mistyped"}


def show(settings: Settings, tracking_id: str, *, as_json: bool) -> int:
    from gateway.store import open_journal
    from normalizer.tracking import check_tracking_id

    check = check_tracking_id(tracking_id)
    if not check.ok:  # the check's own message is the citizen's ('the number on your receipt')
        print(f"lapor-gateway: {safe_text(tracking_id[:40])}: not a tracking ID ({_NOT_AN_ID[check.error]})",
              file=sys.stderr)
        return 2
    tz = settings.service.timezone
    journal = open_journal(settings)
    try:
        row = journal.complaint_by_tracking(check.tracking_id)
        if row is None:
            print(f"lapor-gateway: no complaint {check.tracking_id}", file=sys.stderr)
            return 1
        out = gather(journal, row, tz)
    finally:
        journal.close()
    if as_json:
        print(safe_json(out, indent=2, ensure_ascii=False, default=str))  # no raw controls/bidi from a message
        return 0
    console = Console(highlight=False)
    emit(console, safe_cell(f"Complaint {out['tracking_id']}", "bold"))
    emit(console, _summary(out, tz))
    console.print()
    emit(console, Text(f"Timeline ({len(out['events'])} events, {zone_label(tz)})", style="bold"))
    emit(console, _timeline(out, console.width))
    console.print()
    emit(console, Text(f"Receipts and replies ({len(out['receipts'])})", style="bold"))
    _receipts(console, out, tz)
    console.print()
    emit(console, Text(f"Conversation ({len(out['conversation'])})", style="bold"))
    _conversation(console, out, tz)
    return 0
