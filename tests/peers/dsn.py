"""Delivery status notifications (RFC 3464) as a receiving mail server writes them, for bounce tests."""

from __future__ import annotations

__all__ = ["dsn_for"]


def dsn_for(sent: bytes, to: str, recipient: str, *, returned: str = "headers") -> bytes:
    """Postfix's bounce of the mail ``sent`` (raw bytes) to ``recipient``, addressed to ``to``.

    ``returned`` is ``headers`` (``text/rfc822-headers``, Postfix's default) or ``whole`` (``message/rfc822``).
    """
    head = sent.split(b"\r\n\r\n", 1)[0] if returned == "headers" else sent
    kind = b"text/rfc822-headers" if returned == "headers" else b"message/rfc822"
    rcpt = recipient.encode()
    return b"\r\n".join([
        b"From: MAILER-DAEMON@mx.contoh.id (Mail Delivery System)",
        b"To: " + to.encode(),
        b"Subject: Undelivered Mail Returned to Sender",
        b"Message-ID: <bounce-1@mx.contoh.id>",
        b"Auto-Submitted: auto-replied",
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B0UND"',
        b"",
        b"--B0UND",
        b"Content-Type: text/plain; charset=us-ascii",
        b"",
        b"I'm sorry to have to inform you that your message could not be delivered.",
        b"<" + rcpt + b">: mailbox unavailable",
        b"",
        b"--B0UND",
        b"Content-Type: message/delivery-status",
        b"",
        b"Reporting-MTA: dns; mx.contoh.id",
        b"",
        b"Final-Recipient: rfc822; " + rcpt,
        b"Action: failed",
        b"Status: 5.1.1",
        b"Diagnostic-Code: smtp; 550 5.1.1 no such user",
        b"",
        b"--B0UND",
        b"Content-Type: " + kind,
        b"",
        head,
        b"",
        b"--B0UND--",
        b"",
    ])  # fmt: skip
