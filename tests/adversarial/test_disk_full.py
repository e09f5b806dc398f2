"""A full disk under the real gateway: no false 200, /healthz tells, and it recovers without a restart.

The data directory is a small tmpfs (root only): SMS arrive before, while and
after the disk is full; every one that was acknowledged reaches the central
store exactly once, and none that was refused is mistaken for accepted.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e_helpers import records_by_external_id
from tests.gateway_proc import GatewayProcess, wait_until

pytestmark = [pytest.mark.slow]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def send(gw: GatewayProcess, ext: str, i: int) -> int:
    q = urllib.parse.urlencode({"from": f"62858{i:08d}", "to": "1708", "id": ext, "coding": "0", "charset": "UTF-8",
                                "text": f"Saluran air di gang {i} mampet, air meluap ke rumah warga"})
    try:
        with urllib.request.urlopen(f"{gw.url}/channels/sms/kannel?{q}", timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def fill(disk: Path) -> Path:
    """Fill the disk to the last byte (unbuffered writes, smaller and smaller)."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_gives_no_false_200_and_the_gateway_recovers_by_itself(small_disk: Path) -> None:
    gw = GatewayProcess(small_disk / "data", {"LAPOR_WORKER__STALL_SECONDS": "5", "LAPOR_LOG__LEVEL": "INFO"})
    gw.stderr_path = small_disk.parent / "stderr.log"  # the process log must not need the full disk
    gw.start()
    run = uuid.uuid4().hex[:8]
    acked: list[str] = []
    refused: list[str] = []
    try:
        for i in range(10):
            (acked if send(gw, f"{run}-a{i}", i) == 200 else refused).append(f"{run}-a{i}")
        wait_until(lambda: len(records_by_external_id(gw)) >= 10, timeout=30, what="the first SMS in the store")

        filler = fill(small_disk)
        codes = Counter()
        for i in range(10, 40):
            ext = f"{run}-b{i}"
            code = send(gw, ext, i)
            codes[code] += 1
            (acked if code == 200 else refused).append(ext)
        assert codes[200] < 30, "every SMS got 200 on a full disk: nothing was really written?"
        assert set(codes) <= {200, 503}, codes  # refused with a clear 503, never a 500
        _, body = wait_until(lambda: (h := gw.healthz())[0] == 503 and h, timeout=30,
                                  what="/healthz to say the disk is full")
        assert any("storage fault" in p or "no progress" in p for p in body["problems"]), body

        filler.unlink()
        for i in range(40, 50):
            ext = f"{run}-c{i}"
            (acked if send(gw, ext, i) == 200 else refused).append(ext)
        assert all(e in acked for e in (f"{run}-c{i}" for i in range(40, 50))), "not accepting after recovery"

        def all_forwarded() -> dict | None:
            recs = records_by_external_id(gw)
            return recs if all(e in recs for e in acked) else None

        recs = wait_until(all_forwarded, timeout=120, interval=1, what="every acknowledged SMS in the store")
        assert all(len(recs[e]) == 1 for e in acked), "an acknowledged SMS was forwarded twice"
        assert not [e for e in refused if e in recs], "a refused SMS was kept after all: its 503 was false"
        wait_until(lambda: gw.healthz()[0] == 200, timeout=60, what="/healthz ok again without a restart")
        assert gw.runs == 1 and gw.proc is not None and gw.proc.poll() is None
    finally:
        gw.stop()
