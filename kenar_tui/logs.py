"""Where the console's logs go: a rotating file, 0600, in the user's log folder.

A terminal UI cannot print logs over its screen, and logs sent nowhere hide the errors that
were logged. So by default the console writes INFO and above to `console.log` under
platformdirs' user log folder (0700), rotated at `MAX_BYTES` with `BACKUPS` old files kept:
the disk use is bounded. `--log-file PATH` chooses another file (DEBUG then, for a bug
report). Every line, tracebacks included, passes the redaction filter (phones, tokens:
kenar_tui/privacy/masking.py); chat content is never logged in the first place.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

import platformdirs

from kenar_core.files import FILE_MODE, private_dir
from kenar_core.redaction import install_redaction

APP_NAME = "kenar-tui"
LOG_FILE_NAME = "console.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3
FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def default_log_file() -> Path:
    """`console.log` in the user's log folder (e.g. ~/.local/state/kenar-tui/log on Linux)."""
    return platformdirs.user_log_path(APP_NAME) / LOG_FILE_NAME


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A RotatingFileHandler whose every file (the first, and each after a roll-over) is 0600."""

    def _open(self) -> Any:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        os.fchmod(fd, FILE_MODE)  # whatever the umask, and a file an older run left looser
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def console_logging(log_file: Path | None = None) -> logging.Handler:
    """Send the process's logs to `log_file` (or the default file); returns the handler.

    Installing it twice replaces the first handler rather than writing each line twice.
    """
    path = log_file if log_file is not None else default_log_file()
    private_dir(path.parent, own=log_file is None)
    handler = PrivateRotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, PrivateRotatingFileHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if log_file is not None else logging.INFO)
    # Phones and tokens are masked in every line and traceback, ours or a library's.
    install_redaction(root)
    return handler
