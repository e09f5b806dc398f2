"""One table harness for the channels' webhooks, and one for the receipt senders' outgoing requests.

A channel's test module is a table of :class:`Case` values and one parametrized test::

    TABLE = Table(KannelChannel(KannelAuth(None, [])), [
        Case("GSM-7 text", "mo__gsm7", text="Jalan rusak di depan SDN 3", sender="6281234567890"),
        Case("no sender", "mo__no_sender", rejected=400, reason="from"),
    ], canaries=("6281234567890",))

    @cases(TABLE)
    def test_kannel(check: Check, caplog: pytest.LogCaptureFixture) -> None:
        check.run(caplog)

:func:`cases` expands every case into the case itself and the checks nobody writes by hand:

* ``bad signature refused``: for a table with a :class:`Signature` (JSON-HMAC, Twilio, WhatsApp, the
  Telegram secret token, Kannel's shared secret when configured), the fixture's signature header or
  query parameter is changed by one character; ``parse`` must raise ``Rejected(403)`` (nothing returned).
  Cases that are about the signature themselves (rejected with 403) are not mutated.
* ``replay``: the same fixture parsed twice gives the same ``(channel, account, external_id)`` list.
* ``no canary in logs``: nothing logged during ``parse`` (at DEBUG, any logger) and no rejection reason
  contains a canary: the table's and the case's ``canaries``, and what the parse found to be identity
  (sender, the reporter's name, NIK, phone, handle, email).

Fixtures
--------
A fixture is loaded by name from the channel's folder: the channel ``<family>.<provider>[.…]`` reads
``tests/unit/channels/<family>/fixtures/<provider>/<event>__<variant>.<ext>`` (``sms.kannel.dlr`` reads
``sms/fixtures/kannel/dlr__…``). The format of a webhook request is ``.http``, as an HTTP/1.1 request
is written on the wire::

    POST /channels/sms/json HTTP/1.1
    Host: 127.0.0.1:8080
    Content-Type: application/json
    X-Signature: sha256=4f0c…

    {"id": "agg-1", "from": "+6281234567890", …}

* The request line's target is origin-form (``/path?query``: scheme ``http``, host from ``Host``) or
  absolute-form (``https://gw.example.go.id/path?query``: scheme and host from it; Twilio signs the URL).
  The query stays percent-encoded, as the gateway hands it to ``parse``.
* Header lines up to the first empty line (``\\n`` or ``\\r\\n``); names are case-insensitive, as
  aiohttp gives them. The peer's address is not in the file: it is the case's ``remote`` (loopback).
* The body is every byte after the empty line except the file's final newline (editors add one; a body
  that ends in a newline is written with one more). ``X-Fixture-Body: hex`` (dropped from the headers)
  says the body is written as hex digits (whitespace ignored): UTF-16BE text in a POST body.
* A signature in a fixture is the real one for the test secret of its table (a captured request).

A ``.json`` fixture is only a body: the social updates are shared with the pollers' tests (Telegram's
getUpdates, the fakes' queues), so they stay plain JSON, and their table's :class:`Envelope` says how the
provider POSTs them (path, headers, and how it signs the bytes). ``.http`` wins when both exist.

Outgoing
--------
:class:`OutgoingCase` (Courier's ``OutgoingTestCase``): a receipt in, the exact request the provider gets
out (method, path, decoded parameters, headers that matter) and what ``send`` returns or raises. A table
module runs them against a local fake (``tests/fakes``, the SMTP sink, a sendsms fake) with
:func:`run_outgoing`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pytest
from multidict import CIMultiDict

from channels.base import OutboundReceipt, RawRequest
from channels.message import InboundMessage, Intake, Rejected

ROOT = Path(__file__).parent


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final[Any] = _Unset()  # an expectation a case leaves unchecked


@dataclass(frozen=True)
class Case:
    """One request to a channel's ``parse`` and what must come of it (UNSET: not checked).

    Every message of the intake is checked against ``kind``/``related``/``sender``/``account``/``reporter``/
    ``metadata``/``privacy``/``attachments``; ``text`` and ``external_id`` are the first message's, ``texts``
    every message's in order. ``check`` gets the intake for what a table wants beyond these.
    """

    label: str
    fixture: str
    text: Any = UNSET
    texts: Any = UNSET
    count: int = 1  # messages in the intake (0: nothing to store, still 200)
    sender: Any = UNSET
    account: Any = UNSET
    external_id: Any = UNSET
    kind: str = "complaint"
    related: str | None = None
    reporter: Mapping[str, Any] = field(default_factory=dict)  # a subset of ReporterInfo's fields
    metadata: Mapping[str, Any] = field(default_factory=dict)  # a subset of the first message's metadata
    privacy: Any = UNSET  # a PrivacyHint, or None
    attachments: Any = UNSET  # the list of Attachment every message has at parse time
    suppress: bool | Any = UNSET  # whether the channel suppressed the receipt
    status: int = 200  # the intake's status code
    body: Any = UNSET  # the reply body
    content_type: Any = UNSET
    rejected: int | None = None  # parse raises Rejected with this status
    reason: str = ""  # …and its reason contains this
    canaries: tuple[str, ...] = ()  # identity in this fixture, never to be logged
    remote: str = "127.0.0.1"
    signed: bool = True  # False: the bad-signature check does not apply (a reason in the case's label)
    check: Callable[[Intake], None] | None = None


@dataclass(frozen=True)
class Signature:
    """Where a channel's request carries its signature or secret: a header, or a query parameter."""

    header: str | None = None
    param: str | None = None


@dataclass(frozen=True)
class Envelope:
    """How a provider POSTs a body-only ``.json`` fixture: path, headers, and its signature over the bytes."""

    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    sign: Callable[[bytes], Mapping[str, str]] | None = None
    method: str = "POST"
    host: str = "127.0.0.1:8080"


@dataclass(frozen=True)
class Table:
    """One channel configuration and its cases."""

    channel: Any  # a WebhookChannel
    cases: Sequence[Case]
    signature: Signature | None = None
    envelope: Envelope | None = None
    canaries: tuple[str, ...] = ()
    fixtures: Path | None = None  # the folder, when it is not the one the channel's name gives


def fixture_dir(channel_name: str) -> Path:
    family, provider = channel_name.split(".")[:2]
    return ROOT / family / "fixtures" / provider


def parse_http(data: bytes, remote: str | None = "127.0.0.1") -> RawRequest:
    """A ``.http`` fixture as the gateway's handler would build it (see the module's docstring)."""
    ends = [(i, sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := data.find(sep)) >= 0]
    at, sep = min(ends) if ends else (len(data), b"")
    head, body = data[:at], data[at + len(sep):]
    lines = head.decode("latin-1").replace("\r\n", "\n").split("\n")
    method, target, *_ = lines[0].split(" ")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        assert colon, f"not a header line: {line!r}"
        headers.add(name.strip(), value.strip())
    if body.endswith(b"\r\n"):
        body = body[:-2]
    elif body.endswith(b"\n"):
        body = body[:-1]
    if headers.pop("X-Fixture-Body", None) == "hex":
        body = bytes.fromhex(body.decode("ascii"))
    scheme, host = "http", headers.get("Host", "")
    if "://" in target:
        scheme, _, rest = target.partition("://")
        host, slash, target = rest.partition("/")
        target = slash + target
    path, _, query = target.partition("?")
    return RawRequest(method, path, query.encode("latin-1"), headers, body, remote=remote, scheme=scheme, host=host)


def load_request(table: Table, case: Case) -> RawRequest:
    """The case's fixture as the request ``parse`` gets."""
    folder = table.fixtures or fixture_dir(table.channel.name)
    http = folder / f"{case.fixture}.http"
    if http.exists():
        return parse_http(http.read_bytes(), case.remote)
    env = table.envelope
    assert env is not None, f"{case.fixture}: no {http.name}, and the table has no envelope for a .json body"
    body = (folder / f"{case.fixture}.json").read_bytes()
    headers = CIMultiDict(env.headers)
    if env.sign is not None:
        headers.update(env.sign(body))
    return RawRequest(env.method, env.path, b"", headers, body, remote=case.remote, host=env.host)


def _identity(messages: Iterable[InboundMessage]) -> set[str]:
    found: set[str] = set()
    for m in messages:
        found.update(v for v in (m.sender, m.reporter.name, m.reporter.nik, m.reporter.phone, m.reporter.handle,
                                 m.reporter.email) if v)
    return {v for v in found if len(v) >= 4}


def _compare(case: Case, intake: Intake, channel: str) -> None:
    assert intake.status == case.status
    for name in ("body", "content_type"):
        if getattr(case, name) is not UNSET:
            assert getattr(intake, name) == getattr(case, name), name
    assert len(intake.messages) == case.count, [m.external_id for m in intake.messages]
    if case.texts is not UNSET:
        assert [m.text for m in intake.messages] == case.texts
    if intake.messages:
        first = intake.messages[0]
        if case.text is not UNSET:
            assert first.text == case.text
        if case.external_id is not UNSET:
            assert first.external_id == case.external_id
        assert first.metadata.items() >= dict(case.metadata).items(), first.metadata
    for msg in intake.messages:
        assert msg.channel == channel
        assert (msg.kind, msg.related) == (case.kind, case.related)
        for name in ("sender", "account", "privacy", "attachments"):
            if (want := getattr(case, name)) is not UNSET:
                assert getattr(msg, name) == want, name
        if case.suppress is not UNSET:
            assert bool(msg.suppress_receipt) == case.suppress
        for name, want in case.reporter.items():
            assert getattr(msg.reporter, name) == want, f"reporter.{name}"
    if case.check is not None:
        case.check(intake)


def run_case(channel: Any, case: Case, table: Table | None = None) -> Intake | None:
    """Parse the case's fixture with the channel's real ``parse`` and compare; the intake, or None if rejected."""
    table = table or Table(channel, [case])
    request = load_request(table, case)
    if case.rejected is not None:
        with pytest.raises(Rejected) as err:
            channel.parse(request)
        assert err.value.status == case.rejected
        assert case.reason in err.value.reason
        for canary in (*table.canaries, *case.canaries):
            assert canary not in err.value.reason  # never echo identity
        return None
    intake = channel.parse(request)
    _compare(case, intake, channel.name)
    return intake


def _flip(value: str) -> str:
    """``value`` with its last letter or digit before any padding changed: same shape, wrong signature."""
    for i in range(len(value) - 1, -1, -1):
        if value[i].isalnum():
            return value[:i] + ("1" if value[i] == "0" else "0") + value[i + 1:]
    return value + "0"


def with_bad_signature(request: RawRequest, signature: Signature) -> RawRequest:
    if signature.header is not None:
        given = request.headers.get(signature.header)
        assert given, f"the fixture carries no {signature.header} header"
        headers = CIMultiDict(request.headers)
        headers[signature.header] = _flip(given)
        return dataclasses.replace(request, headers=headers)
    assert signature.param is not None
    parts, found = [], False
    for part in request.query.decode("latin-1").split("&"):
        name, eq, value = part.partition("=")
        if name == signature.param and not found:
            part, found = name + eq + _flip(value), True
        parts.append(part)
    assert found, f"the fixture carries no {signature.param}= parameter"
    return dataclasses.replace(request, query="&".join(parts).encode("latin-1"))


def _keys(intake: Intake) -> list[tuple[str, str, str]]:
    return [(m.channel, m.account, m.external_id) for m in intake.messages]


@dataclass(frozen=True)
class Check:
    """One parametrized run: the case itself, or a check the harness added to it."""

    table: Table
    case: Case
    what: str  # "case" | "bad signature" | "replay" | "canaries"

    def run(self, caplog: pytest.LogCaptureFixture) -> None:
        table, case, channel = self.table, self.case, self.table.channel
        if self.what == "case":
            run_case(channel, case, table)
        elif self.what == "bad signature":
            assert table.signature is not None
            request = with_bad_signature(load_request(table, case), table.signature)
            with pytest.raises(Rejected) as err:
                channel.parse(request)
            assert err.value.status == 403
        elif self.what == "replay":
            request = load_request(table, case)
            assert _keys(channel.parse(request)) == _keys(channel.parse(load_request(table, case)))
        else:
            caplog.set_level(logging.DEBUG)
            caplog.clear()
            intake = run_case(channel, case, table)
            if intake is not None:
                assert_no_canary(caplog, (*table.canaries, *case.canaries, *_identity(intake.messages)))
            else:  # what the fixture would have been read as, had it been accepted: its identity too
                assert_no_canary(caplog, (*table.canaries, *case.canaries))


def assert_no_canary(caplog: pytest.LogCaptureFixture, canaries: Iterable[str]) -> None:
    lines = "\n".join(f"{r.name}: {r.getMessage()}" for r in caplog.records)
    for canary in canaries:
        assert canary not in lines, f"{canary!r} leaked into the logs"


def expand(*tables: Table) -> list[Any]:
    """Every case of the tables, each followed by the checks the harness adds to it."""
    params = []
    for table in tables:
        for case in table.cases:
            params.append(pytest.param(Check(table, case, "case"), id=case.label))
            if table.signature is not None and case.signed and case.rejected != 403:
                params.append(pytest.param(Check(table, case, "bad signature"), id=f"{case.label} / bad signature refused"))
            if case.rejected is None:
                params.append(pytest.param(Check(table, case, "replay"), id=f"{case.label} / replay, same external id"))
            params.append(pytest.param(Check(table, case, "canaries"), id=f"{case.label} / no canary in logs"))
    return params


def cases(*tables: Table) -> pytest.MarkDecorator:
    """``@cases(TABLE, …)`` on a test taking ``check``: one test per case and per added check."""
    return pytest.mark.parametrize("check", expand(*tables))


# --- outgoing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One request a provider received, reduced to what a case compares.

    HTTP: method, path, parameters (query, form or JSON body, decoded) and headers. SMTP: ``method`` is
    ``SMTP``, ``path`` the envelope recipient, ``params`` the mail's headers and its ``text/plain`` part as
    ``text``.
    """

    method: str
    path: str
    params: Mapping[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutgoingCase:
    """A receipt in; the exact request(s) the provider gets and what ``send`` returns, or the error it raises.

    ``params`` is compared whole (nothing more, nothing less); ``headers`` as a subset; ``returns`` is the
    provider id, or a callable that tells a good one; ``answer`` makes the fake answer before the API does
    (an error to map).
    """

    label: str
    receipt: OutboundReceipt
    method: str = "POST"
    path: str = ""
    params: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    returns: str | Callable[[str], bool] | None = None
    raises: type[Exception] | None = None
    status: int | None = None  # the Rejected's status, when it raises Rejected
    answer: Callable[[Any], None] | None = None  # sets the fake up (a failure to answer)
    canaries: tuple[str, ...] = ()  # never in the error's text


async def run_outgoing(case: OutgoingCase, send: Callable[[OutboundReceipt], Any],
                       sent: Callable[[], Sequence[Sent]], fake: Any = None) -> None:
    """Send the case's receipt and compare what the provider got (``sent()``) and what came back."""
    if case.answer is not None:
        case.answer(fake)
    if case.raises is not None:
        with pytest.raises(case.raises) as err:
            await send(case.receipt)
        if case.status is not None:
            assert isinstance(err.value, Rejected) and err.value.status == case.status
        for canary in case.canaries:
            assert canary not in str(err.value)
        return
    provider_id = await send(case.receipt)
    if callable(case.returns):
        assert case.returns(provider_id), provider_id
    elif case.returns is not None:
        assert provider_id == case.returns
    got = list(sent())
    assert len(got) == 1, got
    (one,) = got
    assert (one.method, one.path) == (case.method, case.path)
    if case.params is not None:
        assert dict(one.params) == dict(case.params)
    for name, want in case.headers.items():
        assert one.headers.get(name) == want, name
