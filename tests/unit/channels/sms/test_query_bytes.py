"""``query_bytes`` decodes ``+`` once for the whole query and percent-escapes only when there are any:
it must give what decoding each key and value on its own gave, for every fixture and the odd cases."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote_to_bytes

import pytest

from channels.base import RawRequest
from channels.sms.kannel import query_bytes
from tests.unit.channels.harness import parse_http

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "kannel").glob("*.http"))


def per_part(query: bytes) -> dict[str, bytes]:
    """The decoding query_bytes replaced: ``+`` and escapes undone in each key and value separately."""
    out: dict[str, bytes] = {}
    for part in query.split(b"&"):
        key, _, value = part.partition(b"=")
        name = unquote_to_bytes(key.replace(b"+", b" ")).decode("latin-1")
        if name and name not in out:
            out[name] = unquote_to_bytes(value.replace(b"+", b" "))
    return out


def raw(query: bytes) -> RawRequest:
    return RawRequest(method="GET", path="/channels/sms/kannel", query=query, headers={}, body=b"")


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_every_fixture_decodes_as_before(fixture: Path) -> None:
    request = parse_http(fixture.read_bytes())
    assert query_bytes(request) == per_part(request.query)


ODD = [
    b"",
    b"&&&",
    b"text=a+b+c&from=628",
    b"text=a%2Bb&from=628",  # an escaped plus stays a plus
    b"text=a%26b%3Dc&to=1",  # an escaped & and = belong to the value
    b"te%78t=x&text=second",  # an escaped key, and the first value wins
    b"text=first&text=second",
    b"=nokey&text=x",
    b"text",
    b"text=a=b=c",
    b"text=100%&from=62%",  # a stray % is kept as it came
    b"text=%zz%4&coding=2",
    b"text=%00%42%D8%3D+%DE%2D",
    b"a+b=c+d&a b=e",  # a key with a plus is the key with a space
    b"text=caf\xc3\xa9+\xff",  # raw bytes that were never escaped
]


@pytest.mark.parametrize("query", ODD)
def test_odd_queries_decode_as_before(query: bytes) -> None:
    assert query_bytes(raw(query)) == per_part(query)


def test_plus_and_escapes_together() -> None:
    assert query_bytes(raw(b"text=Jalan+rusak%2C+50%25&from=62812")) == {"text": b"Jalan rusak, 50%", "from": b"62812"}
