"""kenar-tui's encrypted file keyring, for machines with no desktop keyring (servers over SSH).

The file is `$XDG_DATA_HOME/python_keyring/kenar_tui_keyring.cfg`, mode 0600, INI:

    [keyring-setting]   format, version, kdf = scrypt, scrypt-n/-r/-p, salt (16 random bytes),
                        check (a known text sealed under the master key: the passphrase check)
    [<service>]         <username> = base64(12-byte nonce + AES-256-GCM ciphertext and tag)

The passphrase becomes the 32-byte master key once per session with scrypt (n=2**16, r=8, p=1:
64 MiB; one unlock measured 0.197-0.203 s over 5 runs on the 2-core dev machine at a load
average of 2.2; n=2**15 took 0.095 s), so a copied file costs an attacker that much per guess,
memory included; the parameters live in the file and can be raised later. Each item is sealed
with AES-GCM under a fresh nonce, its service and username as associated data: an item altered,
or moved to another name, does not open, and the user hears a sentence (`DamagedKeyringFile`),
never a traceback. Writes are atomic and, between processes (the console, `kenar-tui auth`),
one at a time under an advisory lock beside the file, so one cannot undo the other's entry.

keyrings.alt's `crypted_pass.cfg` (PBKDF2-HMAC-SHA1, 1,000 rounds, AES-CFB, unauthenticated),
which earlier kenar-tui versions used, is migrated on the first unlock with its passphrase:
kenar-tui's items are copied into the new file in one atomic write (another program's items in
that shared default file are its own business: they are neither copied nor touched), the new
file is re-read, then kenar-tui's items are removed from the old one, and the old file itself
when nothing else is left (a renamed copy would keep every secret under the weak derivation,
which is what the migration ends). A process that dies between the two steps leaves kenar-tui's
items in the old file; the next unlock finishes the removal.

The passphrase is given, never asked behind the screen: the console asks in a dialog
(dialogs/passphrase.py), CLI commands on the terminal (`ask_on_tty`); with nobody to ask the
keyring says it is locked, in words, and never reads stdin.
"""

from __future__ import annotations

import base64
import binascii
import configparser
import contextlib
import getpass
import hashlib
import io
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import KeyringError, KeyringLocked, PasswordDeleteError
from keyring.util import platform_
from keyrings.alt.escape import escape

from kenar_core.files import private_dir, write_atomically
from kenar_tui.keyring_legacy import (
    has_passphrase_check,
    holds_service,
    read_legacy_items,
    retire_legacy_file,
)

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a desktop keyring answers there anyway
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "LOCKED_WORDS",
    "DamagedKeyringFile",
    "KeyringFileError",
    "SessionFileKeyring",
    "WrongPassphrase",
    "ask_on_tty",
]

LOCKED_WORDS = (
    "the keyring is locked: it is kenar-tui's encrypted file and needs its passphrase; "
    "run the command in a terminal to type it"
)
FILE_NAME = "kenar_tui_keyring.cfg"
LEGACY_FILE_NAME = "crypted_pass.cfg"  # keyrings.alt's EncryptedKeyring
OWN_SERVICE = "kenar-tui"  # credentials.SERVICE: its items leave the old file after migration
FORMAT, VERSION = "kenar-tui-keyring", "2"
SETTINGS = "keyring-setting"  # escaped service names never contain "-": no item can clash
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**16, 8, 1
MAX_SCRYPT_MEMORY = 2**30  # parameters needing more are refused as damage, not attempted
_CHECK = b"kenar-tui keyring passphrase check"
_log = logging.getLogger("kenar_tui.keyring")

Ask = Callable[[bool], str]  # (new file?) -> passphrase


class KeyringFileError(KeyringError):
    """The keyring file cannot be used as it is; the message is a sentence naming no secret."""


class DamagedKeyringFile(KeyringFileError):
    """The file was altered (or is not ours): an item or a setting does not open or parse."""


class WrongPassphrase(KeyringFileError):
    """A passphrase typed on the terminal is not this file's; nothing was read or changed."""


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


def _associated(service: str, username: str) -> bytes:
    return json.dumps([FORMAT, service, username]).encode()  # unambiguous, unlike a joined string


def _seal(key: bytes, plaintext: bytes, service: str, username: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext, _associated(service, username))
    return base64.b64encode(nonce + sealed).decode("ascii")


def _open(key: bytes, value: str, service: str, username: str) -> bytes:
    """The plaintext; InvalidTag when the key is wrong or the item was altered or moved."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidTag from None
    if len(raw) < 12 + 16:
        raise InvalidTag
    return AESGCM(key).decrypt(raw[:12], raw[12:], _associated(service, username))


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    memory = 128 * r * (n + p + 2) + 2**20
    if memory > MAX_SCRYPT_MEMORY:
        raise ValueError("scrypt parameters beyond the memory bound")
    return hashlib.scrypt(passphrase.encode(), salt=salt, n=n, r=r, p=p, maxmem=memory, dklen=32)


class SessionFileKeyring(KeyringBackend):
    """kenar-tui's encrypted file (scrypt + AES-GCM), unlocked by a given passphrase."""

    @properties.classproperty
    def priority(cls) -> float:
        # Chosen by keyring_choice.system_backend() only, never by keyring's own detection.
        raise RuntimeError("kenar-tui chooses this keyring itself")

    def __init__(self, ask: Ask | None = None, *, folder: Path | None = None) -> None:
        super().__init__()
        self.ask = ask
        self.folder = folder if folder is not None else Path(platform_.data_root())
        self._key: bytes | None = None
        self._salt: str | None = None  # the file's salt when unlocked: a replaced file is refused

    @property
    def file_path(self) -> str:
        return str(self.folder / FILE_NAME)

    @property
    def legacy_path(self) -> Path:
        return self.folder / LEGACY_FILE_NAME

    @property
    def exists(self) -> bool:
        """True once a passphrase was chosen: our file, or an old one still to migrate."""
        return Path(self.file_path).is_file() or has_passphrase_check(self.legacy_path)

    @property
    def migrating(self) -> bool:
        """True while the next unlock moves keyrings.alt's old file (its passphrase) into ours."""
        return not Path(self.file_path).is_file() and has_passphrase_check(self.legacy_path)

    @property
    def unlocked(self) -> bool:
        return self._key is not None

    def __repr__(self) -> str:
        return f"SessionFileKeyring(file={self.file_path!r})"

    __str__ = __repr__

    def unlock(self, passphrase: str) -> bool:
        """Use `passphrase` from now on; False (still locked, nothing changed) when it is not
        this file's. Creates the file for a new keyring; migrates an old keyrings.alt file."""
        with self._exclusive():  # two processes starting at once create or migrate it once
            if not Path(self.file_path).is_file():
                return self._create_or_migrate(passphrase)
        config = self._read()
        key = self._master_key(config, passphrase)
        try:
            _open(key, self._setting(config, "check"), SETTINGS, "check")
        except InvalidTag:
            return False
        self._key, self._salt = key, self._setting(config, "salt")
        self._retire_legacy()  # a migration cut short after the new file was written
        return True

    def _create_or_migrate(self, passphrase: str) -> bool:
        if has_passphrase_check(self.legacy_path):
            try:
                items = read_legacy_items(self.legacy_path, passphrase)
            except ValueError as exc:
                raise DamagedKeyringFile(str(exc)) from None
            if items is None:
                return False
            self._create(passphrase, {k: v for k, v in items.items() if k[0] == OWN_SERVICE})
            self._retire_legacy()
            return True
        self._create(passphrase, {})
        return True

    def _retire_legacy(self) -> None:
        """kenar-tui's items out of the old file (it has a copy under the strong key now)."""
        try:
            if holds_service(self.legacy_path, OWN_SERVICE):
                retire_legacy_file(self.legacy_path, OWN_SERVICE)
        except OSError as exc:  # migrated all the same; the old copy is named in the log
            _log.warning("the old keyring file %s stays (%s)", self.legacy_path, exc)

    # -- keyring's API ---------------------------------------------------------------------

    def get_password(self, service: str, username: str) -> str | None:
        key = self._unlocked_key()
        config = self._read()
        try:
            value = config.get(escape(service), escape(username))
        except (configparser.NoSectionError, configparser.NoOptionError):
            return None
        try:
            return _open(key, value, service, username).decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise DamagedKeyringFile(
                f"the keyring file {self.file_path} is damaged: the entry {service} / {username} "
                "does not open with its key (changed on disk, or copied from another entry); "
                "restore the file from a backup or store that secret again"
            ) from None

    def set_password(self, service: str, username: str, password: str) -> None:
        if not username:
            raise ValueError("the username cannot be blank")
        key = self._unlocked_key()
        with self._exclusive():  # read, change, write: another process's write is not lost
            config = self._read()
            section = escape(service)
            if not config.has_section(section):
                config.add_section(section)
            config.set(section, escape(username), _seal(key, password.encode(), service, username))
            self._write(config)

    def delete_password(self, service: str, username: str) -> None:
        self._unlocked_key()
        with self._exclusive():
            config = self._read()
            section = escape(service)
            if not config.has_option(section, escape(username)):
                raise PasswordDeleteError("no such entry in the keyring")
            config.remove_option(section, escape(username))
            if not config.items(section):
                config.remove_section(section)
            self._write(config)

    # -- the file --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Held by one process at a time (console, `kenar-tui auth`) while the file changes."""
        if fcntl is None:
            yield
            return
        if not self.folder.is_dir():
            private_dir(self.folder)
        fd = os.open(self.folder / f".{FILE_NAME}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _unlocked_key(self) -> bytes:
        if self._key is None:
            if self.ask is None:
                raise KeyringLocked(LOCKED_WORDS)
            tried = self.legacy_path if self.migrating else self.file_path
            if not self.unlock(self.ask(not self.exists)):
                raise WrongPassphrase(
                    f"that is not the passphrase of kenar-tui's keyring ({tried}); "
                    "nothing was read or changed"
                )
        assert self._key is not None
        return self._key

    def _read(self) -> configparser.RawConfigParser:
        config = configparser.RawConfigParser(delimiters=("=",), interpolation=None)
        config.optionxform = str  # type: ignore[assignment,method-assign]  # names keep their case
        try:
            config.read(self.file_path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            raise self._damaged("it is not a keyring file") from None
        if not os.path.exists(self.file_path):
            if self._key is not None:  # never rewrite a file without its settings
                raise KeyringFileError(
                    f"the keyring file {self.file_path} was removed after it was unlocked; "
                    "start kenar-tui again to choose a passphrase for a new one"
                )
            return config
        if self._key is not None and self._setting(config, "salt") != self._salt:
            raise KeyringFileError(
                f"the keyring file {self.file_path} was replaced after it was unlocked; "
                "start kenar-tui again to unlock the new one"
            )
        return config

    def _setting(self, config: configparser.RawConfigParser, name: str) -> str:
        try:
            if config.get(SETTINGS, "format") != FORMAT:
                raise self._damaged("it is not kenar-tui's keyring format")
            return config.get(SETTINGS, name)
        except (configparser.NoSectionError, configparser.NoOptionError):
            raise self._damaged(f"its setting {name!r} is missing") from None

    def _master_key(self, config: configparser.RawConfigParser, passphrase: str) -> bytes:
        if self._setting(config, "version") != VERSION or self._setting(config, "kdf") != "scrypt":
            raise self._damaged("its version or key derivation is not one this kenar-tui reads")
        try:
            salt = base64.b64decode(self._setting(config, "salt"), validate=True)
            n, r, p = (int(self._setting(config, f"scrypt-{x}")) for x in "nrp")
            return _derive(passphrase, salt, n, r, p)
        except (binascii.Error, ValueError, MemoryError):
            raise self._damaged("its key derivation settings are not valid") from None

    def _create(self, passphrase: str, items: dict[tuple[str, str], str]) -> None:
        salt = os.urandom(16)
        key = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        config = configparser.RawConfigParser(delimiters=("=",), interpolation=None)
        config.optionxform = str  # type: ignore[assignment,method-assign]
        config.add_section(SETTINGS)
        encoded_salt = base64.b64encode(salt).decode("ascii")
        for name, value in (
            ("format", FORMAT),
            ("version", VERSION),
            ("kdf", "scrypt"),
            ("scrypt-n", str(SCRYPT_N)),
            ("scrypt-r", str(SCRYPT_R)),
            ("scrypt-p", str(SCRYPT_P)),
            ("salt", encoded_salt),
            ("check", _seal(key, _CHECK, SETTINGS, "check")),
        ):
            config.set(SETTINGS, name, value)
        for (service, username), secret in items.items():
            if not config.has_section(escape(service)):
                config.add_section(escape(service))
            sealed = _seal(key, secret.encode(), service, username)
            config.set(escape(service), escape(username), sealed)
        self._write(config)
        self._key, self._salt = key, encoded_salt
        written = {(s, u): self.get_password(s, u) for s, u in items}  # read back before the
        if written != items:  # old file may go: a write that lost anything stops here
            raise self._damaged("it did not read back what was written")

    def _write(self, config: configparser.RawConfigParser) -> None:
        text = io.StringIO()
        config.write(text)
        write_atomically(Path(self.file_path), text.getvalue())

    def _damaged(self, why: str) -> DamagedKeyringFile:
        return DamagedKeyringFile(
            f"the keyring file {self.file_path} cannot be used: {why}; "
            "restore it from a backup, or move it aside and store the secrets again"
        )
