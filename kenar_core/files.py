"""Folders 0700 and files 0600, whatever the umask: for everything the relay or console creates;
and the one atomic write (config, templates, keys, tokens, acknowledgements).

The cache, the relay's timeline, their WAL/SHM files (SQLite gives those the main file's
mode), logs, keys and tokens hold chat content or secrets: only their owner may read them.
A folder is made private only when we create it, or when it is a folder of our own app
(the caller says so); we never chmod a folder a user pointed us at and shares with others.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path, *, own: bool = True) -> Path:
    """Create `path` (and missing parents) 0700; an existing `own` folder is tightened to 0700."""
    existed = path.is_dir()
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if not existed or own:
        os.chmod(path, DIR_MODE)  # mkdir's mode passes through the umask
    return path


def create_private_file(path: Path) -> Path:
    """Make sure `path` exists with mode 0600 before anyone writes to it (its folder private)."""
    if not path.parent.is_dir():
        private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def private_sqlite(path: Path) -> Path:
    """A SQLite file 0600, and its WAL/SHM too when an earlier run left them looser."""
    create_private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        sibling = path.with_name(path.name + suffix)
        if sibling.exists():
            os.chmod(sibling, FILE_MODE)
    return path


def write_atomically(path: Path, data: str | bytes, *, mode: int = FILE_MODE) -> None:
    """Replace `path` with `data` so a crash leaves the old file or the new one, never half.

    The data goes to a temporary file beside `path` (same folder, so the rename cannot cross
    filesystems) with `mode` whatever the umask, is fsynced, renamed over `path` with
    os.replace, and the folder is fsynced so the rename itself survives a power cut. On any
    error (a full disk, a cancelled caller) the temporary file is removed and the old file
    stays. A missing folder is created private (0700). Text is written as UTF-8.
    """
    if not path.parent.is_dir():
        private_dir(path.parent)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a folder; the rename is atomic all the same
    finally:
        os.close(fd)
