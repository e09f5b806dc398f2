"""HMAC-SHA256 signatures: the ``sha256=<hex>`` a peer signs a webhook with, and the forwarder signs its POSTs with.

In the bottom layer so the channels that check signatures and the forwarder and reference store that
make and check them use one.
"""

from __future__ import annotations

import hashlib
import hmac


def hmac_sha256_hex(key: bytes | str, data: bytes) -> str:
    if isinstance(key, str):
        key = key.encode()
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def sha256_signature(key: bytes | str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(key, body)>``: WhatsApp's ``X-Hub-Signature-256``, our ``X-Signature``."""
    return "sha256=" + hmac_sha256_hex(key, body)


def same_secret(expected: bytes | str, given: bytes | str | None) -> bool:
    """Constant-time comparison that takes any header value (non-ASCII, surrogate-escaped) without raising."""
    if not given:
        return False
    if isinstance(expected, str):
        expected = expected.encode()
    if isinstance(given, str):
        given = given.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(expected, given)
