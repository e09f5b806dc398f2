"""Keep provider client libraries from logging identities, message text or tokens.

python-telegram-bot logs every API call with its parameters at DEBUG (update
texts, chat ids), httpx logs request URLs at INFO (the bot token is part of the
URL), tweepy and urllib3 log request URLs, parameters and bodies at DEBUG (DM
recipients, mention texts). DESIGN.md: logs never hold identity or
confidential text, whatever the log level, so these loggers stop at WARNING.
"""

from __future__ import annotations

import logging

CHATTY_LOGGERS = ("telegram", "httpx", "httpcore", "tweepy", "urllib3", "requests_oauthlib", "oauthlib")


def quiet_client_loggers(names: tuple[str, ...] = CHATTY_LOGGERS) -> None:
    """Raise the named loggers to WARNING (idempotent; never lowers a stricter level)."""
    for name in names:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
