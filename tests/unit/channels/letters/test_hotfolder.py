"""The hot folder: stable files become complaints once, refusals go to failed/ with a reason, nothing is deleted."""

from __future__ import annotations

import pytest

from channels.letters.hotfolder import HotFolderPoller
from gateway.bench.synth import ScanLook, letter_page
from tests.unit.channels.letters.render import png_bomb, png_bytes, text_pdf

LETTER = text_pdf(letter_page(look=ScanLook(dust=0)).truth.splitlines())  # text layer: fast, no OCR needed


async def look_twice(poller, accept) -> int:
    """A file is read only once it has been seen unchanged on two looks."""
    first = await poller.scan_once(accept)
    return first + await poller.scan_once(accept)


async def test_batch_with_bad_files(tmp_path, channel, journal):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "surat1.pdf").write_bytes(LETTER)
    (inbox / "scan2.png").write_bytes(png_bytes(letter_page(look=ScanLook(rotate=-1.0, seed=3)).image))
    (inbox / "bom.png").write_bytes(png_bomb())
    (inbox / "rusak.pdf").write_bytes(LETTER[:200])
    (inbox / "kunci.pdf").write_bytes(text_pdf(["x"] * 5, "pw"))
    (inbox / "setengah.pdf.part").write_bytes(b"%PDF-1.4 still copying")
    poller = HotFolderPoller(inbox, channel)
    assert await look_twice(poller, journal.accept) == 5
    assert len(journal.messages) == 2
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["scan2.png", "surat1.pdf"]
    failed = {p.name: p for p in (inbox / "failed").iterdir()}
    assert set(failed) == {
        "bom.png",
        "bom.png.reason.txt",
        "rusak.pdf",
        "rusak.pdf.reason.txt",
        "kunci.pdf",
        "kunci.pdf.reason.txt",
    }
    assert failed["bom.png.reason.txt"].read_text().startswith("413 image is a decompression bomb")
    assert "password-protected" in failed["kunci.pdf.reason.txt"].read_text()
    assert "corrupt" in failed["rusak.pdf.reason.txt"].read_text()
    assert (inbox / "setengah.pdf.part").exists()  # still being written: left alone


async def test_file_still_growing_is_not_read(tmp_path, channel, journal):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    poller = HotFolderPoller(inbox, channel)
    f = inbox / "surat.pdf"
    f.write_bytes(LETTER[:100])
    assert await poller.scan_once(journal.accept) == 0
    f.write_bytes(LETTER)  # the scanner wrote more since the first look
    assert await poller.scan_once(journal.accept) == 0
    assert await poller.scan_once(journal.accept) == 1
    assert journal.calls == 1


async def test_restart_between_accept_and_move(tmp_path, channel, journal, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "surat.pdf").write_bytes(LETTER)
    first = HotFolderPoller(inbox, channel)
    import channels.letters.hotfolder as hf

    def crash(*args):
        raise SystemExit("killed before the move")

    monkeypatch.setattr(hf.os, "replace", crash)
    with pytest.raises(SystemExit):
        await look_twice(first, journal.accept)
    monkeypatch.undo()
    assert len(journal.messages) == 1 and (inbox / "surat.pdf").exists()

    second = HotFolderPoller(inbox, channel)  # the gateway came back
    assert await look_twice(second, journal.accept) == 1
    assert len(journal.messages) == 1  # same sha256: a duplicate, not a second complaint
    assert journal.calls == 2
    assert (inbox / "processed" / "surat.pdf").exists() and not (inbox / "surat.pdf").exists()


async def test_dropped_again_after_processing_keeps_both_files(tmp_path, channel, journal):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    poller = HotFolderPoller(inbox, channel)
    (inbox / "surat.pdf").write_bytes(LETTER)
    await look_twice(poller, journal.accept)
    (inbox / "surat.pdf").write_bytes(LETTER)  # staff scanned the same letter twice
    await look_twice(poller, journal.accept)
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["surat.1.pdf", "surat.pdf"]
    assert len(journal.messages) == 1


async def test_accept_failure_keeps_the_file(tmp_path, channel):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "surat.pdf").write_bytes(LETTER)

    async def journal_down(msg):
        raise OSError("disk full")

    poller = HotFolderPoller(inbox, channel)
    assert await look_twice(poller, journal_down) == 0
    assert (inbox / "surat.pdf").exists()


async def test_run_loop_processes_files_dropped_while_running(tmp_path, channel, journal):
    import asyncio

    inbox = tmp_path / "inbox"
    poller = HotFolderPoller(inbox, channel, poll_seconds=0.05)
    task = asyncio.create_task(poller.run(journal.accept))
    try:
        for _ in range(100):
            if inbox.exists():
                break
            await asyncio.sleep(0.01)
        (inbox / "surat.pdf").write_bytes(LETTER)
        for _ in range(400):
            if (inbox / "processed" / "surat.pdf").exists():
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert (inbox / "processed" / "surat.pdf").exists()
    assert len(journal.messages) == 1
