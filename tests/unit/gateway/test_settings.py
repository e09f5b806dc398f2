"""Settings: defaults < config file < LAPOR_* env; one clear line when invalid; generated secrets."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.settings import SettingsError, load_settings
from tests.gateway_proc import REPO, gateway_secrets


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for key in list(__import__("os").environ):
        if key.startswith("LAPOR_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("LAPOR_DATA__DIR", str(tmp_path / "data"))
    return tmp_path


def test_embedded_defaults(env: Path) -> None:
    s = load_settings(generate_secrets=True)
    assert (s.http.host, s.http.port, s.central.port, s.smtp.port) == ("127.0.0.1", 8080, 8090, 2525)
    assert s.storage.url == f"sqlite:///{env / 'data' / 'gateway.db'}"
    assert s.sms.kannel.sendsms_url == "http://127.0.0.1:13013/cgi-bin/sendsms"
    secrets_file = env / "data" / "secrets.toml"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    again = load_settings()
    assert again.privacy.vault_key == s.privacy.vault_key  # generated once, then reused


def test_file_then_env_override(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = env / "site.toml"
    conf.write_text('[http]\nport = 9000\n[sms.kannel]\nsender = "LAPOR"\n[smtp]\ndomains = ["pemkot.go.id"]\n')
    for k, v in gateway_secrets().items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("LAPOR_HTTP__PORT", "18080")
    s = load_settings(conf)
    assert s.http.port == 18080  # env beats file
    assert s.sms.kannel.sender == "LAPOR"  # file beats defaults
    assert s.smtp.domains == ["pemkot.go.id"]
    monkeypatch.setenv("LAPOR_CONFIG", str(conf))
    assert load_settings().sms.kannel.sender == "LAPOR"


@pytest.mark.parametrize(
    ("env_key", "value", "names"),
    [
        ("LAPOR_HTTP__PORT", "eighty", "http.port"),
        ("LAPOR_TELEGRAM__MODE", "pigeon", "telegram.mode"),
        ("LAPOR_FORWARDER__MAX_ATTEMPTS", "0", "forwarder.max_attempts"),
    ],
)
def test_invalid_setting_is_one_clear_line(env: Path, monkeypatch: pytest.MonkeyPatch, env_key: str, value: str,
                                           names: str) -> None:
    monkeypatch.setenv(env_key, value)
    with pytest.raises(SettingsError, match=names.replace(".", r"\.")):
        load_settings(generate_secrets=True)


def test_missing_secret_outside_run(env: Path) -> None:
    with pytest.raises(SettingsError, match="missing secret"):
        load_settings()


def test_cli_reports_bad_setting_in_one_line(env: Path) -> None:
    import os

    run = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "run"], cwd=REPO, capture_output=True, text=True, timeout=30,
        env={**os.environ, "LAPOR_HTTP__PORT": "99999"},
    )
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "http.port" in lines[0]


def test_schema_command_prints_the_record_schema(env: Path) -> None:
    import json
    import os

    out = subprocess.run([sys.executable, "-m", "gateway.cli", "schema"], cwd=REPO, capture_output=True, text=True,
                         timeout=30, env=dict(os.environ))
    schema = json.loads(out.stdout)
    assert {"tracking_id", "privacy", "body_public", "reporter_ref"} <= set(schema["properties"])


def test_logged_exceptions_show_where_not_what(tmp_path: Path) -> None:
    """A traceback names frames and types; the message (which may quote a complaint) is withheld."""
    import logging

    from gateway.logs import setup_logging

    log_file = tmp_path / "gw.log"
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    setup_logging("DEBUG", log_file)
    quoted = "input_value='oknum lurah minta uang rokok 3273012501900007'"  # what pydantic errors look like
    try:
        try:
            raise ValueError(quoted)
        except ValueError:
            logging.getLogger("test").exception("worker failed for %s", "6281377712345")
    finally:
        for h in list(root.handlers):
            h.close()
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
        logging.getLogger("aiohttp.access").disabled = False
    text = log_file.read_text()
    assert "ValueError (message withheld)" in text and "test_settings.py" in text
    assert "oknum lurah" not in text and "3273012501900007" not in text and "6281377712345" not in text
