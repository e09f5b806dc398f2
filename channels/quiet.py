"""Keep client libraries from logging identities, message text or tokens: the one list of noisy loggers.

python-telegram-bot logs every API call with its parameters at DEBUG (update texts, chat ids),
httpx logs request URLs at INFO (the bot token is part of the URL), tweepy and urllib3 log request
URLs, parameters and bodies at DEBUG (DM recipients, mention texts), imapclient every command and
response (mail bodies), aiosmtpd (``mail.log``) each SMTP exchange, pdfminer and Pillow what they
make of an attachment. Our logs never hold identity or confidential text, whatever the log level,
so these loggers stop at WARNING. PTB's request layer logs an answer it cannot parse whole, at
ERROR with a traceback (a garbled getUpdates batch holds citizens' texts): it is silenced, the
caller's exception says what happened.

Called by ``gateway.logs.setup_logging`` and by each channel module that loads one of these
libraries (so a channel used without the gateway's logging set-up is quiet too).
"""

from __future__ import annotations

import logging

CHATTY_LOGGERS = ("telegram", "httpx", "httpcore", "tweepy", "urllib3", "requests_oauthlib", "oauthlib",
                  "imapclient", "mail.log", "pdfminer", "PIL")
SILENT_LOGGERS = ("telegram.request.BaseRequest",)  # 'Can not load invalid JSON data: "<the body>"'


def quiet_client_loggers() -> None:
    """Raise the chatty loggers to WARNING (idempotent; never lowers a stricter level) and silence the silent."""
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    for name in SILENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
