"""Where the gateway's data is, for every command, and the lock that lets one ``run`` own it.

Only ``run`` and ``central`` may make a data dir (and ``run``'s first start its secrets); every other
command needs one a gateway made, and refuses in one line when there is none, creating nothing.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from gateway.settings import SettingsError, configured_data_dir

# what a gateway leaves in its data dir: the two journal files (made by the first ``run``)
DATA_FILES = ("gateway.db", "gateway-state.db")
LOCK_FILE = "gateway.lock"

_held: list[int] = []  # the lock's descriptor, open for the life of the process


def point_at(data_dir: str | None, config: str | None) -> str | None:
    """Apply ``--data-dir`` (as ``LAPOR_DATA__DIR``, which the children of ``run`` inherit); the config's path
    made absolute (the children start in the repository's folder)."""
    if data_dir:
        os.environ["LAPOR_DATA__DIR"] = str(Path(data_dir).resolve())
    return str(Path(config).resolve()) if config else None


def require_data(config: str | None) -> Path:
    """The data dir of a gateway that has run, or :class:`SettingsError` saying where it looked and how to point."""
    where, source = configured_data_dir(config)
    if not any((where / name).is_file() for name in DATA_FILES):
        raise SettingsError(
            f"no gateway data in {where} ({source}); start the gateway there with `lapor-gateway run`, or point "
            "to its data with --data-dir DIR or LAPOR_DATA__DIR=DIR"
        )
    return where


def lock_data(config: str | None) -> Path:
    """Make the data dir if needed and hold an exclusive lock on it for the life of the process.

    A second ``run`` on the same data raises :class:`SettingsError` at once, before it opens or writes anything
    else there (the lock file only, which the first one made).
    """
    where, _ = configured_data_dir(config)
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(where / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise SettingsError(f"cannot use data dir {where}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        pid = f" (pid {holder})" if holder.isdigit() else ""
        raise SettingsError(
            f"another gateway{pid} is running on {where}; stop it first, or give this one its own --data-dir"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held.append(fd)
    return where
