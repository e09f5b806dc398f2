"""Which mails may be slow to complete, decided from their bytes without a MIME parse.

The worker completes heavy messages in a lane of their own so that a PDF or a
big mail never delays an SMS. Heavy: over :data:`HEAVY_BYTES`, or a part we
extract text from or that is an image (PDF, TIFF, JPEG…), found by one bounded
regex over Content-Type and Content-Disposition lines (folded continuations
included). A false positive costs nothing but a lane; the scan stays linear.
"""

from __future__ import annotations

import re

__all__ = ["HEAVY_BYTES", "declares_extracted_part"]

HEAVY_BYTES = 256 * 1024
SCAN_BYTES = HEAVY_BYTES  # larger mails are heavy anyway
_EXTRACTED_EXT = rb"\.(?:pdf|tiff?|jpe?g|png|gif|bmp|webp|heic|heif|jp2)"
_HEADER = re.compile(
    rb"^content-(?:type|disposition):([^\r\n]{0,998}(?:\r?\n[ \t][^\r\n]{0,998}){0,20})",
    re.IGNORECASE | re.MULTILINE,
)
_TYPE = re.compile(rb"^\s*(?:application/(?:x-)?pdf|image/)", re.IGNORECASE)
_NAME = re.compile(rb"name\*?(?:\d+\*?)?\s*=\s*\"?[^\"\r\n;]{0,400}?" + _EXTRACTED_EXT + rb"\b", re.IGNORECASE)


def declares_extracted_part(raw: bytes) -> bool:
    """True when a Content-Type/-Disposition line in the first :data:`SCAN_BYTES` names a PDF or an image."""
    for m in _HEADER.finditer(raw, 0, SCAN_BYTES):
        value = m.group(1)
        if _TYPE.match(value) or _NAME.search(value):
            return True
    return False
