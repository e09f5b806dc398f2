"""Receipt and reply texts from the templates in ``config/templates/<lang>.toml``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from channels.citizen_time import DEFAULT_TIMEZONE, citizen_date
from gateway.settings import CONFIG_DIR


class Templates:
    def __init__(self, language: str = "id", directory: Path | None = None, timezone: str = DEFAULT_TIMEZONE) -> None:
        path = (directory or CONFIG_DIR / "templates") / f"{language}.toml"
        with path.open("rb") as f:
            self.data: dict[str, dict[str, str]] = tomllib.load(f)
        self.language, self.timezone = language, timezone  # service.timezone: for the dates and times shown

    def render(self, style: str, key: str, **values: Any) -> str:
        section = self.data.get(style) or self.data["chat"]
        template = section.get(key) or self.data["chat"][key]
        return template.format(**values)

    def pick(self, indonesian: str, english: str) -> str:
        """The one of a pair of texts (a normalizer's explanation) in this templates' language."""
        return english if self.language == "en" else indonesian

    def status_name(self, status: str) -> str:
        return self.data["status_names"].get(status, status)

    def due_suffix(self, date: str | None) -> str:
        """`` Batas verifikasi: 7 Desember 2026.`` from an ISO date (or date-time), in the citizen style."""
        if not date:
            return ""
        return self.data["status_names"]["due"].format(date=citizen_date(date, self.language, self.timezone))
