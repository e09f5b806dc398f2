"""Logging set-up with a redaction filter.

Code never logs message text or identities; the filter is the second line of
defence: whatever reaches a handler has phone numbers, NIK/KK numbers and
email addresses masked, at every level.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from pathlib import Path

from channels.quiet import quiet_client_loggers

_PATTERNS = [
    (re.compile(r"(?<!\d)(?:\+?62|0)8\d(?:[\s.-]?\d){6,11}(?!\d)"), "[phone]"),
    (re.compile(r"(?<![\w.-])62\d{8,13}(?!\d)"), "[phone]"),
    (re.compile(r"(?<!\d)\d{16}(?!\d)"), "[nik]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
]


def redact(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def traceback_without_values(exc: BaseException) -> str:
    """Where it failed, never with what: frames and exception types, no exception messages.

    An exception's message can carry the data it choked on (a validation error quotes
    its input: a complaint's text, an address), so it never reaches a log.
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.insert(0, "".join(traceback.format_tb(current.__traceback__))
                     + f"{type(current).__module__}.{type(current).__qualname__} (message withheld)\n")
        current = current.__cause__ or current.__context__
    return "Traceback (most recent call last):\n" + "\n".join(parts)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = traceback_without_values(record.exc_info[1])
            record.exc_info = None
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def setup_logging(level: str = "INFO", file: Path | None = None) -> None:
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(file, encoding="utf-8"))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        h.setFormatter(fmt)
        h.addFilter(RedactingFilter())
        root.addHandler(h)
    root.setLevel(level.upper())
    # aiohttp's access log would write full query strings (Kannel puts from= and text= there)
    logging.getLogger("aiohttp.access").disabled = True
    quiet_client_loggers()  # client libraries log message bodies, recipients or tokens below WARNING
