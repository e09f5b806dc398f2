"""Content-addressed attachment storage: ``<data.dir>/blobs/ab/cdef…``.

Bytes are written to a temporary file, fsynced and renamed, so a blob named in
the journal always exists whole. Storing the same bytes twice is a no-op. With a
sealer (the gateway always passes the vault's) the file holds the bytes sealed
with AES-256-GCM: a photo, a scanned form or a raw mail identifies a citizen as
surely as the sender address does. The name is the sha256 of the plain bytes.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from channels.message import Attachment, Rejected, safe_filename
from gateway.settings import Settings
from gateway.store.vault import Sealer

SEALED = b"LGS1"  # marks a sealed blob file


class BlobStore:
    def __init__(self, root: Path, max_bytes: int = 10 * 1024 * 1024, sealer: Sealer | None = None) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.sealer = sealer
        self.root.mkdir(parents=True, exist_ok=True)

    @classmethod
    def for_settings(cls, settings: Settings) -> BlobStore:
        """The gateway's store: sealed with the vault key; channels enforce their own, smaller limits."""
        assert settings.privacy.vault_key
        biggest = max(settings.mail.max_attachment_bytes, settings.letters.max_file_bytes,
                      settings.telegram.max_file_bytes)
        return cls(settings.data.dir / "blobs", max_bytes=biggest, sealer=Sealer(settings.privacy.vault_key))

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
            tmp = target.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
            with open(tmp, "wb") as f:
                f.write(SEALED + self.sealer.seal(data, digest.encode()) if self.sealer else data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        return Attachment(sha256=digest, media_type=media_type, size=len(data), filename=safe_filename(filename))

    def get(self, sha256: str) -> bytes:
        data = self.path_for(sha256).read_bytes()
        if data.startswith(SEALED):
            if self.sealer is None:
                raise ValueError("blob is sealed and this store has no key")
            return self.sealer.open(data[len(SEALED) :], sha256.encode())
        return data
