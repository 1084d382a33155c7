"""The encrypted file keyring for machines with no desktop keyring (servers, headless laptops).

keyrings.alt's `EncryptedKeyring` (AES over a PBKDF2 key, pycryptodome) asks for its passphrase
with getpass whenever it wants it: under the running console that prompt would sit hidden
behind the screen. Here the passphrase is given instead: the console asks for it in a dialog
once per session (dialogs/passphrase.py), the CLI commands on the terminal (`ask_on_tty`), and
with nobody to ask the keyring says it is locked, in words, and never reads stdin.
"""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Callable

from keyring.compat import properties
from keyring.errors import KeyringLocked
from keyrings.alt.file import EncryptedKeyring

__all__ = ["LOCKED_WORDS", "SessionFileKeyring", "ask_on_tty"]

LOCKED_WORDS = (
    "the keyring is locked: it is kenar-tui's encrypted file and needs its passphrase; "
    "run the command in a terminal to type it"
)

Ask = Callable[[bool], str]  # (new file?) -> passphrase


def ask_on_tty(new: bool) -> str:
    """The passphrase typed on the controlling terminal; KeyringLocked when there is none."""
    try:
        with open("/dev/tty"):  # getpass would fall back to stdin: the secret being piped in
            pass
    except OSError:
        raise KeyringLocked(LOCKED_WORDS) from None
    while True:
        first = getpass.getpass(
            "New passphrase for kenar-tui's keyring: " if new else "Keyring passphrase: "
        )
        if not new:
            return first
        if not first.strip():
            print("The passphrase cannot be empty.")
            continue
        if getpass.getpass("The same passphrase again: ") == first:
            return first
        print("The two passphrases differ; again.")


class SessionFileKeyring(EncryptedKeyring):
    """keyrings.alt's encrypted file, unlocked by a given passphrase, never by a hidden prompt."""

    @properties.classproperty
    def priority(cls) -> float:
        # Chosen by keyring_choice.system_backend() only, never by keyring's own detection.
        raise RuntimeError("kenar-tui chooses this keyring itself")

    def __init__(self, ask: Ask | None = None) -> None:
        super().__init__()
        self.ask = ask
        self._passphrase: str | None = None

    def _create_cipher(self, password: str, salt: bytes, iv: bytes) -> object:
        # keyrings.alt's own derivation (PBKDF2-HMAC-SHA1, 1000 rounds), named explicitly:
        # pycryptodome deprecates the implicit defaults; files stay readable by keyrings.alt.
        from Crypto.Hash import SHA1

        key = self.KDF.PBKDF2(
            password, salt, dkLen=self.block_size, count=1000, hmac_hash_module=SHA1
        )
        return self.AES.new(key[: self.block_size], self.AES.MODE_CFB, iv)

    @property
    def exists(self) -> bool:
        """True once the file holds its passphrase check (a passphrase was chosen)."""
        return bool(self._check_file())

    def unlock(self, passphrase: str) -> bool:
        """Use `passphrase` from now on; False (and still locked) when it is not this file's."""
        self._passphrase = passphrase
        if not self.exists:
            return True  # a new file: this passphrase becomes its own on the first write
        with contextlib.suppress(AttributeError):  # not unlocked yet
            self._lock()
        try:
            _ = self.keyring_key
        except ValueError:  # "Incorrect Password"
            self._passphrase = None
            return False
        return True

    def __repr__(self) -> str:
        return f"SessionFileKeyring(file={self.file_path!r})"

    __str__ = __repr__

    @property
    def unlocked(self) -> bool:
        return self._passphrase is not None

    def _passphrase_for(self, new: bool) -> str:
        if self._passphrase is not None:
            return self._passphrase
        if self.ask is None:
            raise KeyringLocked(LOCKED_WORDS)
        self._passphrase = self.ask(new)
        return self._passphrase

    def _get_new_password(self) -> str:
        return self._passphrase_for(True)

    def _unlock(self) -> None:
        self.keyring_key = self._passphrase_for(False)
        try:
            reference = self.get_password("keyring-setting", "password reference")
        except (AssertionError, UnicodeDecodeError, ValueError):  # decrypted to garbage
            reference = None
        if reference != "password reference value":
            self._lock()
            self._passphrase = None
            raise ValueError("Incorrect Password")
