"""The console is usable by keyboard and readable (issue 16: WCAG 2.2 AA).

Contrast: every text colour / background pair the stylesheet actually combines, read out of console.css (the
``:root`` variables resolved), against the WCAG 2.x relative-luminance formula: 4.5:1 for normal text, 3:1 for
large text, component boundaries and the focus indicator (SC 1.4.3, 1.4.11, 2.4.13). Keyboard: a visible
``:focus-visible`` style that nothing turns off, a skip link to ``<main id="main">``. Labels and ``lang``: on the
pages as the app renders them, read with html.parser.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gateway.console.reports_page import COLOURS as CHART_COLOURS
from tests.unit.gateway.console.console_env import Env, add_complaint

CSS = Path(__file__).parents[4] / "gateway" / "console" / "static" / "console.css"
TEXT, LARGE, UI = 4.5, 3.0, 3.0


# --- the stylesheet, read --------------------------------------------------------------------------------------
def rules(css: str) -> dict[str, dict[str, str]]:
    """``selector → {property: value}`` of the top-level rules (``@keyframes`` steps as ``@keyframes name from``)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out: dict[str, dict[str, str]] = {}
    for m in re.finditer(r"@keyframes\s+([\w-]+)\s*\{((?:[^{}]*\{[^{}]*\})*)\s*\}", css):
        for step in re.finditer(r"([^{}]+)\{([^{}]*)\}", m.group(2)):
            out[f"@keyframes {m.group(1)} {step.group(1).strip()}"] = decls(step.group(2))
    css = re.sub(r"@(keyframes|media)[^{]*\{(?:[^{}]*\{[^{}]*\})*\s*\}", "", css)
    for m in re.finditer(r"([^{}]+)\{([^{}]*)\}", css):
        for selector in m.group(1).split(","):
            key = " ".join(selector.split())
            out.setdefault(key, {}).update(decls(m.group(2)))
    return out


def decls(block: str) -> dict[str, str]:
    pairs = (d.split(":", 1) for d in block.split(";") if ":" in d)
    return {k.strip(): " ".join(v.split()) for k, v in pairs}


SHEET = rules(CSS.read_text(encoding="utf-8"))
VARS = {k: v for k, v in SHEET[":root"].items() if k.startswith("--")}


def colour_in(value: str) -> str:
    """The colour in a declaration's value (``3px solid var(--x)`` → ``#rrggbb``)."""
    value = re.sub(r"var\((--[\w-]+)\)", lambda m: VARS[m.group(1)], value)
    if " #" not in f" {value}" and value in ("#fff", "white"):
        return "#ffffff"
    m = re.search(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b", value)
    assert m, f"no colour in {value!r}"
    h = m.group(0)[1:]
    return "#" + ("".join(c * 2 for c in h) if len(h) == 3 else h).lower()


def prop(selector: str, name: str) -> str:
    block = SHEET[selector]
    if name == "background" and "background" not in block:
        name = "background-color"
    if name == "outline" and "outline" not in block:
        return colour_in(block["outline-color"])
    return colour_in(block[name])


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_formula_gives_the_known_ratios() -> None:
    assert round(ratio("#000000", "#ffffff"), 1) == 21.0
    assert round(ratio("#777777", "#ffffff"), 2) == 4.48  # the classic just-fails grey
    assert ratio("#ffffff", "#ffffff") == 1.0


def test_the_stylesheet_reader_reads_the_variables_and_keyframes() -> None:
    assert VARS["--paper"] and prop("body", "color") == colour_in(VARS["--ink"])
    assert any(k.startswith("@keyframes flash") for k in SHEET)


# --- the pairs the console draws ---------------------------------------------------------------------------------
PAPER = prop("body", "background")
SOFT = colour_in(VARS["--soft"])  # table heads, the filter bar
HIGHLIGHT = prop("@keyframes flash from", "background")  # a live row as it arrives (yellow)
BOXES = {name: prop(f".{name}", "background") for name in ("flash", "notice", "error")}
BAR = prop("header.top", "background")
ROW_BACKS = {"paper": PAPER, "highlighted row": HIGHLIGHT}

PAIRS: list[tuple[str, str, str, float]] = [
    ("body text", prop("body", "color"), PAPER, TEXT),
    ("body text in a table head / filter bar", prop("body", "color"), SOFT, TEXT),
    ("link", prop("a", "color"), PAPER, TEXT),
    ("link in a table head / filter bar", prop("a", "color"), SOFT, TEXT),
    ("skip link", prop("a", "color"), prop(".skip", "background"), TEXT),
    ("header text", prop("header.top", "color"), BAR, TEXT),
    ("nav bar link", prop("header.top a", "color"), BAR, TEXT),
    ("logout button in the bar", prop("header.top button", "color"), prop("header.top button", "background"), TEXT),
    ("logout button edge on the bar", prop("header.top button", "background"), BAR, UI),
    ("button", prop("button", "color"), prop("button", "background"), TEXT),
    ("button edge on the page", prop("button", "background"), PAPER, UI),
    ("secondary button", prop("button.secondary", "color"), prop("button.secondary", "background"), TEXT),
    ("secondary button edge", prop("button.secondary", "border"), PAPER, UI),
    ("danger button", prop("button", "color"), prop("button.danger", "background"), TEXT),
    ("danger button edge", prop("button.danger", "background"), PAPER, UI),
    ("input edge", prop("input:not([type=checkbox]):not([type=radio])", "border"), PAPER, UI),
    ("input edge in the filter bar", prop("input:not([type=checkbox]):not([type=radio])", "border"), SOFT, UI),
    ("input text", prop("input", "color"), prop("input:not([type=checkbox]):not([type=radio])", "background"), TEXT),
    ("help text", prop(".help", "color"), PAPER, TEXT),
    ("help text in the filter bar", prop(".help", "color"), SOFT, TEXT),
    ("empty page note", prop("p.blank-page", "color"), PAPER, TEXT),
    ("technical detail", prop("details.detail code", "color"), PAPER, TEXT),
    ("flash box", prop("body", "color"), BOXES["flash"], TEXT),
    ("flash box link", prop("a", "color"), BOXES["flash"], TEXT),
    ("notice box", prop("body", "color"), BOXES["notice"], TEXT),
    ("notice box link", prop("a", "color"), BOXES["notice"], TEXT),
    ("error box", prop(".error", "color"), BOXES["error"], TEXT),
    ("error box link", prop("a", "color"), BOXES["error"], TEXT),
]
for back_name, back in ROW_BACKS.items():
    PAIRS += [
        (f"row text on {back_name}", prop("body", "color"), back, TEXT),
        (f"row link on {back_name}", prop("a", "color"), back, TEXT),
        (f"small code on {back_name}", prop("small.code", "color"), back, TEXT),
        (f"failed row on {back_name}", prop("tr.state-dead_letter td", "color"), back, TEXT),
        (f"held row on {back_name}", prop("tr.state-needs_review td", "color"), back, TEXT),
    ]
    for state in ("ok", "degraded", "off"):  # the badges: text and their outline (currentColor)
        PAIRS.append((f"badge {state} on {back_name}", prop(f".state-{state}", "color"), back, TEXT))
FOCUS = prop(":focus-visible", "outline")
BAR_FOCUS = prop("header.top :focus-visible", "outline") if "header.top :focus-visible" in SHEET else FOCUS
for back_name, back in {"paper": PAPER, "table head / filter bar": SOFT, "highlighted row": HIGHLIGHT,
                        **{f"{k} box": v for k, v in BOXES.items()}}.items():
    PAIRS.append((f"focus outline on {back_name}", FOCUS, back, UI))
# the ring stands off its element (outline-offset): what lies beside it is the background, not the button
assert re.match(r"[2-9]px", SHEET[":focus-visible"].get("outline-offset", ""))
PAIRS.append(("focus outline on the nav bar", BAR_FOCUS, BAR, UI))
# the skip link appears over the dark bar: its ring is drawn inside its own (light) box
assert SHEET[".skip:focus-visible"]["outline-offset"].startswith("-")
PAIRS.append(("focus outline inside the skip link", FOCUS, prop(".skip", "background"), UI))
PAIRS += [(f"chart bar {name}", colour, PAPER, UI) for name, colour in CHART_COLOURS.items()]


@pytest.mark.parametrize(("what", "fore", "back", "least"), PAIRS, ids=[p[0] for p in PAIRS])
def test_contrast(what: str, fore: str, back: str, least: float) -> None:
    got = ratio(fore, back)
    assert got >= least, f"{what}: {fore} on {back} is {got:.2f}:1, needs {least}:1"


# --- keyboard ------------------------------------------------------------------------------------------------------
def test_every_focusable_element_shows_its_focus_and_nothing_hides_it() -> None:
    ring = SHEET[":focus-visible"]
    width = re.match(r"(\d+(?:\.\d+)?)px", ring.get("outline", ring.get("outline-width", "")))
    assert width and float(width.group(1)) >= 2, ring  # SC 2.4.13: at least a 2 px perimeter
    assert "solid" in ring.get("outline", ring.get("outline-style", ""))
    for selector, block in SHEET.items():
        for name in ("outline", "outline-style", "outline-width"):
            assert block.get(name, "") not in ("none", "0", "0px"), f"{selector} hides the focus ring"


def test_the_skip_link_shows_when_focused() -> None:
    assert SHEET[".skip:focus"]["left"] != SHEET[".skip"]["left"]


# --- the pages as rendered -----------------------------------------------------------------------------------------
class Page(HTMLParser):
    """What the checks need of a page: lang, labels, fields, the skip link and <main>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.label_for: set[str] = set()
        self.fields: list[dict[str, str | None]] = []
        self.open_labels = 0
        self.first_link: str | None = None
        self.main_id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "label":
            self.open_labels += 1
            if a.get("for"):
                self.label_for.add(str(a["for"]))
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit", "button"):
            self.fields.append(a | {"_tag": tag, "_wrapped": "1" if self.open_labels else None})
        elif tag == "a" and self.first_link is None:
            self.first_link = a.get("href")
        elif tag == "main":
            self.main_id = a.get("id")

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels = max(0, self.open_labels - 1)

    def unlabelled(self) -> list[str]:
        return [f"{f['_tag']} name={f.get('name')}" for f in self.fields
                if not (f.get("id") in self.label_for or f.get("aria-label") or f.get("aria-labelledby")
                        or f["_wrapped"])]


PAGES = ["/console/", "/console/review", "/console/dead-letters", "/console/new", "/console/scan", "/console/mine",
         "/console/health", "/console/reports", "/console/users", "/console/audit", "/console/password"]


@pytest.fixture
def console_users() -> list[tuple[str, str]]:
    return [("admin2", "admin")]


async def page(env: Env, path: str) -> Page:
    r = await env.client.get(path, allow_redirects=False)
    assert r.status == 200, f"{path}: {r.status}"
    p = Page()
    p.feed(await r.text())
    return p


@pytest.mark.parametrize("lang", ["id", "en"])
async def test_every_page_has_its_language_labels_and_a_skip_link(env: Env, lang: str) -> None:
    tid = add_complaint(env, {"body": "Lampu jalan mati di Jl. Cempaka", "category_suggestion": []})
    login = await page(env, f"/console/login?lang={lang}")
    assert login.lang == lang and not login.unlabelled() and login.fields
    signed_in = await env.login("admin2")
    assert signed_in.status == 303 and signed_in.headers["Location"] == "/console/"
    fields = 0
    for path in [*PAGES, f"/console/complaints/{tid}"]:
        p = await page(env, path)
        fields += len(p.fields)
        assert p.lang == lang, path
        assert p.unlabelled() == [], path
        assert p.first_link == "#main" and p.main_id == "main", path  # the skip link comes first, to <main>
    assert fields > 20  # the filters, the desk form, the users form...: the parser saw them
