"""Where keys live: the relay's key file and environment, the console's keyring entry."""

from __future__ import annotations

import base64
import logging
import os
import stat
from pathlib import Path

import pytest
from keyring.backends import null

from kenar_core.cipher import AesGcmSealer
from kenar_core.errors import CredentialError, SealingError
from kenar_core.keyfile import (
    ENV_INDEX_KEY,
    ENV_KEY,
    ENV_PREVIOUS_KEYS,
    KEY_FILE_NAME,
    KeyFile,
    KeyRing,
    key_id_of,
    relay_keyring,
)
from kenar_tui.credentials import SERVICE, system_backend
from kenar_tui.keyring_memory import memory_backend
from kenar_tui.privacy.keys import KEYRING_ENTRY, console_keyring, rotate_console_keyring

LOG = logging.getLogger("tests.privacy.keys")


def b64key(seed: int) -> str:
    return base64.b64encode(bytes([seed]) * 32).decode()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_file_is_created_0600_on_first_start_and_reused(tmp_path: Path) -> None:
    """The relay makes its key file owner-only on first start and reads the same keys after."""
    data_dir = tmp_path / "relay-data"
    first = relay_keyring(data_dir, {}, logger=LOG)
    path = data_dir / KEY_FILE_NAME
    assert mode_of(path) == 0o600
    assert mode_of(data_dir) & 0o077 == 0
    second = relay_keyring(data_dir, {}, logger=LOG)
    assert second.current_id == first.current_id
    assert second.keys == first.keys
    assert second.index_key == first.index_key
    assert list(data_dir.iterdir()) == [path]  # no temporary file left behind


def test_key_file_created_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    """A umask of 000 does not make the new key file readable by others."""
    previous = os.umask(0)
    try:
        KeyFile(tmp_path / KEY_FILE_NAME).load_or_create()
    finally:
        os.umask(previous)
    assert mode_of(tmp_path / KEY_FILE_NAME) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    """A key file group or others can read is not used, and the error says how to fix it."""
    key_file = KeyFile(tmp_path / KEY_FILE_NAME)
    key_file.load_or_create()
    key_file.path.chmod(mode)
    with pytest.raises(SealingError) as caught:
        relay_keyring(tmp_path, {}, logger=LOG)
    assert f"{mode:04o}" in str(caught.value)
    assert f"chmod 600 {key_file.path}" in str(caught.value)


def test_damaged_key_file_is_a_clear_error(tmp_path: Path) -> None:
    """A key file that is not JSON, or whose ids do not match its keys, is reported as damaged."""
    path = tmp_path / KEY_FILE_NAME
    path.write_text("{not json")
    path.chmod(0o600)
    with pytest.raises(SealingError, match="is damaged"):
        KeyFile(path).load()
    ring = KeyRing.generate()
    swapped = ring.to_json().replace(ring.current_id, "00000000")
    path.write_text(swapped)
    with pytest.raises(SealingError, match="does not match its id"):
        KeyFile(path).load()


def test_missing_key_file_on_load_says_what_is_lost(tmp_path: Path) -> None:
    """Loading a key file that is gone explains that stored entries cannot be read without it."""
    with pytest.raises(SealingError, match="restore it from a backup"):
        KeyFile(tmp_path / KEY_FILE_NAME).load()


def test_rotating_the_key_file_keeps_old_keys(tmp_path: Path) -> None:
    """`rotate` writes a new current key to the file and keeps the old ones and the index key."""
    key_file = KeyFile(tmp_path / KEY_FILE_NAME, logger=LOG)
    ring = key_file.load_or_create()
    blob = AesGcmSealer(ring).seal("پیام".encode())
    rotated = key_file.rotate()
    reloaded = relay_keyring(tmp_path, {}, logger=LOG)
    assert reloaded.current_id == rotated.current_id != ring.current_id
    assert set(reloaded.keys) == {ring.current_id, rotated.current_id}
    assert reloaded.index_key == ring.index_key
    assert AesGcmSealer(reloaded).open(blob).decode() == "پیام"
    assert mode_of(key_file.path) == 0o600


def test_env_key_is_used_without_writing_a_key_file(tmp_path: Path) -> None:
    """KENAR_RELAY_ENCRYPTION_KEY (base64) becomes the current key; no file is created."""
    env = {ENV_KEY: b64key(1), ENV_INDEX_KEY: b64key(9)}
    ring = relay_keyring(tmp_path, env, logger=LOG)
    assert ring.current_key == bytes([1]) * 32
    assert ring.current_id == key_id_of(bytes([1]) * 32)
    assert ring.index_key == bytes([9]) * 32
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_env_rotation_keeps_previous_keys_and_the_dedupe_hash(tmp_path: Path) -> None:
    """Moving the env key to the previous list keeps old blobs readable and hashes the same."""
    before = relay_keyring(tmp_path, {ENV_KEY: b64key(1), ENV_INDEX_KEY: b64key(9)}, logger=LOG)
    blob = AesGcmSealer(before).seal(b"old")
    after = relay_keyring(
        tmp_path,
        {ENV_KEY: b64key(2), ENV_PREVIOUS_KEYS: b64key(1), ENV_INDEX_KEY: b64key(9)},
        logger=LOG,
    )
    assert after.current_id != before.current_id
    assert AesGcmSealer(after).open(blob) == b"old"
    assert AesGcmSealer(after).keyed_hash("m1") == AesGcmSealer(before).keyed_hash("m1")


def test_env_key_without_index_key_warns_that_dedupe_follows_the_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With only an env key the index key is derived from it, and a warning says so."""
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        ring = relay_keyring(tmp_path, {ENV_KEY: b64key(3)}, logger=LOG)
    assert ring.index_key != ring.current_key
    assert ENV_INDEX_KEY in caplog.text
    assert b64key(3) not in caplog.text


def test_env_key_with_an_existing_key_file_still_opens_old_entries(tmp_path: Path) -> None:
    """Switching from the key file to an env key loses nothing: file keys and index key stay."""
    from_file = KeyFile(tmp_path / KEY_FILE_NAME).load_or_create()
    blob = AesGcmSealer(from_file).seal(b"kept")
    ring = relay_keyring(tmp_path, {ENV_KEY: b64key(4)}, logger=LOG)
    assert ring.current_id == key_id_of(bytes([4]) * 32)
    assert AesGcmSealer(ring).open(blob) == b"kept"
    assert ring.index_key == from_file.index_key


@pytest.mark.parametrize(
    ("value", "expected"),
    [("not base64 at all!", "not valid base64"), (base64.b64encode(b"short").decode(), "5 bytes")],
)
def test_bad_env_key_is_a_clear_error(tmp_path: Path, value: str, expected: str) -> None:
    """An env key that is not 32 bytes of base64 is refused with how to make a good one."""
    with pytest.raises(SealingError) as caught:
        relay_keyring(tmp_path, {ENV_KEY: value}, logger=LOG)
    assert expected in str(caught.value)
    assert ENV_KEY in str(caught.value)
    assert "os.urandom(32)" in str(caught.value)


def test_keyring_repr_and_errors_never_show_key_material() -> None:
    """Printing a ring shows its ids; its key bytes appear nowhere in the text."""
    ring = KeyRing.generate().rotate()
    text = repr(ring) + str(ring)
    for key in (*ring.keys.values(), ring.index_key):
        assert key.hex() not in text
        assert base64.b64encode(key).decode() not in text


def test_console_key_is_generated_once_in_the_keyring_and_reused() -> None:
    """The console's cache key is made on first use, stored under kenar-tui, and reused after."""
    backend = system_backend()  # the in-memory backend tests/fixtures/paths.py selects
    try:
        first = console_keyring(backend, logger=LOG)
        stored = backend.get_password(SERVICE, KEYRING_ENTRY)
        assert stored is not None and first.current_id in stored
        second = console_keyring(backend, logger=LOG)
        assert second.current_id == first.current_id
        assert second.keys == first.keys
        assert second.index_key == first.index_key
    finally:
        backend.delete_password(SERVICE, KEYRING_ENTRY)


def test_console_rotation_keeps_old_cache_entries_readable() -> None:
    """Rotating the console's keys stores the new ring; old entries still open."""
    backend = memory_backend()
    ring = console_keyring(backend, logger=LOG)
    blob = AesGcmSealer(ring).seal("پیام".encode())
    rotated = rotate_console_keyring(backend, logger=LOG)
    again = console_keyring(backend, logger=LOG)
    assert again.current_id == rotated.current_id != ring.current_id
    assert AesGcmSealer(again).open(blob).decode() == "پیام"


def test_damaged_console_entry_is_a_clear_error() -> None:
    """A keyring entry that is not a key store is reported, naming the entry."""
    backend = memory_backend()
    backend.set_password(SERVICE, KEYRING_ENTRY, "garbage")
    with pytest.raises(SealingError, match=KEYRING_ENTRY):
        console_keyring(backend, logger=LOG)


def test_console_without_a_usable_keyring_says_how_to_get_one() -> None:
    """With the null keyring backend the console refuses instead of writing keys in plain text."""
    with pytest.raises(CredentialError, match="keyring"):
        console_keyring(null.Keyring(), logger=LOG)
