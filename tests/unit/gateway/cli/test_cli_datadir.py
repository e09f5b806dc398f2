"""Issue 13 items 5 and 6: every command finds the gateway's data from its settings, refuses in one line where
there is none (creating nothing), and a second ``run`` on the same data refuses at once, touching nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.store.records import Event
from normalizer.tracking import new_tracking_id
from tests.gateway_proc import REPO, GatewayProcess
from tests.unit.gateway.cli.cli_data import add_complaint, bare_env, new_gateway

DATA_COMMANDS = [("log",), ("log", "--follow"), ("show", "1234567897"), ("review",), ("retry-dead",),
                 ("scan", "--wait", "3", "surat.png")]


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _bare(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], cwd=cwd, env={**bare_env(), **(env or {})},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args", DATA_COMMANDS, ids=" ".join)
def test_a_command_run_where_there_is_no_gateway_data_refuses_and_creates_nothing(tmp_path: Path, args: tuple[str]):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "surat.png").write_bytes(b"\x89PNG not a real scan")
    before = _tree(elsewhere)
    done = _bare(*args, cwd=elsewhere)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # one line, no traceback
    assert f"no gateway data in {elsewhere / 'data'}" in lines[0]
    assert "--data-dir" in lines[0] and "LAPOR_DATA__DIR" in lines[0]
    assert "secret" not in lines[0]  # not "missing secret central.hmac_key"
    assert _tree(elsewhere) == before  # no ./data, no secrets.toml
    assert done.stdout == ""


def test_an_empty_data_dir_given_is_refused_and_left_empty(tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for where in (["--data-dir", str(empty), "log"], ["log", "--data-dir", str(empty)]):
        done = _bare(*where, cwd=tmp_path)
        assert done.returncode == 2 and f"no gateway data in {empty}" in done.stderr
    done = _bare("show", "1234567897", cwd=tmp_path, env={"LAPOR_DATA__DIR": str(empty)})
    assert done.returncode == 2 and "(LAPOR_DATA__DIR)" in done.stderr
    assert list(empty.iterdir()) == []


def test_the_data_dir_is_found_from_settings_wherever_the_command_runs(tmp_path: Path):
    gw = new_gateway(tmp_path)
    tid = new_tracking_id()
    add_complaint(gw, {"tracking_id": tid, "body": "Lampu jalan mati di depan SDN 3"},
                  events=[Event("sms.kannel", "normalized", tid)])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    secrets = {k: v for k, v in gw.env.items() if k.startswith("LAPOR_PRIVACY") or k.startswith("LAPOR_CENTRAL__H")
               or k.startswith("LAPOR_CENTRAL__A")}
    # --data-dir before or after the command
    for args in (["--data-dir", str(gw.data_dir), "log"], ["log", "--data-dir", str(gw.data_dir)]):
        done = _bare(*args, cwd=elsewhere, env=secrets)
        assert done.returncode == 0, done.stderr
        assert tid in done.stdout
    # data.dir from a --config file, given after the command
    config = elsewhere / "gw.toml"
    config.write_text(f'[data]\ndir = "{gw.data_dir}"\n')
    done = _bare("show", tid, "--config", str(config), cwd=elsewhere, env=secrets)
    assert done.returncode == 0, done.stderr
    assert "Lampu jalan mati" in done.stdout
    assert sorted(p.name for p in elsewhere.iterdir()) == ["gw.toml"]


def test_config_after_the_command_is_the_one_used(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[http]\nprot = 1\n")
    done = _bare("log", "--config", str(bad), cwd=tmp_path)
    assert done.returncode == 2 and "prot" in done.stderr and "Traceback" not in done.stderr


def test_commands_that_read_no_data_need_none(tmp_path: Path):
    done = _bare("schema", cwd=tmp_path)
    assert done.returncode == 0 and '"tracking_id"' in done.stdout
    done = _bare("form", str(tmp_path / "f.pdf"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf"]


# --- item 6: one run per data dir ----------------------------------------------------------

def test_a_second_run_on_the_same_data_refuses_at_once_and_touches_nothing(tmp_path: Path):
    first = GatewayProcess(tmp_path / "gw").start()
    try:
        data = first.data_dir
        snapshot = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in data.rglob("*") if p.is_file()
                    and p.suffix not in (".db-wal", ".db-shm") and "wal" not in p.name and "shm" not in p.name}
        log_before = (data / "gateway.log").read_bytes()
        second = GatewayProcess(data)  # other ports: only the data is shared
        done = subprocess.run([sys.executable, "-m", "gateway.cli", "run"], cwd=REPO, env=second.env,
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert f"another gateway (pid {first.proc.pid}) is running on {data}" in lines[0]
        assert "Traceback" not in done.stderr and done.stdout == ""
        assert (data / "gateway.log").read_bytes()[: len(log_before)] == log_before
        assert "another gateway" not in (data / "gateway.log").read_text()  # nothing written into its log
        for p, (size, mtime) in snapshot.items():
            if p.name in ("gateway.log", "stderr.log"):
                continue
            if p.suffix == ".db":  # the first gateway's own writes may touch its files: only the lock must be kept
                continue
            assert (p.stat().st_size, p.stat().st_mtime_ns) == (size, mtime), p
        assert (data / "gateway.lock").read_text().strip() == str(first.proc.pid)
        with __import__("urllib.request").request.urlopen(first.url + "/healthz", timeout=5) as r:
            assert r.status == 200  # the first one runs on
    finally:
        first.stop()
    # once it stopped, the data is free again
    again = GatewayProcess(tmp_path / "gw").start()
    again.stop()


def test_run_from_any_folder_with_the_default_data_dir_works_end_to_end(tmp_path: Path):
    """``./data`` means the folder ``run`` was started in, for its children too (the worker looked in the
    repository's folder, refused, and was restarted for ever, while intake said 200)."""
    import json
    import time
    import urllib.parse
    import urllib.request

    gw = GatewayProcess(tmp_path / "unused")
    env = {k: v for k, v in gw.env.items() if k != "LAPOR_DATA__DIR"}
    folder = tmp_path / "kantor"
    folder.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "run"], cwd=folder, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        tid = None
        while time.monotonic() < deadline and tid is None:
            time.sleep(0.3)
            try:
                q = urllib.parse.urlencode({"from": "6281312340000", "to": "1708", "id": "any-folder-1",
                                            "text": "Lampu jalan mati di gang Mawar sejak seminggu"})
                urllib.request.urlopen(f"{gw.url}/channels/sms/kannel?{q}", timeout=2).read()
                page = gw.central_get("/v1/complaints?limit=10")
                tid = next((i["record"]["tracking_id"] for i in page["items"]), None)
            except OSError:
                continue
        assert tid, "the SMS never reached the central store"
        assert (folder / "data" / "gateway-state.db").is_file() and not (REPO / "data" / "central.db").exists()
        status = json.loads(urllib.request.urlopen(gw.url + "/healthz", timeout=5).read())
        assert status["children"]["worker"]["restarts"] == 0, status
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert "exited with" not in out, out[-2000:]
