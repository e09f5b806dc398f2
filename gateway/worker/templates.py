"""Receipt and reply texts from the templates in ``config/templates/<lang>.toml``."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from channels.citizen_time import DEFAULT_TIMEZONE, citizen_date
from gateway.settings import CONFIG_DIR

# why a reviewer rejects a complaint (``review --reject ID --because KEY``, the console's Reject form): the citizen
# is told the reason in their words (``[rejection_reasons]`` of the templates), except for DO_NOT_NOTIFY (spam,
# abuse: a reply would only feed the sender)
REJECTION_REASONS = ("unreadable", "not_a_complaint", "incomplete", "duplicate", "out_of_scope")
DO_NOT_NOTIFY = "do_not_notify"
REJECT_CHOICES = (*REJECTION_REASONS, DO_NOT_NOTIFY)
NOTICE_STYLES = ("sms", "email", "chat", "letter")  # the styles a rejection notice is worded in


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

    def rejection(self, tracking_id: str, because: str) -> dict[str, dict[str, str]]:
        """The notice that a complaint cannot be processed, in each channel style: ``{style: {"text": ...}}``
        (email with its ``subject`` too). ``because`` is one of :data:`REJECTION_REASONS` (ValueError else)."""
        if because not in REJECTION_REASONS:
            raise ValueError(f"not a reason a citizen is told: {because!r}")
        reason = self.data["rejection_reasons"][because]
        out: dict[str, dict[str, str]] = {}
        for style in NOTICE_STYLES:
            out[style] = {"text": self.render(style, "rejected", tracking_id=tracking_id, reason=reason)}
        out["email"]["subject"] = self.render("email", "rejected_subject", tracking_id=tracking_id)
        return out
