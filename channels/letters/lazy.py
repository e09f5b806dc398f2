"""Load the OCR stack (numpy, OpenCV, Pillow, tesseract bindings) on the first letter, not at start-up."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from channels.base import BlobSink
from channels.message import InboundMessage


class LazyLettersReader:
    """Same ``read_file`` as :class:`~channels.letters.scan.LettersChannel`, built when first needed."""

    def __init__(self, settings: Any, blobs: BlobSink) -> None:
        self._settings = settings
        self._blobs = blobs
        self._reader: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        with self._lock:
            if self._reader is None:
                from channels.letters.scan import LettersChannel

                self._reader = LettersChannel.from_settings(self._settings, self._blobs)
            return self._reader

    def read_file(self, source: str | Path | bytes, filename: str | None = None, received_at: Any = None) -> InboundMessage:
        return self.get().read_file(source, filename, received_at)
