"""Keep provider client libraries from logging identities, message text or tokens.

python-telegram-bot logs every API call with its parameters at DEBUG (update
texts, chat ids), httpx logs request URLs at INFO (the bot token is part of the
URL), tweepy and urllib3 log request URLs, parameters and bodies at DEBUG (DM
recipients, mention texts). Our logs never hold identity or
confidential text, whatever the log level, so these loggers stop at WARNING.
PTB's request layer logs an answer it cannot parse whole, at ERROR with a
traceback (a garbled getUpdates batch holds citizens' texts): it is silenced,
the caller's exception says what happened.
"""

from __future__ import annotations

import logging

CHATTY_LOGGERS = ("telegram", "httpx", "httpcore", "tweepy", "urllib3", "requests_oauthlib", "oauthlib")
SILENT_LOGGERS = ("telegram.request.BaseRequest",)  # 'Can not load invalid JSON data: "<the body>"'


def quiet_client_loggers(names: tuple[str, ...] = CHATTY_LOGGERS) -> None:
    """Raise the named loggers to WARNING (idempotent; never lowers a stricter level)."""
    for name in names:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    for name in SILENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
