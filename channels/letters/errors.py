"""Errors of the letters channel, in a module light enough for the hot folder to import at start-up."""

from __future__ import annotations

from pathlib import Path

from channels.message import Rejected


class OcrUnavailable(RuntimeError):
    """The tesseract binary or its language data is missing."""


class OcrTimeout(RuntimeError):
    """Tesseract took longer than any real page takes (pages of noise can)."""


def check_size(size: int, max_bytes: int) -> None:
    """A scan's size before anything reads it: 413 over the limit, 422 when empty."""
    if size > max_bytes:
        raise Rejected(413, f"file is {size} bytes, larger than the limit of {max_bytes} bytes")
    if size == 0:
        raise Rejected(422, "file is empty")


def read_source(source: str | Path | bytes, filename: str | None, max_bytes: int) -> tuple[bytes, str | None]:
    """A reader's input as bytes and its name: a path is size-checked before it is read."""
    if isinstance(source, bytes):
        return source, filename
    path = Path(source)
    check_size(path.stat().st_size, max_bytes)
    return path.read_bytes(), filename or path.name
