"""The scanner's hot folder (``letters.inbox``): files in, complaints out, nothing deleted.

Each look lists the entries at the top of the inbox (not directories, not
hidden or partial names). A file is read only once it is *stable* (same inode,
size and mtime on two consecutive looks: the scanner has finished writing it).
It is read through :func:`~channels.letters.safeopen.read_listed`, never by
following a link: a symbolic link, a FIFO, a file with other hard links or a
file swapped in after the listing goes to ``failed/`` (the entry itself, its
target untouched) with its reason. The bytes are OCR'd off the event loop, handed to
``accept``, and only when ``accept`` returned (the message is durable) is it
moved to ``processed/``. A refused file goes to ``failed/`` with
``<name>.reason.txt`` beside it. A crash between accept and the move leaves
the file in the inbox; the next look (or the next process) reads it again,
``accept`` answers ``duplicate=True`` on its sha256, and it is simply moved.

Logs name files by a short hash only: a file name can carry a citizen's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from pathlib import Path
from typing import Protocol

from channels.base import Accept, OnFailed
from channels.letters.errors import OcrUnavailable
from channels.letters.safeopen import read_listed
from channels.message import InboundMessage, Rejected

log = logging.getLogger("channels.letters.hotfolder")


class LetterReader(Protocol):
    """What the hot folder needs of :class:`channels.letters.scan.LettersChannel`."""

    @property
    def max_file_bytes(self) -> int: ...  # a file over it is refused before it is read

    def read_file(self, source: str | Path | bytes, filename: str | None = None) -> InboundMessage: ...


SKIP_SUFFIXES = (".part", ".tmp", ".crdownload", ".reason.txt")


def _tag(path: Path) -> str:
    return hashlib.sha256(path.name.encode()).hexdigest()[:8]


def unique_target(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name.1``, ``name.2``… when taken: never overwrite."""
    target = folder / name
    n = 1
    while os.path.lexists(target) or os.path.lexists(target.with_name(target.name + ".reason.txt")):
        stem, dot, ext = name.rpartition(".")
        target = folder / (f"{stem}.{n}.{ext}" if dot else f"{name}.{n}")
        n += 1
    return target


class HotFolderPoller:
    name = "letters.hotfolder"

    def __init__(self, inbox: Path, channel: LetterReader, poll_seconds: float = 2.0) -> None:
        self.inbox = Path(inbox)
        self.channel = channel
        self.poll_seconds = poll_seconds
        self.processed = self.inbox / "processed"
        self.failed = self.inbox / "failed"
        self._last: dict[str, tuple[int, ...]] = {}
        self._listed: dict[str, os.stat_result] = {}  # what the last look saw (``lstat``), checked at the read
        self._warned_ocr = False
        # set by the process that runs the poller: a refused file becomes an intake-log event
        # ``(ref, reason)``; ref is the file's tag (a hash of its name: names can carry identity)
        self.on_failed: OnFailed | None = None

    async def run(self, accept: Accept) -> None:
        for d in (self.inbox, self.processed, self.failed):
            d.mkdir(parents=True, exist_ok=True)
        while True:
            await self.scan_once(accept)
            await asyncio.sleep(self.poll_seconds)

    def candidates(self) -> list[Path]:
        files = []
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(self.inbox):
                if (
                    not entry.is_dir(follow_symlinks=False)  # links and odd files too: they go to failed/
                    and not entry.name.startswith(".")
                    and not entry.name.endswith(SKIP_SUFFIXES)
                ):
                    files.append(Path(entry.path))
        return sorted(files)

    def stable(self, files: list[Path]) -> list[Path]:
        """Entries whose inode, size and mtime did not change since the previous look (``lstat``: no link followed)."""
        seen, listed, ready = {}, {}, []
        for p in files:
            try:
                st = p.lstat()
            except FileNotFoundError:
                continue
            sig = (st.st_dev, st.st_ino, st.st_mode, st.st_size, st.st_mtime_ns)
            seen[p.name], listed[p.name] = sig, st
            if self._last.get(p.name) == sig:
                ready.append(p)
        self._last, self._listed = seen, listed
        return ready

    async def scan_once(self, accept: Accept) -> int:
        """One look at the inbox; returns how many files left it."""
        for d in (self.processed, self.failed):
            d.mkdir(parents=True, exist_ok=True)
        done = 0
        for path in self.stable(self.candidates()):
            if await self.handle(path, accept):
                done += 1
        return done

    async def handle(self, path: Path, accept: Accept) -> bool:
        tag = _tag(path)
        try:
            listed = self._listed.get(path.name) or path.lstat()
            data = await asyncio.to_thread(read_listed, path, listed, self.channel.max_file_bytes)
            msg = await asyncio.to_thread(self.channel.read_file, data, path.name)
        except Rejected as exc:
            self.move_failed(path, f"{exc.status} {exc.reason}")
            log.warning("letter %s refused: %s %s", tag, exc.status, exc.reason)
            await self._report(tag, f"{exc.status} {exc.reason}")
            return True
        except OcrUnavailable as exc:
            if not self._warned_ocr:
                log.error("hot folder paused: %s", exc)
                self._warned_ocr = True
            return False  # kept in the inbox until tesseract is back
        except FileNotFoundError:
            return False  # taken away meanwhile
        except Exception as exc:  # a bug must not make the folder loop on one file forever
            self.move_failed(path, f"500 could not be processed ({type(exc).__name__})")
            log.exception("letter %s failed", tag)
            await self._report(tag, f"500 could not be processed ({type(exc).__name__})")
            return True
        try:
            result = await accept(msg)
        except Exception:
            log.exception("letter %s: accept failed; kept in the inbox for the next look", tag)
            return False
        target = unique_target(self.processed, path.name)
        os.replace(path, target)
        log.info("letter %s accepted%s", tag, " (duplicate)" if result.duplicate else "")
        return True

    async def _report(self, tag: str, reason: str) -> None:
        if self.on_failed is not None:
            try:
                await self.on_failed(f"failed/ {tag}", reason)
            except Exception:  # the file is already in failed/ with its reason; the event is a courtesy
                log.exception("letter %s: could not record the failure in the intake log", tag)

    def move_failed(self, path: Path, reason: str) -> None:
        target = unique_target(self.failed, path.name)
        reason_file = target.with_name(target.name + ".reason.txt")
        # O_EXCL|O_NOFOLLOW: a name planted in failed/ (a link) is never written through
        fd = os.open(reason_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(reason + "\n")
        os.replace(path, target)
