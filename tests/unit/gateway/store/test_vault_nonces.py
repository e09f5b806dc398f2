"""AES-GCM nonces from a counter at a random start: never twice, in threads or after a fork."""

from __future__ import annotations

import base64
import os
import threading

from gateway.store.vault import Sealer

KEY = base64.urlsafe_b64encode(b"n" * 32).decode()


def nonce(blob: bytes) -> bytes:
    return blob[:12]


def test_each_seal_opens_to_its_own_message_under_its_own_nonce() -> None:
    s = Sealer(KEY)
    messages = [f"pesan {i}".encode() for i in range(1000)]
    blobs = [s.seal(m) for m in messages]
    assert [s.open(b) for b in blobs] == messages
    assert len({nonce(b) for b in blobs}) == len(blobs)
    assert Sealer(KEY).open(blobs[0]) == messages[0]  # another process (another counter) opens it too


def test_two_sealers_of_one_key_start_far_apart() -> None:
    a, b = Sealer(KEY), Sealer(KEY)
    assert nonce(a.seal(b"x")) != nonce(b.seal(b"x"))


def test_threads_sharing_a_sealer_never_get_the_same_nonce() -> None:
    s = Sealer(KEY)
    seen: list[list[bytes]] = [[] for _ in range(4)]

    def seal_many(out: list[bytes]) -> None:
        out.extend(nonce(s.seal(b"x")) for _ in range(5000))

    threads = [threading.Thread(target=seal_many, args=(out,)) for out in seen]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [n for out in seen for n in out]
    assert len(set(every)) == len(every) == 20000


def test_a_forked_child_does_not_follow_its_parents_counter() -> None:
    s = Sealer(KEY)
    s.seal(b"before the fork")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next nonces, then out at once
        os.write(write, b"".join(nonce(s.seal(b"child")) for _ in range(3)))
        os._exit(0)
    os.close(write)
    child = os.read(read, 36)
    os.close(read)
    os.waitpid(pid, 0)
    parent = b"".join(nonce(s.seal(b"parent")) for _ in range(3))
    assert len(child) == 36 and {child[i:i + 12] for i in (0, 12, 24)}.isdisjoint(
        {parent[i:i + 12] for i in (0, 12, 24)})
