"""`kenar-tui purge`: delete the local cache's conversations, messages, drafts and replies now."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kenar_core.errors import KenarTuiError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "purge",
        help="delete the local cache now (conversations, messages, drafts, replies)",
        description=(
            "Delete everything the console keeps on this computer, now. The relay's copy "
            "(at most its retention, 72 h by default) is deleted with `kenar-relay purge`; "
            "what the relay already sent is not sent again."
        ),
    )
    parser.add_argument("--config", type=Path, default=None, help="the config file to read")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from kenar_tui.config import Settings
    from kenar_tui.store.purging import purge_all

    try:
        path = Settings.load(args.config).cache_file
    except KenarTuiError as exc:
        print(f"kenar-tui: {exc}", file=sys.stderr)
        return 1
    if not path.exists():
        print(f"there is no cache at {path}: nothing to delete", file=sys.stderr)
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            print("kenar-tui: purge deletes the local cache; add --yes to confirm", file=sys.stderr)
            return 2
        answer = input(f"delete every conversation and message kept in {path}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted", file=sys.stderr)
            return 1
    try:
        removed = purge_all(path)
    except Exception as exc:  # sqlite3 errors name the file, never its content
        print(f"kenar-tui: the cache {path} could not be purged ({exc})", file=sys.stderr)
        return 1
    print(f"deleted the local cache: {removed} entries, with every conversation", file=sys.stderr)
    return 0
