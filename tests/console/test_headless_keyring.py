"""Headless Linux, no desktop keyring, nothing configured: secrets go to the encrypted file.

The environment is the README's "Headless servers" case: PYTHON_KEYRING_BACKEND unset, fresh
XDG folders, no D-Bus. Nothing may wait on a prompt nobody sees.
"""

from __future__ import annotations

import base64
import configparser
import os
import subprocess
import sys
import threading
from pathlib import Path
from unittest import mock

import pytest
from keyring.errors import KeyringLocked, PasswordDeleteError
from keyrings.alt.file import EncryptedKeyring
from textual.widgets import Static

from kenar_core.errors import CredentialError
from kenar_tui.credentials import CredentialStore
from kenar_tui.dialogs.passphrase import PassphraseScreen, UnlockApp
from kenar_tui.keyring_file import DamagedKeyringFile, SessionFileKeyring
from kenar_tui.keyring_legacy import holds_service


def headless_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "PYTHON_KEYRING"))}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    return env


def test_with_no_desktop_keyring_the_encrypted_file_is_chosen(tmp_path: Path) -> None:
    code = (
        "from kenar_tui.keyring_choice import system_backend;print(type(system_backend()).__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=headless_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        check=True,
    )
    assert out.stdout.strip() == "SessionFileKeyring"


def test_auth_set_with_no_terminal_says_the_keyring_is_locked(tmp_path: Path) -> None:
    """No TTY to type the passphrase on: a sentence and exit 1, never EOFError or a wait."""
    out = subprocess.run(
        [sys.executable, "-m", "kenar_tui.cli", "auth", "set", "relay-token", "--stdin"],
        env=headless_env(tmp_path),
        input="kr_secret_token\n",
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,  # no controlling terminal at all
    )
    assert out.returncode == 1
    assert "the keyring is locked" in out.stderr
    assert "Traceback" not in out.stderr and "EOFError" not in out.stderr
    assert "kr_secret_token" not in out.stdout + out.stderr


async def test_the_console_asks_the_passphrase_in_its_own_dialog_and_stores_secrets(
    tmp_path: Path, monkeypatch
) -> None:
    """First run: choose the passphrase in the dialog; the next session needs the same one."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    keyring = SessionFileKeyring(ask=None)
    app = UnlockApp(keyring)
    async with app.run_test() as pilot:
        assert isinstance(app.screen, PassphraseScreen)
        await pilot.press(*"correct horse", "enter", *"correct horse", "enter")
        await pilot.pause()
    assert app.return_value is True
    CredentialStore(keyring).relay_token = "kr_stored"
    again = SessionFileKeyring(ask=None)
    app = UnlockApp(again)
    async with app.run_test() as pilot:
        await pilot.press(*"wrong", "enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = str(app.screen.query_one("#passphrase-error").render())
        assert "not this keyring's passphrase" in shown
        await pilot.press(*"correct horse", "enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
    assert app.return_value is True
    assert CredentialStore(again).relay_token == "kr_stored"


# -- the file itself: scrypt + AES-GCM, the passphrase check, migration, damage --------------


def _settings(path: Path) -> configparser.RawConfigParser:
    config = configparser.RawConfigParser(delimiters=("=",), interpolation=None)
    config.optionxform = str  # type: ignore[assignment,method-assign]
    config.read(path, encoding="utf-8")
    return config


def _unlocked(folder: Path, passphrase: str = "correct horse") -> SessionFileKeyring:
    keyring = SessionFileKeyring(folder=folder)
    assert keyring.unlock(passphrase)
    return keyring


def test_secrets_round_trip_across_sessions_and_the_file_shows_none(tmp_path: Path) -> None:
    first = _unlocked(tmp_path)
    first.set_password("kenar-tui", "relay-token", "kr_secret_relay")
    first.set_password("kenar-tui", "token:ab12cd34", '{"access_token": "at_secret"}')
    first.set_password("kenar-tui", "api-key", "ak_secret")
    first.delete_password("kenar-tui", "api-key")

    again = _unlocked(tmp_path)  # a new session: the passphrase again
    assert again.get_password("kenar-tui", "relay-token") == "kr_secret_relay"
    assert again.get_password("kenar-tui", "token:ab12cd34") == '{"access_token": "at_secret"}'
    assert again.get_password("kenar-tui", "api-key") is None
    with pytest.raises(PasswordDeleteError):
        again.delete_password("kenar-tui", "api-key")

    path = Path(again.file_path)
    assert path.name == "kenar_tui_keyring.cfg"
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    for secret in ("kr_secret_relay", "at_secret", "ak_secret", "correct horse"):
        assert secret not in text
    settings = _settings(path)["keyring-setting"]
    assert settings["format"] == "kenar-tui-keyring" and settings["version"] == "2"
    assert settings["kdf"] == "scrypt"
    assert int(settings["scrypt-n"]) >= 2**15 and int(settings["scrypt-r"]) >= 8
    assert len(base64.b64decode(settings["salt"])) == 16
    assert "SessionFileKeyring(file=" in repr(again) and "correct horse" not in repr(again)


def test_a_wrong_passphrase_unlocks_nothing_and_changes_nothing(tmp_path: Path) -> None:
    _unlocked(tmp_path).set_password("kenar-tui", "relay-token", "kr_secret_relay")
    path = tmp_path / "kenar_tui_keyring.cfg"
    before = path.read_bytes()
    keyring = SessionFileKeyring(folder=tmp_path)
    assert keyring.unlock("wrong horse") is False
    assert not keyring.unlocked
    with pytest.raises(KeyringLocked):
        keyring.get_password("kenar-tui", "relay-token")
    assert path.read_bytes() == before


def test_a_wrong_passphrase_typed_for_a_command_is_a_sentence(tmp_path: Path) -> None:
    """`kenar-tui auth …` on a terminal: a mistyped passphrase reads nothing, says so."""
    _unlocked(tmp_path).set_password("kenar-tui", "relay-token", "kr_secret_relay")
    keyring = SessionFileKeyring(ask=lambda new: "wrong horse", folder=tmp_path)
    with pytest.raises(CredentialError) as caught:
        CredentialStore(keyring)
    assert "not the passphrase of kenar-tui's keyring" in str(caught.value)
    assert "kr_secret_relay" not in str(caught.value)


def _item(path: Path, section: str, option: str) -> bytes:
    return base64.b64decode(_settings(path)[section][option])


def _replace_item(path: Path, section: str, option: str, raw: bytes) -> None:
    config = _settings(path)
    config[section][option] = base64.b64encode(raw).decode()
    with path.open("w", encoding="utf-8") as handle:
        config.write(handle)


def test_a_flipped_byte_in_an_item_is_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    keyring = _unlocked(tmp_path)
    keyring.set_password("kenar-tui", "relay-token", "kr_secret_relay")
    path = Path(keyring.file_path)
    raw = bytearray(_item(path, "kenar_2Dtui", "relay_2Dtoken"))
    raw[20] ^= 0x01
    _replace_item(path, "kenar_2Dtui", "relay_2Dtoken", bytes(raw))

    again = _unlocked(tmp_path)  # the passphrase check still opens: only the item is damaged
    with pytest.raises(DamagedKeyringFile, match="is damaged: the entry kenar-tui / relay-token"):
        again.get_password("kenar-tui", "relay-token")
    with pytest.raises(CredentialError) as caught:  # what the console and the CLI print
        CredentialStore(again).relay_token  # noqa: B018
    assert "is damaged" in str(caught.value) and "kr_secret" not in str(caught.value)


def test_an_item_moved_to_another_name_does_not_open(tmp_path: Path) -> None:
    """The service and username are sealed with the item: a swap is caught, not obeyed."""
    keyring = _unlocked(tmp_path)
    keyring.set_password("kenar-tui", "relay-token", "kr_secret_relay")
    keyring.set_password("kenar-tui", "api-key", "ak_secret")
    path = Path(keyring.file_path)
    _replace_item(path, "kenar_2Dtui", "api_2Dkey", _item(path, "kenar_2Dtui", "relay_2Dtoken"))
    with pytest.raises(DamagedKeyringFile):
        _unlocked(tmp_path).get_password("kenar-tui", "api-key")


def _drop_setting(path: Path, name: str) -> None:
    config = _settings(path)
    config.remove_option("keyring-setting", name)
    with path.open("w", encoding="utf-8") as handle:
        config.write(handle)


async def test_a_damaged_header_is_told_in_the_dialog(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    keyring = SessionFileKeyring(ask=None)
    assert keyring.unlock("correct horse")
    _drop_setting(Path(keyring.file_path), "salt")
    app = UnlockApp(SessionFileKeyring(ask=None))
    async with app.run_test() as pilot:
        await pilot.press(*"correct horse", "enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = str(app.screen.query_one("#passphrase-error").render())
    assert "cannot be used: its setting 'salt' is missing" in shown
    assert "Traceback" not in shown


# -- migrating keyrings.alt's file (PBKDF2-SHA1 x1000, AES-CFB) ------------------------------


def _legacy_file(folder: Path, items: dict[tuple[str, str], str]) -> Path:
    """An old-format file written by keyrings.alt's own EncryptedKeyring, as sellers have."""
    old = EncryptedKeyring()
    old.file_path = str(folder / "crypted_pass.cfg")
    with mock.patch("getpass.getpass", return_value="old horse"):  # its prompt: the edge
        for (service, username), secret in items.items():
            old.set_password(service, username, secret)
    return Path(old.file_path)


OLD_ITEMS = {
    ("kenar-tui", "relay-token"): "kr_secret_relay",
    ("kenar-tui", "token:ab12cd34"): '{"access_token": "at_secret"}',
    ("kenar-tui", "cache-encryption-keys"): '{"k1": "c2VjcmV0"}',
}


# keyrings.alt's own class derives with pycryptodome's deprecated implicit defaults: its warning.
KEYRINGS_ALT_WARNS = pytest.mark.filterwarnings("ignore:PBKDF2 without:DeprecationWarning")


@KEYRINGS_ALT_WARNS
def test_an_old_file_is_migrated_on_the_first_unlock_with_every_item(tmp_path: Path) -> None:
    old_path = _legacy_file(tmp_path, {**OLD_ITEMS, ("other-app", "someone"): "other_secret"})
    old_before = old_path.read_bytes()
    keyring = SessionFileKeyring(folder=tmp_path)
    assert keyring.exists and keyring.migrating  # the old passphrase is asked, not a new one

    assert keyring.unlock("wrong horse") is False  # nothing changed
    assert old_path.read_bytes() == old_before
    assert not Path(keyring.file_path).exists()

    assert keyring.unlock("old horse")
    assert not keyring.migrating
    new_path = Path(keyring.file_path)
    assert _settings(new_path)["keyring-setting"]["kdf"] == "scrypt"
    assert new_path.stat().st_mode & 0o777 == 0o600
    assert "kr_secret_relay" not in new_path.read_text()
    # kenar-tui's items left the old file; another program's stay there for that program.
    old = EncryptedKeyring()
    old.file_path = str(old_path)
    with mock.patch("getpass.getpass", return_value="old horse"):
        assert old.get_password("kenar-tui", "relay-token") is None
        assert old.get_password("other-app", "someone") == "other_secret"

    again = _unlocked(tmp_path, "old horse")  # a second session reads the new file
    for (service, username), secret in OLD_ITEMS.items():
        assert again.get_password(service, username) == secret
    # Another program's secret is not spread into kenar-tui's file.
    assert again.get_password("other-app", "someone") is None
    assert not holds_service(new_path, "other-app")


@KEYRINGS_ALT_WARNS
def test_a_migration_cut_short_is_finished_by_the_next_unlock(tmp_path: Path) -> None:
    old_path = _legacy_file(tmp_path, {**OLD_ITEMS, ("other-app", "someone"): "other_secret"})
    keyring = SessionFileKeyring(folder=tmp_path)
    with mock.patch("kenar_tui.keyring_file.retire_legacy_file", side_effect=OSError("full")):
        assert keyring.unlock("old horse")  # the new file is written, the old one not cleaned
    assert holds_service(old_path, "kenar-tui")
    _unlocked(tmp_path, "old horse")  # the next session
    assert not holds_service(old_path, "kenar-tui")
    assert holds_service(old_path, "other-app")


@KEYRINGS_ALT_WARNS
def test_an_old_file_holding_only_kenar_tuis_items_is_removed_after_migration(
    tmp_path: Path,
) -> None:
    old_path = _legacy_file(tmp_path, OLD_ITEMS)
    keyring = SessionFileKeyring(folder=tmp_path)
    assert keyring.unlock("old horse")
    assert not old_path.exists()  # a renamed copy would keep every secret under the weak KDF
    assert CredentialStore(_unlocked(tmp_path, "old horse")).relay_token == "kr_secret_relay"


@KEYRINGS_ALT_WARNS
async def test_the_console_dialog_migrates_an_old_file_with_its_passphrase(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    old_path = _legacy_file(tmp_path / "data" / "python_keyring", OLD_ITEMS)
    keyring = SessionFileKeyring(ask=None)
    app = UnlockApp(keyring)
    async with app.run_test() as pilot:
        told = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "crypted_pass.cfg" in told and "moves to a stronger format" in told
        assert not app.screen.query("#passphrase-again")  # an existing passphrase, typed once
        await pilot.press(*"old horse", "enter")
        await pilot.pause()
        await app.workers.wait_for_complete()
    assert app.return_value is True
    assert not old_path.exists()
    assert CredentialStore(keyring).relay_token == "kr_secret_relay"


def test_two_writers_at_once_lose_no_entry(tmp_path: Path) -> None:
    """The console and `kenar-tui auth` in another terminal: each writes read-change-write."""
    _unlocked(tmp_path)
    writers = [_unlocked(tmp_path) for _ in range(2)]
    start = threading.Barrier(len(writers))

    def write_many(index: int) -> None:
        start.wait()
        for n in range(25):
            writers[index].set_password("kenar-tui", f"w{index}-{n}", f"secret-{index}-{n}")

    threads = [threading.Thread(target=write_many, args=(i,)) for i in range(len(writers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    reader = _unlocked(tmp_path)
    missing = [
        (i, n)
        for i in range(len(writers))
        for n in range(25)
        if reader.get_password("kenar-tui", f"w{i}-{n}") != f"secret-{i}-{n}"
    ]
    assert missing == []
