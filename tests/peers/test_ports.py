"""Ports for test peers: distinct, free, and outside the range the kernel gives outgoing connections."""

from __future__ import annotations

import socket

from tests.peers.ports import LOOPBACK, _below_ephemeral, free_ports


def test_ports_are_distinct_bindable_and_below_the_ephemeral_range() -> None:
    span = _below_ephemeral()
    assert span is not None  # this machine's range starts well above LOWEST
    ports = free_ports(20)
    assert len(set(ports)) == 20
    assert all(span[0] <= p < span[1] for p in ports)
    for port in ports:
        with socket.socket() as s:
            s.bind((LOOPBACK, port))
