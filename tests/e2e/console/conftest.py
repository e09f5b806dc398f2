"""The operator console end to end: a real gateway (``lapor-gateway run``, the console on a free port), users made
with ``lapor-gateway user add --password-stdin``, and Debian's headless Chromium driven by Playwright.

One gateway for the package and one browser per test module (starting either costs seconds); each test gets its own browser
context (cookies) and saves a screenshot of every page it looks at under its own ``tmp_path``
(``shot(page, "name")``). Chromium is Debian's ``/usr/bin/chromium``: Playwright never downloads a browser here.
When it is missing the browser tests skip, except in CI as root, where ``make test`` installs it and a missing
browser is a failure.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.gateway_proc import REPO, GatewayProcess, wait_until
from tests.peers.ports import port_open

CHROMIUM = Path("/usr/bin/chromium")
SHORTCODE = "1708"
PASSWORD_LEN = 20


def browser_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None. In CI as root, a missing browser fails instead."""
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is not installed (Debian package chromium; `make test` installs it as root)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "Playwright for Python is not installed (pip install -e '.[test]')"
    if problem and os.environ.get("CI") and os.geteuid() == 0:
        pytest.fail(f"browser tests cannot run in CI: {problem}")
    return problem


@dataclass
class ConsoleRig:
    gw: GatewayProcess
    console_port: int
    passwords: dict[str, str] = field(default_factory=dict)
    totp_secrets: dict[str, str] = field(default_factory=dict)
    central: subprocess.Popen[bytes] | None = None
    _sms_seq: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.console_port}"

    def add_user(self, name: str, role: str) -> str:
        """``lapor-gateway user add NAME --role ROLE --password-stdin`` while the gateway runs: its password."""
        return self.add_users({name: role})[name]

    def add_users(self, roles: dict[str, str]) -> dict[str, str]:
        """Several ``user add`` at once (each is a Python start and an argon2 hash): their passwords."""
        started = {}
        for name, role in roles.items():
            if name in self.passwords:
                continue
            password = f"pw-{name}-" + os.urandom(PASSWORD_LEN).hex()[:PASSWORD_LEN]
            proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "user", "add", name, "--role", role,
                                     "--password-stdin"], cwd=REPO, env=self.gw.env, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            started[name] = (proc, password)
        for name, (proc, password) in started.items():
            out, err = proc.communicate(password + "\n", timeout=60)
            assert proc.returncode == 0, err
            uri = re.search(r"otpauth://\S+", out)
            if uri:
                query = urllib.parse.parse_qs(urllib.parse.urlparse(uri.group(0)).query)
                self.totp_secrets[name] = query["secret"][0]
            self.passwords[name] = password
        return {name: self.passwords[name] for name in roles}

    def otp(self, name: str) -> str:
        import pyotp

        return pyotp.TOTP(self.totp_secrets[name]).now()

    def sms(self, sender: str, text: str) -> str:
        """An SMS as Kannel's smsbox delivers it to the webhook (GET); its Kannel message id."""
        self._sms_seq += 1
        ext = f"c0de{os.getpid():08x}{self._sms_seq:08x}-e2e"
        q = urllib.parse.urlencode({"from": sender, "to": SHORTCODE, "text": text, "id": ext, "coding": "0",
                                    "charset": "UTF-8", "smsc": "e2e"})
        with urllib.request.urlopen(f"{self.gw.url}/channels/sms/kannel?{q}", timeout=10) as r:
            assert r.status == 200
        return ext

    def store_status(self, tracking_id: str, *statuses: str) -> None:
        """An agency officer moves the complaint through ``statuses`` in the central store (bearer API)."""
        import json

        for status in statuses:
            req = urllib.request.Request(
                f"{self.gw.central_url}/v1/complaints/{tracking_id}/status", method="POST",
                data=json.dumps({"status": status}).encode(),
                headers={"Authorization": f"Bearer {self.gw.env['LAPOR_CENTRAL__API_TOKEN']}",
                         "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as r:
                assert r.status == 200, status

    def start_central(self, *, wait: bool = True) -> None:
        if self.central is None or self.central.poll() is not None:
            self.central = subprocess.Popen([sys.executable, "-m", "gateway.cli", "central"], cwd=REPO,
                                            env=self.gw.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if wait:
            wait_until(lambda: self.gw.central_get("/v1/complaints?limit=1") is not None, timeout=30,
                       what="central store up")

    def stop_central(self) -> None:
        if self.central is not None and self.central.poll() is None:
            self.central.terminate()
            self.central.wait(20)
        self.central = None


def start_rig(data_dir: Path) -> ConsoleRig:
    gw = GatewayProcess(data_dir, {  # the console on a free port of its own (gw.console_port)
        # the store runs beside the gateway, so a test can take it away (a dead letter) and bring it back
        "LAPOR_CENTRAL__EMBEDDED": "false",
        "LAPOR_FORWARDER__MAX_ATTEMPTS": "2",
        "LAPOR_FORWARDER__BACKOFF_MAX_SECONDS": "0.3",
        "LAPOR_CENTRAL__UPDATES_POLL_SECONDS": "1",
    })
    rig = ConsoleRig(gw, gw.console_port)
    rig.start_central(wait=False)  # the two start side by side; nothing is sent before both are up
    gw.start()
    rig.start_central()
    wait_until(lambda: port_open(gw.console_port), timeout=30, what="the console listening")
    return rig


@pytest.fixture(scope="package")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleRig]:
    r = start_rig(tmp_path_factory.mktemp("console") / "gw")
    try:
        yield r
    finally:
        try:
            r.gw.stop()
        finally:
            r.stop_central()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = browser_missing_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID", accept_downloads=True)
    ctx.set_default_timeout(15_000)
    ctx.on("page", lambda page: page.on("dialog", lambda dialog: dialog.accept()))  # "are you sure?" → yes
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def shot(tmp_path: Path) -> Callable[[Any, str], Path]:
    """``shot(page, "name")``: a full-page screenshot at ``<tmp_path>/screenshots/NN-name.png``."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    taken: list[Path] = []

    def take(page: Any, name: str) -> Path:
        path = folder / f"{len(taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    return take


def login(page: Any, rig: ConsoleRig, name: str) -> None:
    """Sign in through the login page (and the TOTP enrolment a first sign-in of such a role leads to)."""
    page.goto(rig.url + "/console/login")
    page.get_by_label(re.compile("Nama pengguna|User name")).fill(name)
    page.locator("#password").fill(rig.passwords[name])
    if name in rig.totp_secrets:
        page.locator("#otp").fill(rig.otp(name))
    page.locator("form[action='/console/login'] button[type=submit]").click()
    page.wait_for_load_state()
    if "/console/enrol" in page.url:
        page.locator("#otp").fill(rig.otp(name))
        page.locator("form[action='/console/enrol'] button[type=submit]").click()
        page.wait_for_load_state()
    assert "/console/login" not in page.url, page.content()[:2000]
