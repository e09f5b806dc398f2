"""Ctrl-C at the terminal of ``lapor-gateway run``: SIGINT reaches the whole process group (intake, worker,
store, console) and the gateway says it is stopping and when it has stopped, then exits 0 with no child left."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.gateway_proc import GatewayProcess, _group_cmdlines


def test_ctrl_c_stops_every_process_and_says_so(tmp_path: Path) -> None:
    gw = GatewayProcess(tmp_path / "data").start()
    assert gw.proc is not None
    os.killpg(gw.proc.pid, signal.SIGINT)  # what the terminal sends on Ctrl-C
    assert gw.proc.wait(60) == 0, gw.stderr_text()[-3000:]
    assert _group_cmdlines(gw.proc.pid) == []
    text = gw.stderr_text()
    assert "stopping: intake closes" in text and "stopped in " in text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
