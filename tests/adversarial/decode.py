"""Does a forwarded record still carry an identity, in clear, encoded or hashed?

``leaks(record, secrets)`` walks every value of a record (dicts, lists, keys
too), and for each string looks for every secret and its variants:

- in the value as it is, case-insensitively and on its disguise-free skeleton;
- in what the value, or any token of it (split at ``.``, ``:``, ``|``, ``/``,
  spaces…, e.g. the part after ``wamid.``), decodes to as base64, urlsafe
  base64 (padding optional), hex or percent-encoding, two levels deep;
- as a value or token equal to the sha256, sha1 or md5 hex of a variant, or of
  a variant joined to another secret or to one of ``context`` (e.g. the text,
  the shortcode, a timestamp) with ``""``, ``"\\0"``, ``"|"``, ``":"``, ``","``
  or ``" "`` — the obvious ways an id is made from a phone and a text.

A phone's variants are its national forms ``08…``, ``628…``, ``+628…``,
``00628…`` and the bare national number; any secret also counts as its digits
alone when it has 8 or more of them. Returns one line per finding
(``path: secret #i as <how>``); ``[]`` means nothing was found.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import urllib.parse
from collections.abc import Iterable, Iterator
from typing import Any

from normalizer.fold import fold
from normalizer.pii import normalize_phone

__all__ = ["leaks", "variants"]

_SEPARATORS = ("", "\0", "|", ":", ",", " ")
_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-%]{6,}")
_HEX_TOKEN = re.compile(r"(?<![0-9a-fA-F])(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{40}|[0-9a-fA-F]{32})(?![0-9a-fA-F])")


def variants(secret: str) -> set[str]:
    """The forms a secret may be written in."""
    out = {secret, secret.strip()}
    digits = re.sub(r"\D", "", fold(secret).text)
    if len(digits) >= 8:
        out.add(digits)
    phone = normalize_phone(secret)
    if phone and phone.startswith("62"):
        national = phone[2:]
        out |= {"0" + national, "62" + national, "+62" + national, "0062" + national, national}
    return {v for v in out if len(v) >= 4}


def _walk(value: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield f"{path}.{k}<key>", str(k)
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, value
    elif value is not None:
        yield path, str(value)


def _decode_one(token: str) -> Iterator[tuple[str, bytes]]:
    padded = token + "=" * (-len(token) % 4)
    for how, fn in (("base64", base64.b64decode), ("urlsafe base64", base64.urlsafe_b64decode)):
        try:
            raw = fn(padded)
        except (binascii.Error, ValueError):
            continue
        yield how, raw
    if len(token) % 2 == 0 and re.fullmatch(r"[0-9a-fA-F]+", token):
        yield "hex", bytes.fromhex(token)
    if "%" in token:
        yield "percent-encoding", urllib.parse.unquote_to_bytes(token)


def _decodings(value: str, depth: int = 2) -> Iterator[tuple[str, str]]:
    """(how, text) for what ``value`` and its tokens decode to."""
    if depth == 0:
        return
    for token in {value, *_TOKEN.findall(value)}:
        for how, raw in _decode_one(token):
            text = raw.decode("latin-1")
            yield how, text
            for deeper_how, deeper in _decodings(text, depth - 1):
                yield f"{how} then {deeper_how}", deeper


def _found(needle: str, haystack: str) -> bool:
    if needle.casefold() in haystack.casefold():
        return True
    skeleton = fold(haystack).text.casefold()
    if needle.casefold() in skeleton:
        return True
    return needle.isdigit() and needle in re.sub(r"\D", "", skeleton)


def _digests(secrets: list[set[str]], context: Iterable[str]) -> dict[str, int]:
    """hex digest → index of the secret it was made from."""
    out: dict[str, int] = {}
    partners = [p for p in context if p] + [v for vs in secrets for v in vs]
    for i, forms in enumerate(secrets):
        for form in forms:
            joined = {form}
            for sep in _SEPARATORS:
                for p in partners:
                    joined |= {form + sep + p, p + sep + form}
                joined.add(sep.join([form, *[p for p in context if p]]))
            for material in joined:
                data = material.encode("utf-8", "surrogatepass")
                for algo in (hashlib.sha256, hashlib.sha1, hashlib.md5):
                    out.setdefault(algo(data).hexdigest(), i)
    return out


def leaks(record: dict, secrets: list[str], context: Iterable[str] = ()) -> list[str]:
    """Every place ``record`` gives a secret away (see the module docstring); ``[]`` when none."""
    context = list(context)
    forms = [variants(s) for s in secrets]
    digests = _digests(forms, context)
    findings: list[str] = []
    for path, value in _walk(record):
        for i, vs in enumerate(forms):
            hit = next((v for v in vs if _found(v, value)), None)
            if hit is not None:
                findings.append(f"{path}: secret #{i} in clear")
                continue
            for how, decoded in _decodings(value):
                if any(_found(v, decoded) for v in vs):
                    findings.append(f"{path}: secret #{i} as {how}")
                    break
        for token in {value.strip().lower(), *(t.lower() for t in _HEX_TOKEN.findall(value))}:
            if token in digests:
                findings.append(f"{path}: secret #{digests[token]} as a hash")
    return sorted(set(findings))
