"""A locked keyring answers in a sentence: from the CLI with no terminal, and in the console."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kenar_core.errors import CredentialError
from kenar_tui.credentials import CredentialStore
from tests.locked_keyrings import LockedKeyring

ROOT = Path(__file__).resolve().parent.parent


def auth_set_without_a_terminal(backend: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": backend, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "kenar_tui", "auth", "set", "api-key", "--stdin"],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("backend", "words"),
    [
        ("tests.locked_keyrings.LockedKeyring", "the keyring is locked: unlock it"),
        ("tests.locked_keyrings.PasswordKeyring", "there is no terminal to type it on"),
    ],
)
def test_auth_set_stdin_with_a_locked_keyring_is_a_sentence(backend: str, words: str) -> None:
    done = auth_set_without_a_terminal(backend, "")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "EOFError" not in done.stderr
    assert "kenar-tui: " in done.stderr and words in done.stderr


def test_a_locked_keyring_is_named_in_words() -> None:
    with pytest.raises(CredentialError, match="the keyring is locked: unlock it"):
        CredentialStore(LockedKeyring())
