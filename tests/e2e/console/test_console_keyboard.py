"""The console by keyboard alone, in real headless Chromium (issue 16: "usable by keyboard"): sign in without a
mouse, the skip link first and onto the main content, a focus ring that shows (yellow on the dark bar, amber
elsewhere, as console.css says), and a desk complaint typed and sent with Tab and Enter."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.console.conftest import ConsoleRig

pytestmark = pytest.mark.peer
Shot = Callable[[Any, str], Path]
BAR_RING, RING = "rgb(255, 209, 102)", "rgb(180, 83, 9)"  # #ffd166, #b45309

FOCUSED = """() => { const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
  return {tag: e.tagName.toLowerCase(), id: e.id, name: e.name || null, cls: e.className, type: e.type || null,
          form: e.form ? e.form.getAttribute('action') : null, inBar: !!e.closest('header.top'),
          style: s.outlineStyle, width: s.outlineWidth, colour: s.outlineColor,
          visible: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0}; }"""


@pytest.fixture(scope="module", autouse=True)
def users(rig: ConsoleRig) -> None:
    rig.add_user("kbd", "operator")


def focused(page: Any) -> dict[str, Any]:
    return page.evaluate(FOCUSED)


def tab_to(page: Any, wanted: Callable[[dict[str, Any]], bool], most: int = 60) -> dict[str, Any]:
    """Tab until the focused element is ``wanted``; every stop on the way shows a ring."""
    for _ in range(most):
        page.keyboard.press("Tab")
        f = focused(page)
        if f["tag"] in ("a", "button", "input", "select", "textarea") and f["type"] != "hidden":
            assert f["style"] == "solid" and f["width"] == "3px", f
            assert f["colour"] == (BAR_RING if f["inBar"] else RING), f
        if wanted(f):
            return f
    raise AssertionError(f"not reached by Tab in {most} steps")


def test_a_clerk_works_without_a_mouse(rig: ConsoleRig, context: Any, shot: Shot) -> None:
    page = context.new_page()
    page.goto(rig.url + "/console/login")
    assert page.evaluate("document.documentElement.lang") == "id"
    page.keyboard.type("kbd")  # the user name field has the focus when the page opens
    page.keyboard.press("Tab")
    page.keyboard.type(rig.passwords["kbd"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/")

    page.keyboard.press("Tab")  # first stop: the skip link, shown on focus
    skip = focused(page)
    assert "skip" in skip["cls"] and skip["visible"], skip
    shot(page, "skip-link")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    page.goto(rig.url + "/console/")
    nav = tab_to(page, lambda f: f["inBar"] and f["tag"] == "a" and not f["cls"])
    assert nav["colour"] == BAR_RING
    shot(page, "nav-focus")

    page.goto(rig.url + "/console/new")
    tab_to(page, lambda f: f["id"] == "body")
    page.keyboard.type("Sampah menumpuk di TPS Jl. Kawi 3 sudah seminggu tidak diangkut, bau sampai ke sekolah.")
    tab_to(page, lambda f: f["name"] == "anonymous")
    page.keyboard.press("Space")
    assert page.locator("input[name=anonymous]").is_checked()
    tab_to(page, lambda f: f["tag"] == "button" and f["form"] == "/console/new")
    shot(page, "desk-submit-focus")
    page.keyboard.press("Enter")
    page.locator("#tracking-id").wait_for(timeout=30_000)
    assert re.fullmatch(r"\d{10}", page.locator("#tracking-id").inner_text().strip())
    shot(page, "desk-tracking-id")
