"""The hot folder never reads outside its inbox: links, swaps and odd files go to failed/, untouched.

The scanner's share is writable by whoever can reach it; what it names must
not make the gateway read (and forward) a file elsewhere on the machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from channels.letters.hotfolder import HotFolderPoller
from channels.message import Attachment, InboundMessage

SECRET = b"%PDF-1.4 rahasia di luar inbox: NIK 3273012304850002\n"


class RecordingReader:
    """Stands in for the OCR reader: records what it was given to read."""

    max_file_bytes = 1024 * 1024

    def __init__(self) -> None:
        self.read: list[bytes] = []

    def read_file(self, source, filename=None, received_at=None) -> InboundMessage:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        self.read.append(data)
        return InboundMessage(channel="letters.scan", account="counter", external_id=str(len(self.read)),
                              text="isi surat", attachments=[Attachment(sha256="0" * 64, media_type="application/pdf",
                                                                       size=len(data))])


class Journal:
    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []

    async def accept(self, msg):
        from channels.base import AcceptResult

        self.messages.append(msg)
        return AcceptResult(message_id=msg.external_id, duplicate=False)


@pytest.fixture
def setup(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    outside = tmp_path / "elsewhere" / "secret.pdf"
    outside.parent.mkdir()
    outside.write_bytes(SECRET)
    reader = RecordingReader()
    return inbox, outside, reader, HotFolderPoller(inbox, reader), Journal()


async def look_twice(poller, accept) -> int:
    return await poller.scan_once(accept) + await poller.scan_once(accept)


def reason_of(inbox: Path, name: str) -> str:
    return (inbox / "failed" / f"{name}.reason.txt").read_text()


async def test_plain_symlink_goes_to_failed_and_its_target_stays(setup):
    inbox, outside, reader, poller, journal = setup
    (inbox / "surat.pdf").symlink_to(outside)
    assert await look_twice(poller, journal.accept) == 1
    assert reader.read == [] and journal.messages == []
    moved = inbox / "failed" / "surat.pdf"
    assert moved.is_symlink() and os.readlink(moved) == str(outside)  # the link itself was moved
    assert outside.read_bytes() == SECRET  # the target is untouched
    assert "link" in reason_of(inbox, "surat.pdf")
    assert "rahasia" not in reason_of(inbox, "surat.pdf")


async def test_link_swapped_in_after_the_listing_is_not_followed(setup, monkeypatch):
    inbox, outside, reader, poller, journal = setup
    victim = inbox / "scan.pdf"
    victim.write_bytes(b"%PDF-1.4 surat asli\n")
    listed = poller.stable

    def stable_then_swap(files):
        ready = listed(files)
        for p in ready:  # the attacker wins the race: a link replaces the file after it was listed
            tmp = p.with_name(".swap")
            tmp.symlink_to(outside)
            os.replace(tmp, p)
        return ready

    await poller.scan_once(journal.accept)
    monkeypatch.setattr(poller, "stable", stable_then_swap)
    assert await poller.scan_once(journal.accept) == 1
    assert reader.read == [] and journal.messages == []
    assert (inbox / "failed" / "scan.pdf").is_symlink()
    assert outside.read_bytes() == SECRET
    assert "link" in reason_of(inbox, "scan.pdf")


async def test_other_file_swapped_in_after_the_listing_is_not_read(setup, monkeypatch):
    inbox, _outside, reader, poller, journal = setup
    (inbox / "scan.pdf").write_bytes(b"%PDF-1.4 surat asli\n")
    listed = poller.stable

    def stable_then_swap(files):
        ready = listed(files)
        for p in ready:
            tmp = p.with_name(".swap")
            tmp.write_bytes(b"%PDF-1.4 something else\n")
            os.replace(tmp, p)
        return ready

    await poller.scan_once(journal.accept)
    monkeypatch.setattr(poller, "stable", stable_then_swap)
    assert await poller.scan_once(journal.accept) == 1
    assert reader.read == []
    assert "changed" in reason_of(inbox, "scan.pdf")


async def test_hard_link_to_a_file_elsewhere_is_not_read(setup):
    inbox, outside, reader, poller, journal = setup
    os.link(outside, inbox / "surat.pdf")
    assert await look_twice(poller, journal.accept) == 1
    assert reader.read == []
    assert "link" in reason_of(inbox, "surat.pdf")
    assert outside.read_bytes() == SECRET


async def test_fifo_and_directory_link_do_not_block_or_escape(setup):
    inbox, outside, reader, poller, journal = setup
    os.mkfifo(inbox / "antrian.pdf")  # opening a FIFO for reading would block the poller forever
    (inbox / "folder.pdf").symlink_to(outside.parent, target_is_directory=True)
    assert await look_twice(poller, journal.accept) == 2
    assert reader.read == []
    assert "not a regular file" in reason_of(inbox, "antrian.pdf")
    assert "link" in reason_of(inbox, "folder.pdf")
    assert outside.read_bytes() == SECRET


async def test_reason_file_is_never_written_through_a_planted_link(setup):
    inbox, outside, _reader, poller, journal = setup
    (inbox / "failed").mkdir()
    planted = outside.parent / "overwritten.txt"
    (inbox / "failed" / "bad.pdf.reason.txt").symlink_to(planted)  # dangling: exists() says False
    (inbox / "bad.pdf").symlink_to(outside)
    assert await look_twice(poller, journal.accept) == 1
    assert not planted.exists()
    assert outside.read_bytes() == SECRET


async def test_a_regular_file_is_still_read(setup):
    inbox, _outside, reader, poller, journal = setup
    (inbox / "surat.pdf").write_bytes(b"%PDF-1.4 surat asli\n")
    assert await look_twice(poller, journal.accept) == 1
    assert reader.read == [b"%PDF-1.4 surat asli\n"]
    assert (inbox / "processed" / "surat.pdf").exists()


async def test_oversized_file_is_refused_before_it_is_read(setup):
    inbox, _outside, reader, poller, journal = setup
    (inbox / "besar.pdf").write_bytes(b"%PDF-1.4" + b"\0" * (2 * 1024 * 1024))
    assert await look_twice(poller, journal.accept) == 1
    assert reader.read == []
    assert reason_of(inbox, "besar.pdf").startswith("413 ")
