"""The SQLite adapter of :mod:`gateway.store.ports`: one class over two files, its methods grouped by owner.

SQLite in WAL mode with ``synchronous=FULL``, written through one group-commit writer per file
(:mod:`forwarder.groupcommit`) and read through read-only connections. Identity never lies here in
clear: inbound payloads, identities and reply targets are sealed with the vault key
(:mod:`gateway.store.vault`) before they are written.
"""

from __future__ import annotations

from gateway.store.sqlite.complaints import ComplaintTables
from gateway.store.sqlite.events import EventTables
from gateway.store.sqlite.inbound import InboundTables, JournalCursors
from gateway.store.sqlite.outcomes import OutcomeTables
from gateway.store.sqlite.rate_limits import RateLimitTables
from gateway.store.sqlite.receipts import ReceiptTables
from gateway.store.sqlite.reports import ReportTables
from gateway.store.sqlite.responses import ResponseTables
from gateway.store.sqlite.updates import UpdateTables
from gateway.store.sqlite.windows import WindowTables

__all__ = ["Journal", "JournalCursors"]


class Journal(InboundTables, OutcomeTables, ComplaintTables, ReceiptTables, EventTables, ReportTables, UpdateTables,
              ResponseTables, RateLimitTables, WindowTables):
    """``gateway.db`` and ``gateway-state.db`` (see :class:`~gateway.store.sqlite.base.Files`)."""
