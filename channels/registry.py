"""What the worker must know about each channel, declared once per channel family.

The worker and the receipt worker look a message's channel up here (:func:`spec_for`) instead of
testing its name: who answers it (the ``ReceiptSender.family``), in which words (the templates'
section), whose receipts its delivery reports may settle, and its policy hooks. Building the
channel objects from their settings stays in ``gateway/wiring.py``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelSpec:
    family: str  # the receipt sender that answers it (``ReceiptSender.family``)
    style: str  # the templates' section its replies are worded from: sms | email | chat | letter
    # the family whose receipts a delivery report from this channel may settle (provider ids of two
    # providers may collide)
    delivery_family: str = ""
    receipt_without_sender: bool = False  # answered even with no address (a printable receipt)
    hold_when_unsure: bool = False  # the channel could not read it well (OCR): a person looks first
    # a reporter field the message gives (not anonymous) → the channel that also answers there
    contact_receipts: tuple[tuple[str, str], ...] = ()
    reply_style: str = ""  # style of a short reply (help, CEK) when it differs from ``style``
    sender_is: str = ""  # what its sender address is: "phone" | "email" | "" (an id of the channel's own)
    # a message with no substance is kept (not forwarded), answered with a request for details, and completed by
    # the sender's next message
    asks_for_details: bool = False
    # the family that answers when ``family`` has no sender configured ("" : none, the receipt fails)
    fallback_family: str = ""

    def answered_by(self, family: str) -> bool:
        """Whether receipts of this channel may go out on ``family``'s path (its own, or the fallback)."""
        return bool(family) and family in (self.family, self.fallback_family)

    @property
    def short_reply_style(self) -> str:
        return self.reply_style or self.style


# the channels ``letters`` answers a letter through when it gives a phone or an email
LETTER_CONTACTS = (("phone", "sms.letters"), ("email", "email.letters"))

FAMILIES: dict[str, ChannelSpec] = {
    # sms.kannel, sms.json, sms.kannel.dlr, sms.letters; answered through Kannel's sendsms
    "sms": ChannelSpec("sms", "sms", "sms", sender_is="phone", asks_for_details=True),
    # answered through Twilio's Messages API when sms.twilio is configured, else through Kannel as before: a
    # citizen who wrote to the Twilio number still gets the ticket number (from our short code) rather than none
    # (Kannel's delivery reports name our receipt id, so they settle these as before; Twilio sends none here)
    "sms.twilio": ChannelSpec("sms.twilio", "sms", "sms", sender_is="phone", asks_for_details=True,
                              fallback_family="sms"),
    # email.smtp, email.imap, email.letters
    "email": ChannelSpec("email", "email", "email", sender_is="email"),
    # letters.hotfolder, letters.upload, letters.scan: a printable receipt, and SMS/email to a given contact
    "letters": ChannelSpec("letters", "letter", "letters", receipt_without_sender=True, hold_when_unsure=True,
                           contact_receipts=LETTER_CONTACTS, reply_style="chat"),
    # desk.walkin, desk.phone, desk.callcentre (entered in the console): a printable receipt handed over at the
    # desk, and SMS/email to a contact the reporter gave
    "desk": ChannelSpec("letters", "letter", "desk", receipt_without_sender=True, contact_receipts=LETTER_CONTACTS,
                        reply_style="chat"),
    "social.telegram": ChannelSpec("social.telegram", "chat", "social.telegram"),
    "social.whatsapp": ChannelSpec("social.whatsapp", "chat", "social.whatsapp", sender_is="phone"),
    "social.x": ChannelSpec("social.x", "chat", "social.x"),
}


# a mail read as a scanned letter (channels/email/scans.py), answered where it came from; held when unsure
SCANNED_MAIL = ChannelSpec("email", "email", "email", hold_when_unsure=True, sender_is="email")
# a fax-to-email service's mail: the service is not the citizen, so it is answered as a letter (printable
# receipt, SMS to the fax's number or a contact the letter gives), never by email to the service
FAX = ChannelSpec("letters", "letter", "letters", receipt_without_sender=True, hold_when_unsure=True,
                  contact_receipts=LETTER_CONTACTS, reply_style="chat")
FAMILIES.update({f"email.{via}.{kind}": spec for via in ("smtp", "imap") for kind, spec in
                 (("scan", SCANNED_MAIL), ("fax", FAX))})  # fmt: skip


def spec_for(channel: str) -> ChannelSpec:
    """The declaration of a channel name (``sms.kannel.dlr`` → ``sms``); one not declared is answered by
    the sender of its first part, in chat words."""
    name = channel
    while name:
        spec = FAMILIES.get(name)
        if spec is not None:
            return spec
        name = name.rpartition(".")[0]
    head = channel.partition(".")[0]
    return ChannelSpec(head, "chat", head)


def in_family(channel: str, family: str) -> bool:
    """Whether ``channel`` is ``family`` or one of its members (``sms.kannel.dlr`` is in ``sms.kannel`` and
    ``sms``, not in ``sm``): how an operator's filter by channel reads a name."""
    return channel == family or channel.startswith(family + ".")
