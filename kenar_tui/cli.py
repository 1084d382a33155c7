"""`kenar-tui`: the console, and the commands around it.

Each subcommand lives in `kenar_tui/commands/<name>.py` with `register(subparsers)`, which
adds its parser and sets `run(args) -> int`. With no subcommand, the console starts.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

from kenar_core import __version__

# The console's libraries (pyproject's `console` extra): `pip install kenar-tui` alone is a relay.
CONSOLE_LIBRARIES = (
    "textual",
    "keyring",
    "bidi",
    "arabic_reshaper",
    "jdatetime",
    "segno",
    "tomlkit",
)
CONSOLE_EXTRA_MISSING = (
    "kenar-tui: the console needs its libraries (missing: {missing}); "
    "install them with: pip install 'kenar-tui[console]'"
)

# Order is the order `--help` lists them in.
COMMANDS = ["console", "demo", "sandbox", "login", "auth", "subscribe", "purge"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kenar-tui",
        description="Answer Divar buyers' chats from the terminal, live, with button grids.",
    )
    parser.add_argument("--version", action="version", version=f"kenar-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"kenar_tui.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"kenar_tui.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def with_default_command(argv: Sequence[str]) -> list[str]:
    """`kenar-tui --relay-url X` means `kenar-tui console --relay-url X`: the default command's
    options work without naming it. --help and --version stay the program's own."""
    words = list(argv)
    first = words[0] if words else None
    if first in COMMANDS or first in ("-h", "--help", "--version"):
        return words
    return ["console", *words]


def missing_console_libraries() -> list[str]:
    return [name for name in CONSOLE_LIBRARIES if importlib.util.find_spec(name) is None]


def main(argv: Sequence[str] | None = None) -> int:
    missing = missing_console_libraries()
    if missing:
        print(CONSOLE_EXTRA_MISSING.format(missing=", ".join(missing)), file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(with_default_command(sys.argv[1:] if argv is None else argv))
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 2
    try:
        return int(run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
