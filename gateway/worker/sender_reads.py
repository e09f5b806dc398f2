"""What a batch's senders sent before, read for the whole batch in one trip off the event loop.

A complaint needs two reads about its reporter (a complaint of theirs waiting for details, their
recent complaints for near-duplicate links). Read one message at a time, the thread hop cost more
than the queries and the worker waited on it for every message. The batch's outcomes are written
only after all of its messages are decided, so reading before the first of them sees what reading
before each of them saw.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)

Recent = dict[str, list[tuple[str, str]]]  # reporter_ref → its recent (tracking ID, body) pairs


class SenderLookups(Protocol):
    def awaiting_details_by_reporter(self, reporter_refs: Collection[str], since: float) -> dict[str, dict[str, Any]]: ...

    def recent_by_reporters(self, reporter_refs: Collection[str], since: float) -> Recent: ...


@dataclass
class SenderReads:
    """Both reads for the refs each message of the batch files under, by inbound id; a message not in it
    (the heavy lane's, or when reading ahead failed) reads its own."""

    refs: dict[int, frozenset[str]] = field(default_factory=dict)
    waiting: dict[frozenset[str], dict[str, Any] | None] = field(default_factory=dict)
    recent: Recent = field(default_factory=dict)

    def get(self, inbound_id: int, refs: set[str]) -> tuple[dict[str, Any] | None, Recent] | None:
        if self.refs.get(inbound_id) != refs:
            return None
        return self.waiting[self.refs[inbound_id]], {ref: self.recent[ref] for ref in refs}


def read_senders(
    journal: SenderLookups, refs_of_each: dict[int, set[str]], recent_since: float, details_since: float
) -> SenderReads:
    """The reads for every message's refs: two statements for the whole batch (blocking: run it in a thread).

    A message filed under several refs waits on the newest complaint waiting under any of them."""
    every = {ref for refs in refs_of_each.values() for ref in refs}
    reads = SenderReads(recent=journal.recent_by_reporters(every, recent_since))
    waiting = journal.awaiting_details_by_reporter(every, details_since)
    for inbound_id, refs in refs_of_each.items():
        key = reads.refs[inbound_id] = frozenset(refs)
        if key not in reads.waiting:
            found = [waiting[ref] for ref in refs if ref in waiting]
            reads.waiting[key] = max(found, key=lambda w: w["created_at"]) if found else None
    return reads


async def read_batch(
    journal: SenderLookups, refs_of_each: dict[int, set[str]], recent_window_s: float, details_window_s: float
) -> SenderReads:
    """:func:`read_senders` off the event loop, ahead of a batch; when it fails, nothing is read ahead and
    each message reads (and fails) on its own (:func:`read_own`)."""
    try:
        return await _read(journal, refs_of_each, recent_window_s, details_window_s)
    except Exception as exc:
        log.debug("reading a batch's senders ahead failed (%s): each message reads its own", type(exc).__name__)
        return SenderReads()


async def read_own(
    journal: SenderLookups, inbound_id: int, refs: set[str], recent_window_s: float, details_window_s: float
) -> tuple[dict[str, Any] | None, Recent]:
    """One message's reads, when they were not read ahead; a failure is the message's."""
    found = (await _read(journal, {inbound_id: refs}, recent_window_s, details_window_s)).get(inbound_id, refs)
    assert found is not None
    return found


async def _read(
    journal: SenderLookups, refs_of_each: dict[int, set[str]], recent_window_s: float, details_window_s: float
) -> SenderReads:
    now = time.time()
    return await asyncio.to_thread(read_senders, journal, refs_of_each, now - recent_window_s, now - details_window_s)
