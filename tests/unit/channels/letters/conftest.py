"""Fixtures for the letters channel: in-memory blobs, the channel, a fake journal ``accept``."""

from __future__ import annotations

import hashlib
import shutil

import pytest

from channels.base import AcceptResult
from channels.letters.scan import LettersChannel
from channels.message import Attachment, InboundMessage, Rejected

if shutil.which("tesseract") is None:  # pragma: no cover - the machine setup installs it
    pytest.skip("tesseract-ocr is not installed", allow_module_level=True)


class MemoryBlobs:
    def __init__(self, max_bytes: int = 10 * 1024 * 1024) -> None:
        self.data: dict[str, bytes] = {}
        self.max_bytes = max_bytes

    def put(self, data: bytes, media_type: str, filename: str | None = None) -> Attachment:
        if len(data) > self.max_bytes:
            raise Rejected(413, "attachment too large")
        digest = hashlib.sha256(data).hexdigest()
        self.data[digest] = data
        return Attachment(sha256=digest, media_type=media_type, size=len(data), filename=filename)

    def get(self, sha256: str) -> bytes:
        return self.data[sha256]


class FakeJournal:
    """``accept`` keyed by (channel, account, external_id), like the real journal."""

    def __init__(self) -> None:
        self.messages: dict[tuple[str, str, str], InboundMessage] = {}
        self.calls = 0

    async def accept(self, msg: InboundMessage) -> AcceptResult:
        self.calls += 1
        key = (msg.channel, msg.account, msg.external_id)
        dup = key in self.messages
        self.messages.setdefault(key, msg)
        return AcceptResult(message_id=msg.external_id[:16], duplicate=dup)


@pytest.fixture
def blobs() -> MemoryBlobs:
    return MemoryBlobs()


@pytest.fixture
def channel(blobs: MemoryBlobs) -> LettersChannel:
    return LettersChannel(blobs, max_file_bytes=20 * 1024 * 1024, max_pages=5, max_pixels=40_000_000)


@pytest.fixture
def journal() -> FakeJournal:
    return FakeJournal()
