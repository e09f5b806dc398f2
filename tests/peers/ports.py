"""Free TCP ports on the loopback interface, for peers started by test fixtures.

A port returned here was free when we looked; another process may still take it
before the peer binds it. Starters should therefore check that their peer came
up and retry with fresh ports (``KannelPeer.start`` does).
"""

from __future__ import annotations

import socket
from contextlib import ExitStack

LOOPBACK = "127.0.0.1"


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """Return ``count`` distinct ports that were free a moment ago.

    The sockets are held open together while the kernel picks, so the ports are
    distinct from each other.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for sock in socks:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in socks]


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
