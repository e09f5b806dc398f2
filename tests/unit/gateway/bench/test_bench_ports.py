"""``lapor-gateway bench`` runs its own gateway on free ports, the console's too: it took 8081, so a bench
beside a running gateway stopped that gateway's console from starting again ('address already in use')."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway import bench


class Started(Exception):
    pass


def test_the_bench_gateway_gives_every_listener_a_free_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, str] = {}

    def popen(_args: Any, **kw: Any) -> Any:
        seen.update(kw["env"])
        raise Started

    monkeypatch.setattr(bench.subprocess, "Popen", popen)
    monkeypatch.setenv("LAPOR_CONSOLE__PORT", "8081")  # the operator's own settings are not inherited
    with pytest.raises(Started), bench.bench_gateway(tmp_path):
        pass
    ports = [seen[f"LAPOR_{k}__PORT"] for k in ("HTTP", "CENTRAL", "SMTP", "CONSOLE")]
    assert "8081" not in ports and "8080" not in ports and len(set(ports)) == 4
