"""Issue 13 item 10: every command and option explained in its ``--help`` (units for durations), and the README's
commands table lists every command and shows how to see the ticket the curl example made."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest

from gateway.cli import build_parser
from tests.gateway_proc import REPO


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


COMMANDS = sorted(_subparsers())


def test_the_expected_commands_exist():
    assert set(COMMANDS) >= {"run", "worker", "central", "log", "show", "schema", "retry-dead", "bench", "scan",
                             "form", "review"}


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_of_every_command_is_explained(name: str):
    sp = _subparsers()[name]
    assert sp.description and len(sp.description) > 30, name
    for action in sp._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
            continue
        assert action.help and len(action.help) > 10, (name, action.dest)
        if action.type is float or action.dest in ("duration", "wait"):
            assert "second" in action.help.lower(), (name, action.dest)  # a duration says its unit


def test_help_fits_80_columns_and_shows_units():
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "bench", "--help"], cwd=REPO, capture_output=True,
                          text=True, env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"}, timeout=30)
    assert done.returncode == 0 and "--duration SECONDS" in done.stdout
    body = done.stdout.split("\n\n", 1)[1]  # argparse's usage line may run on; the text must not
    assert max(len(ln) for ln in body.splitlines()) <= 80
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "show", "--help"], cwd=REPO, capture_output=True,
                          text=True, env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"}, timeout=30)
    assert "TRACKING_ID" in done.stdout and "10-digit" in done.stdout and "--json" in done.stdout


def test_readme_lists_every_command_and_how_to_see_the_ticket():
    readme = (REPO / "README.md").read_text()
    table = readme.split("## Commands", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `lapor-gateway ([a-z-]+)", table, re.MULTILINE))
    assert listed == set(COMMANDS)
    curl = readme.index("curl -G http://127.0.0.1:8080/channels/sms/kannel")
    after = readme[curl:curl + 800]
    assert "lapor-gateway log -n" in after and "lapor-gateway show" in after


def test_gitignore_covers_what_the_cli_writes_by_default():
    ignored = (REPO / ".gitignore").read_text().splitlines()
    default_form = build_parser().parse_args(["form"]).output
    assert default_form in ignored and "data/" in ignored
