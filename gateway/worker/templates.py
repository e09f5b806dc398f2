"""Receipt and reply texts from the templates in ``config/templates/<lang>.toml``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from gateway.settings import CONFIG_DIR


class Templates:
    def __init__(self, language: str = "id", directory: Path | None = None) -> None:
        path = (directory or CONFIG_DIR / "templates") / f"{language}.toml"
        with path.open("rb") as f:
            self.data: dict[str, dict[str, str]] = tomllib.load(f)

    def render(self, style: str, key: str, **values: Any) -> str:
        section = self.data.get(style) or self.data["chat"]
        template = section.get(key) or self.data["chat"][key]
        return template.format(**values)

    def status_name(self, status: str) -> str:
        return self.data["status_names"].get(status, status)

    def due_suffix(self, date: str | None) -> str:
        return self.data["status_names"]["due"].format(date=date) if date else ""
