"""The gateway's letters reader, built from settings: the OCR stack is loaded in the isolated child only.

The worker process (hot folder, upload completer) holds this object; it never
imports numpy, OpenCV or tesseract's bindings and never decodes a page: see
:mod:`channels.letters.isolated`.
"""

from __future__ import annotations

from typing import Any

from channels.base import BlobSink
from channels.letters.isolated import IsolatedLettersReader, ReaderConfig


class LazyLettersReader(IsolatedLettersReader):
    """Same ``read_file`` as :class:`~channels.letters.scan.LettersChannel`, run isolated."""

    def __init__(self, settings: Any, blobs: BlobSink) -> None:
        super().__init__(ReaderConfig.from_settings(settings), blobs)
