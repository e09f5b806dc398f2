"""Settings that refuse typos: unknown keys and variables stop start-up in one line; ``a,b`` lists; example.toml."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gateway.settings import Settings, SettingsError, load_settings, setting_keys
from tests.gateway_proc import REPO, gateway_secrets
from tests.peers.ports import free_port

EXAMPLE = REPO / "config" / "example.toml"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for key in list(os.environ):
        if key.startswith("LAPOR_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("LAPOR_DATA__DIR", str(tmp_path / "data"))
    for k, v in gateway_secrets().items():
        monkeypatch.setenv(k, v)
    return tmp_path


def _conf(tmp: Path, text: str) -> Path:
    path = tmp / "site.toml"
    path.write_text(text)
    return path


# --- unknown keys in a file ---------------------------------------------------------------------------------------

FILE_TYPOS = [
    # (file text, the key named, the suggestion)
    ("[http]\nprot = 1\n", "unknown key http.prot", "did you mean http.port?"),
    ("[sms.kannel]\nsendr = 'LAPOR'\n", "unknown key sms.kannel.sendr", "did you mean sms.kannel.sender?"),
    ("[htp]\nport = 1\n", "unknown section htp", "did you mean http?"),
    ("[http]\ndomains = ['a.go.id']\n", "unknown key http.domains", "did you mean smtp.domains?"),  # wrong section
    ("[telegram]\ntokn = 'x'\n", "unknown key telegram.tokn", "did you mean telegram.token?"),
    ("[mail]\nfrm = 'a@b'\n", "unknown key mail.frm", "did you mean mail.from?"),
]


@pytest.mark.parametrize(("text", "named", "hint"), FILE_TYPOS)
def test_unknown_key_in_a_file_is_refused_with_the_nearest_key(env: Path, text: str, named: str, hint: str) -> None:
    conf = _conf(env, text)
    with pytest.raises(SettingsError) as exc:
        load_settings(conf)
    msg = str(exc.value)
    assert named in msg and hint in msg and str(conf) in msg
    assert "\n" not in msg


def test_unknown_key_in_the_secrets_file_is_refused(env: Path) -> None:
    (env / "data").mkdir()
    (env / "data" / "secrets.toml").write_text('[privacy]\nvault_kye = "x"\n')
    with pytest.raises(SettingsError, match=r"unknown key privacy\.vault_kye .*did you mean privacy\.vault_key\?"):
        load_settings()


def test_aliases_are_known_keys(env: Path) -> None:
    s = load_settings(_conf(env, '[mail]\nfrom = "lapor@pemkot.go.id"\n[log]\njson = true\n'))
    assert s.mail.from_ == "lapor@pemkot.go.id" and s.log.json_ is True


# --- unknown LAPOR_* variables ------------------------------------------------------------------------------------

ENV_TYPOS = [
    ("LAPOR_HTTP__PROT", "1", "unknown key http.prot", "did you mean http.port, LAPOR_HTTP__PORT?"),
    ("LAPOR_HTP__PORT", "1", "unknown section htp", "did you mean http.port, LAPOR_HTTP__PORT?"),
    ("LAPOR_SMS__KANNEL__SENDR", "x", "unknown key sms.kannel.sendr", "did you mean sms.kannel.sender"),
    ("LAPOR_HTTP__PORT__X", "1", "unknown key http.port.x", "did you mean http.port"),
    ("LAPOR_HTTP", '{"prot": 1}', "unknown key http.prot", "did you mean http.port?"),  # a section as JSON
    ("LAPOR_NONSENSE", "1", "unknown variable LAPOR_NONSENSE", "LAPOR_<SECTION>__<KEY>"),
]


@pytest.mark.parametrize(("name", "value", "named", "hint"), ENV_TYPOS)
def test_unknown_variable_is_refused_with_the_nearest_key(env: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                                                         value: str, named: str, hint: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as exc:
        load_settings()
    msg = str(exc.value)
    assert named in msg and hint in msg and "\n" not in msg


def test_variables_the_project_reads_that_are_not_settings_keep_working(env: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    conf = _conf(env, "[http]\nport = 9001\n")
    monkeypatch.setenv("LAPOR_CONFIG", str(conf))
    monkeypatch.setenv("LAPOR_ISOLATE", "off")
    monkeypatch.setenv("LAPOR_SMS__KANNEL__SENDSMS_URL", "http://127.0.0.1:1/cgi-bin/sendsms")
    monkeypatch.setenv("LAPOR_MAIL__FROM", "lapor@pemkot.go.id")  # an alias from the environment
    s = load_settings()
    assert s.http.port == 9001 and s.mail.from_ == "lapor@pemkot.go.id"
    assert s.sms.kannel.sendsms_url == "http://127.0.0.1:1/cgi-bin/sendsms"


def test_variable_names_are_case_insensitive_as_before(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("lapor_http__port", "18081")
    assert load_settings().http.port == 18081


# --- lists from the environment -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("foo", ["foo"]),
        ("foo,bar", ["foo", "bar"]),
        (" pemkot.go.id , lapor.go.id ,", ["pemkot.go.id", "lapor.go.id"]),
        ('["foo", "bar"]', ["foo", "bar"]),  # JSON still works
        ("", []),
    ],
)
def test_list_from_the_environment_is_comma_separated_or_json(env: Path, monkeypatch: pytest.MonkeyPatch, value: str,
                                                             expected: list[str]) -> None:
    monkeypatch.setenv("LAPOR_SMTP__DOMAINS", value)
    assert load_settings().smtp.domains == expected


def test_comma_list_for_a_nested_list(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAPOR_SMS__KANNEL__ALLOWED_SOURCES", "10.0.0.5,10.0.0.6")
    assert load_settings().sms.kannel.allowed_sources == ["10.0.0.5", "10.0.0.6"]


def test_broken_json_list_is_one_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAPOR_SMTP__DOMAINS", '["foo",')
    with pytest.raises(SettingsError, match=r"^invalid setting smtp\.domains: LAPOR_SMTP__DOMAINS is not valid JSON"):
        load_settings()


def test_settings_built_directly_read_comma_lists_too(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAPOR_SMTP__DOMAINS", "a.go.id,b.go.id")
    monkeypatch.setenv("LAPOR_HTTP__PORT", "18082")
    s = Settings(http={"host": "0.0.0.0"})
    assert s.smtp.domains == ["a.go.id", "b.go.id"] and (s.http.host, s.http.port) == ("0.0.0.0", 18082)


# --- values that used to fail later with a traceback -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "pattern"),
    [
        ("LAPOR_STORAGE__URL", "postgresql://db/lapor", r"^storage\.url: unsupported backend 'postgresql'"),
        ("LAPOR_PRIVACY__VAULT_KEY", "not-a-key", r"^invalid setting privacy\.vault_key: .*32 random bytes"),
    ],
)
def test_values_the_gateway_cannot_use_are_refused_at_load(env: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                                                          value: str, pattern: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=pattern):
        load_settings()


# --- the CLI: one line on stderr, nothing started, nothing created ------------------------------------------------

CLI_CASES = [
    # (environment, file text or None, what the line names)
    ({"LAPOR_HTTP__PROT": "1"}, None, r"unknown key http\.prot .*did you mean http\.port"),
    ({}, "[http]\nprot = 1\n", r"unknown key http\.prot .*did you mean http\.port\?"),
    ({}, "[imapp]\nhost = 'mail.go.id'\n", r"unknown section imapp .*did you mean imap\?"),
    ({"LAPOR_SMTP__DOMAINS": "[broken"}, None, r"invalid setting smtp\.domains"),
    ({"LAPOR_SMTP__PORT": "many"}, None, r"invalid setting smtp\.port"),
    ({}, "[http\nport = 1\n", r"config file .*site\.toml"),
    ({}, "[forwarder]\nconcurrency = 'x'\n", r"invalid setting forwarder\.concurrency"),
    ({"LAPOR_PRIVACY__VAULT_KEY": "short"}, None, r"invalid setting privacy\.vault_key"),
]


@pytest.mark.parametrize(("extra_env", "text", "pattern"), CLI_CASES)
def test_cli_run_refuses_a_bad_setting_in_one_line(env: Path, extra_env: dict[str, str], text: str | None,
                                                   pattern: str) -> None:
    data = env / "data"
    argv = [sys.executable, "-m", "gateway.cli"]
    if text is not None:
        argv += ["--config", str(_conf(env, text))]
    run = subprocess.run(
        [*argv, "run"], cwd=REPO, capture_output=True, text=True, timeout=30,
        env={**os.environ, "LAPOR_HTTP__PORT": str(free_port()), "LAPOR_SMTP__PORT": str(free_port()),
             "LAPOR_CENTRAL__PORT": str(free_port()), "OMP_THREAD_LIMIT": "1", **extra_env},
    )
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in run.stderr
    assert not data.exists()  # refused before anything was created


# --- config/example.toml ------------------------------------------------------------------------------------------

KEY_LINE = re.compile(r"^#\s?([A-Za-z_][A-Za-z0-9_]*\s*=\s*\S.*)$")
TABLE_LINE = re.compile(r"^\[([A-Za-z0-9_.]+)\]\s*$")


def uncommented(text: str) -> str:
    """example.toml with every commented ``# key = value`` line made live, unless its table already sets the key."""
    lines = text.splitlines()
    live: dict[str, set[str]] = {}
    table = ""
    for line in lines:
        if m := TABLE_LINE.match(line):
            table = m.group(1)
        elif re.match(r"^[A-Za-z_]", line):
            live.setdefault(table, set()).add(line.split("=", 1)[0].strip())
    out, table = [], ""
    for line in lines:
        if m := TABLE_LINE.match(line):
            table = m.group(1)
        if (m := KEY_LINE.match(line)) and (key := m.group(1).split("=", 1)[0].strip()) not in live.get(table, set()):
            live.setdefault(table, set()).add(key)
            line = m.group(1)
        out.append(line)
    return "\n".join(out) + "\n"


def _sections() -> list[str]:
    """Every table of the settings: ``http``, ``sms``, ``sms.kannel``…"""
    keys = setting_keys()
    return [k for k in keys if any(o.startswith(f"{k}.") for o in keys)]


def _keys_of(data: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for k, v in data.items():
        out.add(f"{prefix}{k}")
        if isinstance(v, dict):
            out |= _keys_of(v, f"{prefix}{k}.")
    return out


def test_uncommenting_helper_makes_key_lines_live() -> None:
    text = "[a]\n# Prose, no key here.\nx = 1\n# x = 2\n# y = 'z'\n[b]\n# x = 3\n"
    assert tomllib.loads(uncommented(text)) == {"a": {"x": 1, "y": "z"}, "b": {"x": 3}}


@pytest.mark.parametrize("variant", ["as shipped", "every key uncommented"])
def test_example_config_loads_with_every_section(env: Path, variant: str) -> None:
    text = EXAMPLE.read_text()
    if variant != "as shipped":
        text = uncommented(text)
    data = tomllib.loads(text)
    missing = [s for s in _sections() if s not in _keys_of(data)]
    assert not missing, f"sections missing from config/example.toml: {missing}"
    s = load_settings(_conf(env, text))
    assert isinstance(s, Settings)


def test_every_setting_is_in_the_example_config() -> None:
    """A new setting must be explained in config/example.toml, commented out if it has no sensible example."""
    present = _keys_of(tomllib.loads(uncommented(EXAMPLE.read_text())))
    missing = [k for k in setting_keys() if k not in present]
    assert not missing, f"settings missing from config/example.toml: {missing}"


def test_every_example_key_has_an_explanation() -> None:
    """Each key line (live or commented) comes right after a line of prose explaining it."""
    lines = EXAMPLE.read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^[A-Za-z_]", line) or KEY_LINE.match(line):
            before = lines[i - 1] if i else ""
            assert before.startswith("# ") and not KEY_LINE.match(before), (
                f"config/example.toml line {i + 1} has no explanation above it: {line}"
            )


def test_gateway_toml_and_example_keys_are_known(env: Path) -> None:
    for path in (REPO / "config" / "gateway.toml", EXAMPLE):
        known = set(setting_keys())
        unknown = [k for k in _keys_of(tomllib.loads(uncommented(path.read_text()))) if k not in known]
        assert not unknown, f"{path.name}: {unknown}"
