"""Changing keys of the console's config file the way a careful person would by hand.

tomlkit keeps everything else as written: comments, order, blank lines, tables. The new text
goes to a temporary file in the same folder (mode 0600), is fsynced, and replaces the old file
in one rename, so a crash leaves either the old file or the new one, never half of each.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import tomlkit
from tomlkit.exceptions import ParseError

from kenar_core.errors import ConfigError
from kenar_core.files import write_atomically


def update_config(path: Path, values: Mapping[str, str | None]) -> None:
    """Set top-level keys of the TOML file at `path` (None removes one); the rest stays as is.

    Raises ConfigError, naming the file, when it is not valid TOML (it is then left alone) or
    cannot be written.
    """
    try:
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        document = tomlkit.parse(text)
    except ParseError as exc:
        raise ConfigError(f"{path}: {exc}; fix it by hand, nothing was changed") from None
    for key, value in values.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value  # replaces the value only: its comment stays beside it
    try:
        write_atomically(path, tomlkit.dumps(document))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be written ({exc.strerror or exc})") from None
