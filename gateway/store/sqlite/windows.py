"""When a citizen last wrote on a chat channel: WhatsApp's 24-hour window for free text is counted from it.

Read from the inbound journal itself, so every message counts (a complaint, a reply, ``CEK``), also one
the worker has not decided yet, and nothing has to be kept in step. Payloads are sealed and the sender is
not a column: the newest rows are read back in pages, only rows of the channel are opened, and the walk
stops at the first match or at the first row older than ``since`` (ids grow with time).
"""

from __future__ import annotations

from channels.message import InboundMessage
from gateway.store.sqlite.base import Files

PAGE = 500


class WindowTables(Files):
    def last_inbound_from(self, channel: str, account: str, sender: str, since: float) -> float | None:
        """The Unix time of ``sender``'s newest message on ``channel``/``account`` after ``since``, or None.

        The time is the earlier of the provider's timestamp and ours: a window is never taken as longer
        than it is.
        """
        before: int | None = None
        while True:
            rows = self.intake_reader.rows(
                "SELECT id, channel, account, payload, created_at FROM inbound "
                + ("WHERE id<? " if before is not None else "") + "ORDER BY id DESC LIMIT ?",
                (before, PAGE) if before is not None else (PAGE,),
            )
            for r in rows:
                if r["created_at"] < since:
                    return None
                if r["channel"] != channel or (account and r["account"] != account):
                    continue
                try:
                    msg = InboundMessage.model_validate_json(self.sealer.open(r["payload"]))
                except Exception:  # a damaged row says nothing about anyone
                    continue
                if msg.sender == sender and msg.kind != "status":
                    return min(msg.received_at.timestamp(), r["created_at"])
            if len(rows) < PAGE:
                return None
            before = rows[-1]["id"]
