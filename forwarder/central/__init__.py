"""The reference central complaint store: what the forwarder delivers to.

``app`` is the HTTP API, ``store`` the SQLite storage (durable group commit),
``status`` the complaint life cycle, ``workdays`` SP4N-LAPOR!'s working-day
clock, ``server`` the ways to start it (in-process or ``lapor-gateway central``).
The return path: ``return_path`` (its routes), ``bodies`` (their request bodies),
``conversation`` (updates feed and answers in SQLite), ``expiry`` (the clock's
closing and archiving), ``push`` (the signed wake-up to the gateway).
"""

from .app import build_central_app, sign
from .bodies import AgencyResponse, CitizenResponse, InvalidBody
from .push import UpdatePusher
from .server import CentralConfig, CentralServer, run_central, serve_central, serve_central_from
from .status import STATUSES, TRANSITIONS, TransitionError
from .store import CentralStore, InvalidRecord, Page, UnknownComplaint, UpdatesPage
from .workdays import WorkdayCalendar, add_working_days, due_dates

__all__ = [
    "STATUSES",
    "TRANSITIONS",
    "AgencyResponse",
    "CentralConfig",
    "CentralServer",
    "CentralStore",
    "CitizenResponse",
    "InvalidBody",
    "InvalidRecord",
    "Page",
    "TransitionError",
    "UnknownComplaint",
    "UpdatePusher",
    "UpdatesPage",
    "WorkdayCalendar",
    "add_working_days",
    "build_central_app",
    "due_dates",
    "run_central",
    "serve_central",
    "serve_central_from",
    "sign",
]
