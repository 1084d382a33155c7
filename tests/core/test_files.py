"""The one atomic write (kenar_core/files.py): all or nothing, 0600, no temporary file left."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kenar_core.files import private_dir, write_atomically


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder of its own (folder also holds the tests' home)."""
    made = tmp_path / "folder"
    made.mkdir()
    return made


def test_writes_text_0600_whatever_the_umask(folder: Path) -> None:
    old = os.umask(0)
    try:
        path = folder / "config.toml"
        write_atomically(path, 'relay_url = "wss://relay.example"  # سلام\n')
    finally:
        os.umask(old)
    assert path.read_text(encoding="utf-8").endswith("# سلام\n")
    assert _mode(path) == 0o600
    assert os.listdir(folder) == ["config.toml"]


def test_replaces_an_existing_looser_file_and_takes_bytes(folder: Path) -> None:
    path = folder / "tokens.json"
    path.write_text("old")
    path.chmod(0o644)
    write_atomically(path, b"\x00new")
    assert path.read_bytes() == b"\x00new" and _mode(path) == 0o600


def test_a_missing_folder_is_created_private(folder: Path) -> None:
    path = folder / "a" / "b" / "keys.json"
    write_atomically(path, "{}")
    assert _mode(path.parent) == 0o700 and path.read_text() == "{}"


def test_an_error_leaves_the_old_file_and_no_temporary_file(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure between writing and renaming (here, fsync: a full disk says so there)."""
    path = folder / "acks.json"
    path.write_text("before")

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space"):
        write_atomically(path, "after")
    monkeypatch.undo()
    assert path.read_text() == "before"
    assert sorted(os.listdir(folder)) == ["acks.json"]


def test_a_folder_in_the_way_is_an_error_and_leaves_nothing(folder: Path) -> None:
    """os.replace onto a folder fails: the temporary file is removed all the same."""
    (folder / "templates.toml").mkdir()
    with pytest.raises(OSError):
        write_atomically(folder / "templates.toml", "x")
    assert os.listdir(folder) == ["templates.toml"]


def test_private_dir_leaves_a_common_folder_alone(folder: Path) -> None:
    common = folder / "common"
    common.mkdir(mode=0o755)
    common.chmod(0o755)
    private_dir(common, own=False)
    assert _mode(common) == 0o755
    private_dir(common)
    assert _mode(common) == 0o700
