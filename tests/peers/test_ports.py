"""Ports for test peers: distinct, free, and outside the range the kernel gives outgoing connections."""

from __future__ import annotations

import socket

import pytest

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


def test_a_port_is_never_handed_out_twice() -> None:
    seen = [p for _ in range(200) for p in free_ports(3)]
    assert len(seen) == len(set(seen))


def test_each_xdist_worker_draws_from_its_own_slice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    slices = []
    for worker in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        slices.append(_below_ephemeral())
    (a_low, a_high), (b_low, b_high) = slices  # type: ignore[misc]
    assert a_low < a_high <= b_low < b_high
