"""The reference central complaint store: what the forwarder delivers to.

``app`` is the HTTP API, ``store`` the SQLite storage (durable group commit),
``status`` the complaint life cycle, ``workdays`` SP4N-LAPOR!'s working-day
clock, ``server`` the ways to start it (in-process or ``lapor-gateway central``).
"""

from .app import build_central_app, sign
from .server import CentralConfig, CentralServer, run_central, serve_central, serve_central_from
from .status import STATUSES, TRANSITIONS, TransitionError
from .store import CentralStore, InvalidRecord, Page, UnknownComplaint
from .workdays import WorkdayCalendar, add_working_days, due_dates

__all__ = [
    "STATUSES",
    "TRANSITIONS",
    "CentralConfig",
    "CentralServer",
    "CentralStore",
    "InvalidRecord",
    "Page",
    "TransitionError",
    "UnknownComplaint",
    "WorkdayCalendar",
    "add_working_days",
    "build_central_app",
    "due_dates",
    "run_central",
    "serve_central",
    "serve_central_from",
    "sign",
]
