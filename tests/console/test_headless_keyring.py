"""Headless Linux, no desktop keyring, nothing configured: secrets go to the encrypted file.

The environment is the README's "Headless servers" case: PYTHON_KEYRING_BACKEND unset, fresh
XDG folders, no D-Bus. Nothing may wait on a prompt nobody sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kenar_tui.credentials import CredentialStore
from kenar_tui.dialogs.passphrase import PassphraseScreen, UnlockApp
from kenar_tui.keyring_file import SessionFileKeyring


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
