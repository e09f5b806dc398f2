"""A complaint's life in the central store: status values and allowed moves.

::

    received ──► verifying ──► forwarded_to_agency ──► in_progress ──► resolved ──► closed
       │  ▲          │  ▲              │    ▲                              │
       │  │          ▼  │              │    └──────── (citizen objects) ◄──┘
       │  └──── needs_details          └─► verifying (agency declines: re-route)
       └──────────────┴──► archived   (incomplete, out of scope, or details never came)

``closed`` and ``archived`` are final.
"""

from __future__ import annotations

from typing import Literal, get_args

Status = Literal[
    "received",
    "verifying",
    "needs_details",
    "forwarded_to_agency",
    "in_progress",
    "resolved",
    "closed",
    "archived",
]

STATUSES: tuple[str, ...] = get_args(Status)
INITIAL: Status = "received"
FINAL: frozenset[str] = frozenset({"closed", "archived"})

TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"verifying", "needs_details", "archived"}),
    "verifying": frozenset({"needs_details", "forwarded_to_agency", "archived"}),
    "needs_details": frozenset({"verifying", "archived"}),
    "forwarded_to_agency": frozenset({"in_progress", "resolved", "verifying"}),
    "in_progress": frozenset({"resolved"}),
    "resolved": frozenset({"closed", "in_progress"}),
    "closed": frozenset(),
    "archived": frozenset(),
}


class TransitionError(Exception):
    """The requested move is not allowed from the current status."""

    def __init__(self, current: str, wanted: str, message: str | None = None) -> None:
        super().__init__(message or f"cannot move from {current} to {wanted}")
        self.current = current
        self.wanted = wanted
        self.allowed = sorted(TRANSITIONS.get(current, ()))


def check_transition(current: str, wanted: str) -> None:
    if wanted not in TRANSITIONS.get(current, frozenset()):
        raise TransitionError(current, wanted)
