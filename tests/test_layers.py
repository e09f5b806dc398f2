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
    # channels.phone: a letter's reader and the normaliser write a phone number one way;
    # channels.privacy_tags: the mail completer and the normaliser read ANONIM/RAHASIA one way
    "normalizer": ("normalizer", "channels.message", "channels.registry", "channels.phone", "channels.privacy_tags"),
    # how to wait and to sign, shared with the pollers and the webhooks, kept in the bottom layer
    "forwarder": ("forwarder", "normalizer.record", "channels.retry", "channels.signing"),
}


def _imports(path: Path) -> list[str]:
    """Project modules imported, at run time or under ``if TYPE_CHECKING:`` (a type is a dependency too)."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return [m for m in found if m.split(".")[0] in PROJECT]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package: str) -> None:
    bad = []
    for path in sorted((REPO / package).rglob("*.py")):
        for module in _imports(path):
            if str(path.relative_to(REPO)) in EXEMPT and module == "gateway.settings":
                continue
            if not any(module == a or module.startswith(a + ".") for a in ALLOWED[package]):
                bad.append(f"{path.relative_to(REPO)} imports {module}")
    assert not bad, "\n".join(bad)


# channel names are looked up in channels.registry, never tested by prefix elsewhere
FAMILY_WORDS = ("sms", "email", "letters", "social", "telegram", "whatsapp", "x")
EXEMPT = {  # TYPE_CHECKING imports of the settings that these modules' from_settings take (kept, counted, named)
    "channels/email/imap.py", "channels/email/send.py", "channels/email/smtp.py", "channels/social/setup.py",
}


def _prefix_tests(path: Path) -> list[str]:
    """``x.startswith("sms")``, ``parts[0] == "social"``, ``LIKE ? || '%'`` on a channel name."""
    return _prefix_tests_in(path.read_text(), str(path.relative_to(REPO)))


def _prefix_tests_in(source: str, where: str) -> list[str]:
    tree = ast.parse(source)
    bad = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("startswith", "partition", "split") and "channel" in ast.unparse(node.func.value)) or (isinstance(node, ast.Compare) and any(
                isinstance(c, ast.Constant) and c.value in FAMILY_WORDS for c in node.comparators) and isinstance(
                node.left, ast.Subscript)):
            bad.append(f"{where}:{node.lineno} {ast.unparse(node)}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("startswith", "removeprefix") and node.args
              and any(_family_prefix(v) for v in _constants(node.args[0]))):
            bad.append(f"{where}:{node.lineno} {ast.unparse(node)}")  # family.startswith("sms")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "channel LIKE" in node.value:
            bad.append(f"{where}:{node.lineno} LIKE on a channel name")
    return bad


def _constants(node: ast.expr) -> list[object]:
    elts = node.elts if isinstance(node, ast.Tuple) else [node]
    return [e.value for e in elts if isinstance(e, ast.Constant)]


def _family_prefix(value: object) -> bool:
    """A channel name or family, whatever the variable holding it is called (``"sms"``, ``"social."``)."""
    return isinstance(value, str) and any(value == w or value.startswith(w + ".") for w in (*FAMILY_WORDS, "desk"))


def test_prefix_check_sees_any_receiver() -> None:
    """The check reads the argument too: a family tested by prefix under another name is still a name test."""
    assert _prefix_tests_in('def f(family: str) -> bool:\n    return family.startswith("sms")\n', "sample")
    assert _prefix_tests_in('ok = name.removeprefix("social.")\n', "sample")
    assert not _prefix_tests_in('ok = line.startswith("From ")\n', "sample")


@pytest.mark.parametrize("package", ["gateway", "normalizer", "forwarder"])
def test_no_channel_name_prefix_tests_outside_channels(package: str) -> None:
    bad = [b for path in sorted((REPO / package).rglob("*.py")) for b in _prefix_tests(path)]
    assert not bad, "\n".join(bad)
