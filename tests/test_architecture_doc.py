"""docs/architecture.md stays true: every module, folder and file it names exists (issue #18)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
OURS = ("kenar_core", "kenar_api", "kenar_tui", "relay")
# A path written in the text: a folder of ours, then file or folder names.
PATH_IN_TEXT = re.compile(
    r"\b(?:kenar_core|kenar_api|kenar_tui|relay|bench|scripts|deploy|tests|docs)"
    r"/[\w./]*[\w/]"
)
DOTTED = re.compile(r"`((?:kenar_core|kenar_api|kenar_tui|relay)(?:\.\w+)+)")


def tree_block(text: str) -> list[str]:
    after = text.split("## The tree", 1)[1]
    return after.split("```", 2)[1].splitlines()[1:]


def tree_paths(lines: list[str]) -> list[str]:
    """Each name in the tree's first column, joined to the folders above it by indentation."""
    parents: list[tuple[int, str]] = []
    found: list[str] = []
    for line in lines:
        column = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        if not column or not re.match(r"^[\w.]", column) or " " in column.replace(", ", ","):
            continue  # a description continued on its own line
        indent = len(line) - len(line.lstrip())
        while parents and parents[-1][0] >= indent:
            parents.pop()
        base = "".join(name for _, name in parents)
        for name in column.split(", "):
            found.append(base + name)
        last = column.split(", ")[-1]
        if last.endswith("/"):
            parents.append((indent, last))
    return found


def exists_as_module(dotted: str) -> bool:
    """`a.b.C` names something real when a module file or package for a prefix of it exists."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:end])
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return end >= len(parts) - 1  # at most one name (a class, a function) past the module
    return False


def test_every_path_in_the_tree_exists() -> None:
    paths = tree_paths(tree_block(DOC.read_text(encoding="utf-8")))
    assert len(paths) > 50, "the tree was not read"
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert missing == []


def test_every_path_and_module_in_the_text_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [path for path in PATH_IN_TEXT.findall(text) if not (ROOT / path).exists()]
    missing += [name for name in DOTTED.findall(text) if not exists_as_module(name)]
    assert missing == []


def test_the_tree_reader_finds_a_wrong_name() -> None:
    """The check can fail: a file under a folder is looked for inside that folder."""
    lines = ["relay/", "  server.py    the server", "  gone.py, wire.py   two names"]
    assert tree_paths(lines) == ["relay/", "relay/server.py", "relay/gone.py", "relay/wire.py"]
    assert not (ROOT / "relay/gone.py").exists()
