"""Dates and times as citizens read them: the one place that formats them.

Every receipt, reply and printed page a citizen sees writes a moment as
``2 Desember 2026, 01:19 WIB`` (``2 December 2026, 01:19 WIB`` in English) and
a day as ``7 Desember 2026``: month names spelled out, 24-hour time, and the
zone the service runs in (``service.timezone``). Indonesia's three zones go by
their own names (WIB, WITA, WIT); any other zone by its abbreviation.

It lives in ``channels/`` because the printable letter receipt needs it as much
as the gateway's SMS, email and chat texts do, and channels import only channels.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = ["DEFAULT_TIMEZONE", "citizen_date", "citizen_datetime", "zone", "zone_label"]

DEFAULT_TIMEZONE = "Asia/Jakarta"

MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}  # fmt: skip

# Indonesia's zones by their Indonesian names (Waktu Indonesia Barat/Tengah/Timur), whatever tzdata abbreviates.
INDONESIAN_ZONES = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Ujung_Pandang": "WITA",
    "Asia/Jayapura": "WIT",
}


@lru_cache(maxsize=32)
def zone(name: str = DEFAULT_TIMEZONE) -> ZoneInfo:
    """The ``ZoneInfo`` for a ``service.timezone`` value (raises ``ZoneInfoNotFoundError`` for an unknown one)."""
    return ZoneInfo(name)


def zone_label(name: str = DEFAULT_TIMEZONE, at: datetime | None = None) -> str:
    """``WIB``/``WITA``/``WIT`` for Indonesia's zones, else the zone's abbreviation at ``at`` (``CET``, ``UTC``)."""
    if name in INDONESIAN_ZONES:
        return INDONESIAN_ZONES[name]
    moment = (at or datetime.now(zone(name))).astimezone(zone(name))
    return moment.tzname() or name


def _months(language: str) -> tuple[str, ...]:
    return MONTHS.get(language, MONTHS["id"])


def citizen_date(day: date | datetime | str, language: str = "id", timezone: str = DEFAULT_TIMEZONE) -> str:
    """``7 Desember 2026``. A datetime (or ISO string with a time) counts in the service zone; naive means local."""
    if isinstance(day, str):
        day = datetime.fromisoformat(day) if "T" in day or " " in day.strip() else date.fromisoformat(day)
    if isinstance(day, datetime):
        day = (day.astimezone(zone(timezone)) if day.tzinfo else day).date()
    return f"{day.day} {_months(language)[day.month - 1]} {day.year}"


def citizen_datetime(moment: datetime | str, language: str = "id", timezone: str = DEFAULT_TIMEZONE) -> str:
    """``2 Desember 2026, 01:19 WIB``: an aware moment shown in the service zone; a naive one is taken as local."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    local = moment.astimezone(zone(timezone)) if moment.tzinfo else moment.replace(tzinfo=zone(timezone))
    return f"{citizen_date(local.date(), language)}, {local:%H:%M} {zone_label(timezone, local)}"
