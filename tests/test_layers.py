"""Imports follow the data (STYLE.md): channel → normalizer → forwarder, only gateway/ sees them all."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROJECT = ("gateway", "channels", "normalizer", "forwarder")

# package -> project modules it may import (prefix match); anything else of ours is a violation
ALLOWED = {
    "channels": ("channels",),
    "normalizer": ("normalizer", "channels.message"),
    "forwarder": ("forwarder", "normalizer.record", "forwarder.groupcommit"),
}


def _runtime_imports(path: Path) -> list[str]:
    """Project modules imported at run time (imports under ``if TYPE_CHECKING:`` do not count)."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for child in node.body for n in ast.walk(child)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return [m for m in found if m.split(".")[0] in PROJECT]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package: str) -> None:
    bad = []
    for path in sorted((REPO / package).rglob("*.py")):
        for module in _runtime_imports(path):
            if not any(module == a or module.startswith(a + ".") for a in ALLOWED[package]):
                bad.append(f"{path.relative_to(REPO)} imports {module}")
    assert not bad, "\n".join(bad)
