"""Encryption at rest for identities and raw inbound payloads (AES-256-GCM).

Everything that can identify a citizen before we know whether they asked for
anonymity (the inbound payload, reply addresses, large blobs) is sealed with the vault key.
The worker opens what it works on (the journaled payload, the address a receipt goes to);
the intake process only seals.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import os
import weakref

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class VaultKeyError(ValueError):
    pass


_NONCE_SPACE = 1 << 96


class Sealer:
    def __init__(self, key_b64: str) -> None:
        try:
            key = base64.urlsafe_b64decode(key_b64 + "=" * (-len(key_b64) % 4))
        except ValueError as exc:
            raise VaultKeyError("privacy.vault_key is not urlsafe base64") from exc
        if len(key) != 32:
            raise VaultKeyError("privacy.vault_key must decode to 32 bytes")
        self._aead = AESGCM(key)
        self._index_key = hmac.new(key, b"lapor journal index", hashlib.sha256).digest()
        self._start_nonces()
        _SEALERS.add(self)

    def _start_nonces(self) -> None:
        """AES-GCM must never see a nonce twice under one key: each seal takes the next value of a 96-bit
        counter that starts at a random point. Unique within a process; two processes sealing under the key
        (intake, worker, CLI) collide only if their runs of N nonces overlap, about N in 2**96. One
        ``os.urandom`` per process instead of one per message: that call lets go of the GIL, and on the
        acknowledging path the journal's writer thread took it each time (a thread switch per request)."""
        self._nonces = itertools.count(int.from_bytes(os.urandom(12), "big"))

    def index(self, value: str) -> str:
        """A keyed, irreversible stand-in for a value the journal must find again but not hold in clear
        (a channel's message id: a WhatsApp wamid embeds the sender's number)."""
        # keyed BLAKE2b is a MAC by design and a third of HMAC-SHA256's cost here (twice per message)
        return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), key=self._index_key, digest_size=20).hexdigest()

    def seal(self, data: bytes, aad: bytes = b"") -> bytes:
        nonce = (next(self._nonces) % _NONCE_SPACE).to_bytes(12, "big")  # next() is atomic: threads may share it
        return nonce + self._aead.encrypt(nonce, data, aad)

    def open(self, blob: bytes, aad: bytes = b"") -> bytes:
        return self._aead.decrypt(blob[:12], blob[12:], aad)


_SEALERS: weakref.WeakSet[Sealer] = weakref.WeakSet()


def _after_fork() -> None:
    """A forked child must not step through its parent's counter: it starts at a random point of its own."""
    for sealer in list(_SEALERS):
        sealer._start_nonces()


os.register_at_fork(after_in_child=_after_fork)
