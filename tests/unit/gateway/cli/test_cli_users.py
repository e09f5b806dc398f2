"""``lapor-gateway user add|passwd|disable|list``: console.db's users, passwords from stdin, TOTP URIs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway.console.auth import verify_password
from gateway.settings import ConsoleSettings
from gateway.store.sqlite.console import open_console_store
from tests.gateway_proc import REPO, GatewayProcess
from tests.unit.gateway.cli.cli_data import cli, new_gateway

COST = ConsoleSettings(password_time_cost=1, password_memory_cost=8, password_parallelism=1)


def test_add_list_passwd_disable(tmp_path: Path) -> None:
    gw = new_gateway(tmp_path)
    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gateway.cli", *args], cwd=REPO, env=gw.env, input=stdin,
                              capture_output=True, text=True, timeout=60)

    r = run("user", "add", "rina", "--role", "operator", "--password-stdin", stdin="dua belas huruf!\n")
    assert r.returncode == 0, r.stderr
    assert "rina added as operator" in r.stdout and "otpauth" not in r.stdout
    r = run("user", "add", "sari", "--role", "supervisor", "--password-stdin", stdin="kata sandi panjang\n")
    assert r.returncode == 0 and "otpauth://totp/LAPOR%21%20gateway:sari?secret=" in r.stdout
    assert run("user", "add", "rina", "--password-stdin", stdin="dua belas huruf!\n").returncode == 1
    r = run("user", "add", "budi", "--password-stdin", stdin="pendek\n")
    assert r.returncode == 2 and "12 characters" in r.stderr
    assert run("user", "add", "../x", "--password-stdin", stdin="dua belas huruf!\n").returncode == 2
    store = open_console_store(gw.data_dir)
    try:
        row = store.user("rina")
        assert row is not None and row["password_hash"].startswith("$argon2id$")
        assert "$m=8,t=1,p=1$" in row["password_hash"]  # console.password_* from the environment (gateway_proc)
        assert verify_password(row["password_hash"], "dua belas huruf!", COST)  # the newline dropped, nothing else
        assert store.user("budi") is None
        assert (gw.data_dir / "console.db").stat().st_mode & 0o777 == 0o600
    finally:
        store.close()
    assert run("user", "passwd", "rina", "--password-stdin", stdin="yang baru sekali\n").returncode == 0
    assert run("user", "passwd", "nobody", "--password-stdin", stdin="yang baru sekali\n").returncode == 1
    assert run("user", "disable", "rina").returncode == 0
    listing = run("user", "list").stdout
    assert "rina" in listing and "disabled" in listing and "sari" in listing and "supervisor" in listing
    store = open_console_store(gw.data_dir)
    try:
        assert verify_password(store.user("rina")["password_hash"], "yang baru sekali", COST)  # type: ignore[index]
    finally:
        store.close()


def test_without_a_terminal_the_password_must_come_from_stdin(tmp_path: Path) -> None:
    gw = new_gateway(tmp_path)
    r = cli(gw, "user", "add", "rina")
    assert r.returncode == 2 and "--password-stdin" in r.stderr


def _user_cli(gw: GatewayProcess, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], cwd=REPO, env=gw.env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_the_last_active_admin_is_never_disabled_and_enable_undoes_disable(tmp_path: Path) -> None:
    gw = new_gateway(tmp_path)
    for name in ("kepala", "wakil"):
        assert _user_cli(gw, "user", "add", name, "--role", "admin", "--password-stdin",
                   stdin="kata sandi panjang\n").returncode == 0
    assert _user_cli(gw, "user", "disable", "wakil").returncode == 0
    r = _user_cli(gw, "user", "disable", "kepala")  # nobody could manage the users any more
    assert r.returncode == 1 and "last active admin" in r.stderr and "--role admin" in r.stderr
    r = _user_cli(gw, "user", "passwd", "wakil", "--password-stdin", stdin="yang baru sekali\n")
    assert r.returncode == 0 and "still disabled" in r.stdout
    r = _user_cli(gw, "user", "enable", "wakil")
    assert r.returncode == 0 and "wakil enabled" in r.stdout
    assert _user_cli(gw, "user", "disable", "kepala").returncode == 0  # another admin is active now
    assert _user_cli(gw, "user", "enable", "nobody").returncode == 1
    store = open_console_store(gw.data_dir)
    try:
        assert not store.user("wakil")["disabled"] and store.user("kepala")["disabled"]  # type: ignore[index]
    finally:
        store.close()


def test_user_add_prints_the_totp_secret_on_a_line_that_fits_a_terminal(tmp_path: Path) -> None:
    gw = new_gateway(tmp_path)
    r = _user_cli(gw, "user", "add", "sari", "--role", "supervisor", "--password-stdin", stdin="kata sandi panjang\n")
    assert r.returncode == 0
    secret = r.stdout.split("secret=", 1)[1].split("&", 1)[0]
    line = next(x for x in r.stdout.splitlines() if "type its secret" in x)
    assert secret in line and len(line) <= 80


def test_reset_otp_gives_a_fresh_secret_enrolled_at_the_next_sign_in(tmp_path: Path) -> None:
    gw = new_gateway(tmp_path)
    r = _user_cli(gw, "user", "add", "sari", "--role", "supervisor", "--password-stdin", stdin="kata sandi panjang\n")
    old = r.stdout.split("secret=", 1)[1].split("&", 1)[0]
    store = open_console_store(gw.data_dir)
    try:
        store.set_totp("sari", old, confirmed=True)  # enrolled, then the phone is lost
        store.create_session("h" * 64, "sari", "full", 1.0)
    finally:
        store.close()
    r = cli(gw, "user", "reset-otp", "sari", columns=80)
    assert r.returncode == 0, r.stderr
    assert "otpauth://totp/LAPOR%21%20gateway:sari?secret=" in r.stdout
    new = r.stdout.split("secret=", 1)[1].split("&", 1)[0]
    assert new != old
    line = next(x for x in r.stdout.splitlines() if "type its secret" in x)
    assert line.endswith(new) and len(line) <= 80
    assert all(len(x) <= 80 for x in r.stdout.splitlines() if "otpauth://" not in x)
    store = open_console_store(gw.data_dir)
    try:
        row = store.user("sari")
        assert row["totp_secret"] == new and not row["totp_confirmed"]  # type: ignore[index]
        assert store.session("h" * 64) is None  # signed out everywhere
        first = store.audit_entries()[0]
        assert (first["action"], first["reason"], first["user"]) == ("totp_reset", "sari", "cli")
    finally:
        store.close()


def test_reset_otp_of_an_unknown_user_or_a_role_without_totp(tmp_path: Path) -> None:
    gw = new_gateway(tmp_path)
    _user_cli(gw, "user", "add", "rina", "--role", "operator", "--password-stdin", stdin="dua belas huruf!\n")
    r = cli(gw, "user", "reset-otp", "nobody")
    assert r.returncode == 1 and "no user nobody" in r.stderr
    r = cli(gw, "user", "reset-otp", "rina")
    assert r.returncode == 1 and "no two-step sign-in" in r.stderr and "otpauth" not in r.stdout
    assert cli(gw, "user", "reset-otp", "../x").returncode == 2
