"""A gateway's first start: each child's listening line is logged once (the parent logged a second one), and
every SQLite file it makes in the data folder, with its -wal and -shm, is 0600."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.gateway_proc import running_gateway


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory):
    with running_gateway(tmp_path_factory.mktemp("first") / "gw") as gw:
        assert gw.healthz()[0] == 200
        yield gw


def test_console_and_central_store_each_say_where_they_listen_once(started):
    text = started.stderr_text()
    assert text.count(f"console on http://127.0.0.1:{started.console_port}/console/") == 1, text
    assert text.count(f"central store on http://127.0.0.1:{started.central_port}") == 1, text


def test_every_sqlite_file_in_the_data_folder_is_0600(started):
    files = [p for p in Path(started.data_dir).rglob("*.db*") if p.is_file()]
    names = {p.name for p in files}
    assert {"gateway.db", "gateway-state.db", "console.db", "central.db"} <= names, names
    assert any(n.endswith(("-wal", "-shm")) for n in names), names
    loose = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files if stat.S_IMODE(p.stat().st_mode) != 0o600}
    assert not loose
