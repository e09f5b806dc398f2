"""Content-addressed attachment storage: ``<data.dir>/blobs/ab/cdef…``.

Bytes are written to a temporary file, fsynced and renamed, so a blob named in
the journal always exists whole. Storing the same bytes twice is a no-op.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from channels.message import Attachment, Rejected


class BlobStore:
    def __init__(self, root: Path, max_bytes: int = 10 * 1024 * 1024) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.root.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:]

    def put(self, data: bytes, media_type: str, filename: str | None = None) -> Attachment:
        if len(data) > self.max_bytes:
            raise Rejected(413, f"attachment larger than {self.max_bytes} bytes")
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(f".tmp{os.getpid()}")
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        return Attachment(sha256=digest, media_type=media_type, size=len(data), filename=safe_filename(filename))

    def get(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()


def safe_filename(name: str | None) -> str | None:
    """Keep only the last path component, without control characters (no path tricks)."""
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base[:200] or None
