"""Scanning stations upload to ``POST /channels/letters``; the OCR happens after the acknowledgement.

The upload is authenticated (``Authorization: Bearer <letters.upload_token>``),
size-checked, stored content-addressed and journaled as a raw message whose
``external_id`` is the file's sha256 (so an upload repeated by a flaky station
is one complaint). :meth:`LettersCompleter.complete` reads it later in the
worker, in an isolated process (:mod:`channels.letters.isolated`). A bad
file (corrupt, a format we do not take, over a page or pixel limit) becomes a
failed message with its reason; a file whose read went over the isolated
job's time, CPU or memory limit becomes a complaint for review with no text,
the original attached, and the limit as its reason: a person can still read it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from urllib.parse import parse_qs

from channels.base import BlobSink, RawRequest
from channels.isolate import IsolationFailed
from channels.letters.isolated import IsolatedLettersReader
from channels.message import Attachment, InboundMessage, Intake, Rejected


class LettersUploadChannel:
    name = "letters.upload"
    path = "/channels/letters"
    methods = ("POST",)

    def __init__(self, token: str, blobs: BlobSink, max_file_bytes: int) -> None:
        self.token = token
        self.blobs = blobs
        self.max_file_bytes = max_file_bytes
        self.max_body_bytes = max_file_bytes  # the web layer's limit for this route: a scan, not a text

    def parse(self, raw: RawRequest) -> Intake:
        scheme, _, given = raw.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            raise Rejected(403, "bad or missing upload token")
        if not raw.body:
            raise Rejected(400, "empty upload")
        if len(raw.body) > self.max_file_bytes:
            raise Rejected(413, f"file larger than {self.max_file_bytes} bytes")
        query = parse_qs(raw.query.decode("latin-1"))
        filename = (query.get("filename") or [None])[0] or raw.headers.get("X-Filename")
        station = (query.get("station") or ["counter"])[0][:40]
        media_type = raw.headers.get("Content-Type", "application/octet-stream").split(";")[0].strip()
        stored = self.blobs.put(raw.body, media_type, filename)
        msg = InboundMessage(
            channel=self.name,
            account=station,
            external_id=hashlib.sha256(raw.body).hexdigest(),
            metadata={"raw_sha256": stored.sha256, "filename": stored.filename, "media_type": media_type},
        )
        return Intake(messages=[msg], status=202, body='{"status": "accepted"}', content_type="application/json")


class LettersCompleter:
    """Worker side of an upload: OCR the stored file into the full message."""

    name = "letters.upload"

    def __init__(self, channel: IsolatedLettersReader, blobs: BlobSink) -> None:
        self.channel = channel
        self.blobs = blobs

    async def complete(self, msg: InboundMessage) -> InboundMessage:
        if msg.metadata.get("read"):
            return msg
        data = self.blobs.get(msg.metadata["raw_sha256"])
        try:
            read = await asyncio.to_thread(self.channel.read_file, data, msg.metadata.get("filename"), msg.received_at)
        except IsolationFailed as exc:
            return self.for_review(msg, len(data), exc.reason)
        return read.model_copy(update={
            "channel": msg.channel, "account": msg.account, "external_id": msg.external_id,
            "metadata": {**read.metadata, "read": True},
        })

    @staticmethod
    def for_review(msg: InboundMessage, size: int, reason: str) -> InboundMessage:
        """The upload as a complaint with no text: the original for a person to read, the limit as the reason."""
        original = Attachment(sha256=msg.metadata["raw_sha256"], media_type=msg.metadata.get("media_type")
                              or "application/octet-stream", size=size, filename=msg.metadata.get("filename"))  # fmt: skip
        return msg.model_copy(update={
            "attachments": [original],
            "review_reasons": [f"scan not read: {reason}"],
            "reply_context": {"printable": True, "kind": "letter", "filename": msg.metadata.get("filename"),
                              "notify": []},
            "metadata": {**msg.metadata, "read": True, "read_failed": reason},
        })
