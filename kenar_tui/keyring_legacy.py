"""Reading keyrings.alt's encrypted file (`crypted_pass.cfg`), only to migrate away from it.

That format (keyrings.alt's `EncryptedKeyring`, "[PBKDF2] AES256.CFB" version 1.0) derives each
item's key with PBKDF2-HMAC-SHA1 over 1,000 rounds and seals it with AES-CFB, which has no
authentication: a copied file can be guessed at offline very fast. kenar-tui used it until its
own file (keyring_file.py); a seller's old file is read here once, with the passphrase they
type, and rewritten in the new format.

Items are INI options: section = escaped service, option = escaped (and, by configparser,
lowercased) username, value = base64 of JSON {salt, IV, password_encrypted}, each base64. The
plaintext starts with b"pw:". The passphrase check is the item
("keyring-setting", "password reference") holding "password reference value".
"""

from __future__ import annotations

import binascii
import configparser
import io
import json
from base64 import b64decode
from pathlib import Path

from Crypto.Cipher import AES
from Crypto.Hash import SHA1
from Crypto.Protocol.KDF import PBKDF2
from keyrings.alt.escape import escape, unescape

from kenar_core.files import write_atomically

__all__ = ["LEGACY_SETTINGS", "has_passphrase_check", "read_legacy_items", "retire_legacy_file"]

LEGACY_SETTINGS = "keyring-setting"
_REFERENCE = ("password reference", "password reference value")
_PREFIX = b"pw:"


class _Garbage(ValueError):
    """An item that does not decrypt to keyrings.alt's prefix: a wrong passphrase or damage."""


def _read(path: Path) -> configparser.RawConfigParser:
    config = configparser.RawConfigParser()  # keyrings.alt's own settings: options lowercased
    config.read(path, encoding="utf-8")
    return config


def has_passphrase_check(path: Path) -> bool:
    """True when `path` is a keyrings.alt encrypted file whose passphrase was chosen."""
    if not path.is_file():
        return False
    try:
        config = _read(path)
    except (configparser.Error, UnicodeDecodeError):
        return False
    return config.has_option(escape(LEGACY_SETTINGS), escape(_REFERENCE[0]))


def _decrypt(value: str, passphrase: str) -> str:
    try:
        data = json.loads(b64decode(value))
        salt, iv, sealed = (b64decode(data[k]) for k in ("salt", "IV", "password_encrypted"))
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise _Garbage("not keyrings.alt's item layout") from exc
    # keyrings.alt's derivation, named explicitly (pycryptodome deprecates the implicit one).
    key = PBKDF2(passphrase, salt, dkLen=32, count=1000, hmac_hash_module=SHA1)
    plaintext = AES.new(key[:32], AES.MODE_CFB, iv).decrypt(sealed)
    if not plaintext.startswith(_PREFIX):
        raise _Garbage("wrong passphrase or a damaged item")
    try:
        return plaintext[len(_PREFIX) :].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Garbage("wrong passphrase or a damaged item") from exc


def read_legacy_items(path: Path, passphrase: str) -> dict[tuple[str, str], str] | None:
    """Every (service, username) -> secret of the old file; None when `passphrase` is not its.

    Raises ValueError (naming no secret) when the passphrase is right but an item is unreadable:
    migrating then would lose it, so nothing is migrated.
    """
    config = _read(path)
    settings = escape(LEGACY_SETTINGS)
    try:
        reference = _decrypt(config.get(settings, escape(_REFERENCE[0])), passphrase)
    except (_Garbage, configparser.Error):
        return None
    if reference != _REFERENCE[1]:
        return None
    items: dict[tuple[str, str], str] = {}
    for section in config.sections():
        if section == settings:
            continue
        for option, value in config.items(section):
            name = (unescape(section), unescape(option))
            try:
                items[name] = _decrypt(value, passphrase)
            except _Garbage:
                raise ValueError(
                    f"an entry of the old keyring file {path} ({name[0]} / {name[1]}) cannot be "
                    "read with its passphrase; nothing was migrated"
                ) from None
    return items


def holds_service(path: Path, service: str) -> bool:
    """True when the old file at `path` still has a section of `service`'s items."""
    if not path.is_file():
        return False
    try:
        return _read(path).has_section(escape(service))
    except (configparser.Error, UnicodeDecodeError):
        return False


def retire_legacy_file(path: Path, service: str) -> bool:
    """Drop `service`'s items from the old file, and the file itself when nothing else is left.

    The file is keyrings.alt's shared default: another program may keep its own items there
    (those stay for that program, not copied). True when the file was removed.
    """
    config = _read(path)
    config.remove_section(escape(service))
    if not [s for s in config.sections() if s != escape(LEGACY_SETTINGS)]:
        path.unlink()
        return True
    text = io.StringIO()
    config.write(text)
    write_atomically(path, text.getvalue())
    return False
