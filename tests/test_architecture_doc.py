"""docs/architecture.md stays true to the tree: the traces open at most eight files, each once, and every
file the page names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "architecture.md").read_text()
PATH = re.compile(r"`((?:gateway|channels|normalizer|forwarder|tests)/[\w/]+(?:\.py|/))`")


def _section(title: str) -> str:
    return DOC.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def _trace(title: str) -> list[str]:
    steps = re.findall(r"^\d+\. `([^`]+)`", _section(title), flags=re.MULTILINE)
    assert steps, f"no steps under {title!r}"
    return steps


@pytest.mark.parametrize("title", ["An SMS, from the HTTP handler", "An email, from the SMTP listener"])
def test_trace_opens_at_most_eight_files_each_once(title: str) -> None:
    steps = _trace(title)
    assert len(steps) <= 8
    assert len(set(steps)) == len(steps), steps
    assert all((REPO / s).is_file() for s in steps), [s for s in steps if not (REPO / s).is_file()]


@pytest.mark.parametrize("title", ["An SMS, from the HTTP handler", "An email, from the SMTP listener"])
def test_trace_names_what_its_files_define(title: str) -> None:
    """The function or method each step starts at is defined in the file that step opens."""
    missing = []
    for path, rest in re.findall(r"^\d+\. `([^`]+)` — ([^\n]*)", _section(title), flags=re.MULTILINE):
        first = re.search(r"`([A-Za-z_][\w.]*)`", rest)
        if first is None:  # "as for the SMS"
            continue
        source = (REPO / path).read_text()
        if not all(re.search(rf"^\s*(?:async def|def|class) {part}\b", source, flags=re.MULTILINE)
                   for part in first[1].split(".")):
            missing.append(f"{path}: {first[1]}")
    assert not missing, missing

def test_every_file_named_exists() -> None:
    missing = sorted({p for p in PATH.findall(DOC) if not (REPO / p).exists()})
    assert not missing, missing
