"""Which channels run, from the settings: every channel is off unless configured.

The one place that knows every channel module (no registration by import side
effect: what runs is read here, not found by importing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from channels.base import Completer, CursorStore, Poller, ReceiptSender, StartupCheck, WebhookChannel
from channels.sms.json_hmac import JsonSmsChannel
from channels.sms.kannel import KannelAuth, KannelChannel, KannelDlrChannel
from channels.sms.sender import KannelSender
from channels.sms.twilio import TwilioChannel
from channels.sms.twilio_sender import TwilioSender
from gateway.settings import Settings
from gateway.store.blobs import BlobStore

log = logging.getLogger(__name__)


@dataclass
class Channels:
    webhooks: list[WebhookChannel] = field(default_factory=list)
    pollers: list[Poller] = field(default_factory=list)
    senders: list[ReceiptSender] = field(default_factory=list)
    completers: dict[str, Completer] = field(default_factory=dict)
    checks: list[StartupCheck] = field(default_factory=list)
    # pollers the worker process runs: their reading is CPU-heavy (OCR) and must not slow acknowledgements
    worker_pollers: list[Poller] = field(default_factory=list)

    def add(self, obj: Any) -> None:
        """File one channel object under every role it plays."""
        if isinstance(obj, WebhookChannel):
            self.webhooks.append(obj)
        if isinstance(obj, Poller):
            self.pollers.append(obj)
        if isinstance(obj, ReceiptSender):
            self.senders.append(obj)
        if isinstance(obj, Completer):
            self.completers[obj.name] = obj
        if isinstance(obj, StartupCheck):
            self.checks.append(obj)


def sms_channels(settings: Settings, found: Channels) -> None:
    k = settings.sms.kannel
    auth = KannelAuth(k.shared_secret, k.allowed_sources)
    found.add(KannelChannel(auth, id_key=settings.privacy.reporter_hmac_key))
    found.add(KannelDlrChannel(auth))
    dlr = f"http://{settings.http.host}:{settings.http.port}{KannelDlrChannel.path}"
    if k.shared_secret:
        dlr += f"?secret={k.shared_secret}"
    found.add(KannelSender(k.sendsms_url, k.username, k.password, k.sender, dlr_url=dlr))
    if settings.sms.json_hmac_key:
        found.add(JsonSmsChannel(settings.sms.json_hmac_key))
    if settings.sms.twilio_auth_token:
        found.add(TwilioChannel(settings.sms.twilio_auth_token, settings.sms.twilio_url))
    t = settings.sms.twilio
    token = t.auth_token or settings.sms.twilio_auth_token
    if t.account_sid and token:
        found.add(TwilioSender(t.account_sid, token, t.from_, t.api_base_url))
    log.info("sms: Kannel webhook on; JSON aggregator %s; Twilio %s; Twilio receipts %s",
             "on" if settings.sms.json_hmac_key else "off (sms.json_hmac_key not set)",
             "on" if settings.sms.twilio_auth_token else "off (sms.twilio_auth_token not set)",
             "through Twilio" if t.account_sid and token else
             "through Kannel (sms.twilio.account_sid and an auth token not set)")


def email_channels(settings: Settings, blobs: BlobStore, cursors: Callable[[str], CursorStore], found: Channels) -> None:
    from channels.email import imap, send, smtp

    listener = smtp.from_settings(settings, blobs)
    poller = imap.from_settings(settings, blobs, cursors("email.imap"))
    sender = send.from_settings(settings)
    for obj in (listener, poller, sender):
        if obj is not None:
            found.add(obj)
    s = settings
    log.info("email: SMTP listener %s; IMAP %s; receipts %s",
             f"on {s.smtp.host}:{s.smtp.port} for {', '.join(s.smtp.domains)}" if listener else
             "off (smtp.enabled false or smtp.domains empty)",
             f"on {s.imap.host}:{s.imap.port} folder {s.imap.folder}" if poller else "off (imap.host not set)",
             f"via {s.mail.outbound_host}:{s.mail.outbound_port}" if sender else "off (mail.outbound_host not set)")


def letters_channels(settings: Settings, blobs: BlobStore, found: Channels) -> None:
    """The hot folder, the scanning stations' upload endpoint and the printable receipts."""
    from channels.letters.hotfolder import HotFolderPoller
    from channels.letters.lazy import LazyLettersReader
    from channels.letters.printer import LettersReceiptPrinter
    from channels.letters.upload import LettersCompleter, LettersUploadChannel

    s = settings.letters
    assert s.inbox is not None
    reader = LazyLettersReader(s, blobs)
    found.worker_pollers.append(HotFolderPoller(s.inbox, reader, s.poll_seconds))
    found.add(LettersReceiptPrinter(settings.data.dir / "receipts", settings.service.timezone))
    if s.upload_token:
        found.add(LettersUploadChannel(s.upload_token, blobs, s.max_file_bytes))
        found.add(LettersCompleter(reader, blobs))
    log.info("letters: hot folder %s; upload %s; printable receipts in %s", s.inbox,
             f"on {LettersUploadChannel.path}" if s.upload_token else "off (letters.upload_token not set)",
             settings.data.dir / "receipts")


def desk_channels(settings: Settings, found: Channels) -> None:
    """Complaints taken at the desk: the console posts each entry, signed, to the intake."""
    from channels.desk.webhook import DeskChannel, desk_key

    assert settings.privacy.vault_key
    found.add(DeskChannel(desk_key(settings.console.desk_secret, settings.privacy.vault_key)))


def build_channels(settings: Settings, blobs: BlobStore, cursors: Callable[[str], CursorStore]) -> Channels:
    from channels.social.setup import social_from_settings

    found = Channels()
    sms_channels(settings, found)
    email_channels(settings, blobs, cursors, found)
    letters_channels(settings, blobs, found)
    desk_channels(settings, found)
    for obj in social_from_settings(settings, blobs, cursors):
        found.add(obj)
    return found
