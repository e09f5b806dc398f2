"""The letters reader for the gateway: every byte of a scan is decoded and OCR'd in an isolated process.

A scan is hostile input (a 123 KB G4 TIFF can decode to 1.8 Gpx). The parent
(the worker process: hot folder, upload completer) never imports the OCR
stack and never decodes a page: it sends the file's bytes to a child of
:mod:`channels.isolate` twice —

1. a *probe* (headers only: size, page count, pixels per page and over all
   pages), under a short limit, which gives the page count;
2. the *read* (decode, prepare, OCR, fields) under a wall-clock and CPU limit
   of ``seconds_per_page`` per page (plus a fixed start-up allowance).

The child stores nothing: the attachments it would store (the original, the
cleaned page images) come back as bytes and the parent puts them in its
:class:`~channels.base.BlobSink` (the gateway's BlobStore holds a sealing key
and is not sent to another process). A job over a limit raises
:class:`~channels.isolate.IsolationFailed`, a ``Rejected`` with a reason that
names the limit: the letter fails alone.

Tesseract runs as a subprocess of the child (``fork``/``exec`` by
pytesseract) and inherits its rlimits: the address-space limit applies to
each tesseract process on its own, and the CPU limit too (counted from zero
for each, up to the child's soft limit). The child is the leader of its own
process group, so when the pool kills it over a limit its tesseract
processes are killed with it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from channels.base import BlobSink
from channels.isolate import IsolationFailed, JobLimits, run_isolated
from channels.letters.errors import read_source
from channels.message import Attachment, InboundMessage, Rejected

__all__ = ["IsolatedLettersReader", "IsolationFailed", "ReaderConfig"]

PROBE_SECONDS = 30.0


@dataclass(frozen=True)
class ReaderConfig:
    """The reader's settings as plain values (they cross to the child process)."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_pages: int = 30
    max_pixels: int = 60_000_000
    max_total_pixels: int = 300_000_000
    min_confidence: float = 60.0
    seconds_per_page: float = 20.0
    start_seconds: float = 15.0  # once per read: a fresh child imports numpy, OpenCV and Pillow first

    @classmethod
    def from_settings(cls, letters: Any) -> ReaderConfig:
        """From ``gateway.settings.LettersSettings`` (keys it does not have keep their defaults)."""
        names = cls.__dataclass_fields__
        return cls(**{n: getattr(letters, n) for n in names if getattr(letters, n, None) is not None})

    def limits(self) -> Any:
        from channels.letters.images import Limits

        return Limits(self.max_file_bytes, self.max_pages, self.max_pixels, self.max_total_pixels)


@dataclass(frozen=True)
class Blob:
    data: bytes
    media_type: str
    filename: str | None


class CollectingSink:
    """A BlobSink for the child: keeps what would be stored, answers as the store would."""

    def __init__(self) -> None:
        self.blobs: list[Blob] = []

    def put(self, data: bytes, media_type: str, filename: str | None = None) -> Attachment:
        self.blobs.append(Blob(data, media_type, filename))
        return Attachment(sha256=hashlib.sha256(data).hexdigest(), media_type=media_type, size=len(data),
                          filename=filename)  # fmt: skip

    def get(self, sha256: str) -> bytes:
        raise KeyError("the isolated reader stores nothing")


def probe_job(config: ReaderConfig, data: bytes) -> int:
    """In the child: the page count after the header checks."""
    from channels.letters.images import probe_pages

    return probe_pages(data, config.limits())


def read_job(
    config: ReaderConfig, data: bytes, filename: str | None, received_at: datetime | None
) -> tuple[InboundMessage, list[Blob]]:
    """In the child: the whole read; the attachments come back as bytes."""
    from channels.letters.scan import LettersChannel

    sink = CollectingSink()
    reader = LettersChannel.from_settings(config, sink)  # the config has the settings' names
    try:
        return reader.read_file(data, filename, received_at), sink.blobs
    except Exception as exc:  # OpenCV reports a failed allocation as cv2.error: it is the memory limit
        if type(exc).__name__ == "error" and any(w in str(exc).lower() for w in ("memory", "allocate")):
            raise MemoryError from None
        raise


Runner = Callable[..., Any]


class IsolatedLettersReader:
    """``read_file`` of :class:`~channels.letters.scan.LettersChannel`, run in an isolated child."""

    def __init__(self, config: ReaderConfig, blobs: BlobSink, run: Runner = run_isolated) -> None:
        self.config = config
        self.blobs = blobs
        self.run = run  # ``run_isolated`` or an ``IsolatedPool.run`` (tests use a pool of their own)

    @property
    def max_file_bytes(self) -> int:
        return self.config.max_file_bytes

    @property
    def page_budget(self) -> tuple[int, int]:
        """(pages, pixels over all pages) one read may take."""
        return self.config.max_pages, self.config.max_total_pixels

    def within(self, pages: int, pixels: int) -> IsolatedLettersReader:
        """This reader with only ``pages`` and ``pixels`` left (several files of one mail read as one letter)."""
        config = replace(self.config, max_pages=max(1, min(pages, self.config.max_pages)),
                         max_total_pixels=max(1, min(pixels, self.config.max_total_pixels)))  # fmt: skip
        return IsolatedLettersReader(config, self.blobs, self.run)

    def job_limits(self, pages: int) -> JobLimits:
        seconds = self.config.start_seconds + self.config.seconds_per_page * max(pages, 1)
        return JobLimits(seconds=seconds, cpu_seconds=max(1, round(seconds)))

    def read_file(
        self, source: str | Path | bytes, filename: str | None = None, received_at: datetime | None = None
    ) -> InboundMessage:
        """Blocking (call it from a thread); raises Rejected, IsolationFailed when a limit was hit."""
        data, filename = read_source(source, filename, self.config.max_file_bytes)
        pages = self.run(probe_job, self.config, data, limits=JobLimits(PROBE_SECONDS, round(PROBE_SECONDS)))
        msg, blobs = self.run(read_job, self.config, data, filename, received_at, limits=self.job_limits(pages))
        return self._store(msg, blobs, hashlib.sha256(data).hexdigest())

    def _store(self, msg: InboundMessage, blobs: list[Blob], original: str) -> InboundMessage:
        """Put what the child read into the real store; an original over the store's limit is left out."""
        stored: dict[str, Attachment] = {}
        for b in blobs:
            try:
                a = self.blobs.put(b.data, b.media_type, b.filename)
            except Rejected:
                if hashlib.sha256(b.data).hexdigest() != original:
                    raise
                continue  # as in LettersChannel: the page images are what review needs
            stored[a.sha256] = a
        attachments = [stored[a.sha256] for a in msg.attachments if a.sha256 in stored]
        return msg.model_copy(update={"attachments": attachments})
