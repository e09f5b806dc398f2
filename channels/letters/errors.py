"""Errors of the letters channel, in a module light enough for the hot folder to import at start-up."""

from __future__ import annotations


class OcrUnavailable(RuntimeError):
    """The tesseract binary or its language data is missing."""


class OcrTimeout(RuntimeError):
    """Tesseract took longer than any real page takes (pages of noise can)."""
