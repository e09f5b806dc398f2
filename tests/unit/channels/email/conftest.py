from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store.blobs import BlobStore
from tests.peers import dovecot as dovecot_peer

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}.eml").read_bytes()


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture(scope="module")
def dovecot() -> Iterator[dovecot_peer.DovecotPeer]:
    if not dovecot_peer.available():
        if os.environ.get("CI"):
            pytest.fail("dovecot (dovecot-imapd) is not installed but CI is set")
        pytest.skip("dovecot (Debian dovecot-imapd) is not installed")
    peer = dovecot_peer.DovecotPeer.create()
    peer.start()
    try:
        yield peer
    finally:
        peer.destroy()
