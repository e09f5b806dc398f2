"""Free TCP ports on the loopback interface, for peers started by test fixtures.

A port returned here was free when we looked; another process may still take it
before the peer binds it. Starters should therefore check that their peer came
up and retry with fresh ports (``KannelPeer.start`` does).

The ports are drawn below the kernel's ephemeral range: a port the kernel picked
for ``bind(0)`` comes from the range it also gives every outgoing connection, so
one of the gateway's own connections (to the store, to Kannel) could take it
before the peer it was meant for bound it. Two draws of ``bind(0)`` can also give
the same port while the first is not bound yet (seen: the gateway's HTTP port
drawn again for its embedded store). So a port is never handed out twice in one
process, and each pytest-xdist worker draws from its own slice of the range.
"""

from __future__ import annotations

import os
import random
import re
import socket
from contextlib import ExitStack
from pathlib import Path

LOOPBACK = "127.0.0.1"
LOWEST = 15000  # below it: ports other services here are configured on


_handed_out: set[int] = set()


def _below_ephemeral() -> tuple[int, int] | None:
    """The range ports are drawn from: from LOWEST up to the ephemeral range's start, this xdist worker's
    slice of it; None when too small."""
    try:
        start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        start = 32768
    low, high = LOWEST, start
    worker = re.fullmatch(r"gw(\d+)", os.environ.get("PYTEST_XDIST_WORKER", ""))
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if worker and workers > 1:
        size = (high - low) // workers
        low, high = low + int(worker[1]) * size, low + (int(worker[1]) + 1) * size
    return (low, high) if high - low >= 1000 else None


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """Return ``count`` distinct ports that were free a moment ago, none handed out before in this process.

    Each is drawn at random from this worker's slice and checked by binding it; the sockets are held open
    together until all are drawn.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    span = _below_ephemeral()
    with ExitStack() as stack:
        ports: list[int] = []
        for _draw in range(200 * count):
            if len(ports) == count:
                break
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                sock.bind((host, random.randrange(*span) if span else 0))
            except OSError:  # taken (or in TIME_WAIT): another draw
                continue
            port = sock.getsockname()[1]
            if port not in ports and port not in _handed_out:
                ports.append(port)
        if len(ports) < count:
            raise OSError(f"no {count} free ports on {host}")
        _handed_out.update(ports)
        return ports


def free_port(host: str = LOOPBACK) -> int:
    """Return one port that was free a moment ago."""
    return free_ports(1, host)[0]


def port_open(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
