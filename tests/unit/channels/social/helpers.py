"""Shared bits of the social channel tests: fixtures by name, raw requests, an in-memory journal."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from channels.base import AcceptResult, RawRequest
from channels.message import InboundMessage

FIXTURES = Path(__file__).parent / "fixtures"

# What the fixtures' citizen is called: none of it may ever reach a log line.
CANARIES = ("Kanari", "canary_warga", "6281299990001", "3201010101900001", "612345678", "1422222222222222222")


def fixture(channel: str, name: str) -> dict[str, Any]:
    """``fixtures/<channel>/<event>__<variant>.json``, parsed (malformed JSON fails at once)."""
    return json.loads((FIXTURES / channel / f"{name}.json").read_text(encoding="utf-8"))


def fixture_bytes(channel: str, name: str) -> bytes:
    return (FIXTURES / channel / f"{name}.json").read_bytes()


def raw_post(path: str, body: bytes, headers: dict[str, str] | None = None) -> RawRequest:
    return RawRequest(method="POST", path=path, query=b"", headers=headers or {}, body=body,
                      remote="127.0.0.1", host="127.0.0.1:8080")


def raw_get(path: str, query: str) -> RawRequest:
    return RawRequest(method="GET", path=path, query=query.encode(), headers={}, body=b"", remote="127.0.0.1",
                      host="127.0.0.1:8080")


@dataclass
class MemoryJournal:
    """A dict-backed ``accept``: idempotent on (channel, account, external_id), like the real journal."""

    stored: dict[tuple[str, str, str], InboundMessage] = field(default_factory=dict)
    calls: int = 0

    async def accept(self, msg: InboundMessage) -> AcceptResult:
        self.calls += 1
        key = (msg.channel, msg.account, msg.external_id)
        duplicate = key in self.stored
        self.stored.setdefault(key, msg)
        return AcceptResult(message_id="/".join(key), duplicate=duplicate)

    @property
    def messages(self) -> list[InboundMessage]:
        return list(self.stored.values())


class JsonCursors:
    """A CursorStore kept in a JSON file, so a 'restart' is a new object over the same file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    async def get(self, key: str) -> str | None:
        return self._load().get(key)

    async def set(self, key: str, value: str) -> None:
        data = self._load()
        data[key] = value
        self.path.write_text(json.dumps(data))
