"""The repository stands on its own: nothing it runs reads a folder beside the checkout.

The real proof is .ci/run, which runs the suite in a fresh clone with nothing beside it;
this test names the offending line at once, in any checkout.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.fixtures.paths import KENAR_DATA

ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = (
    "kenar_api",
    "kenar_core",
    "kenar_tui",
    "relay",
    "tests",
    "bench",
    "scripts",
    "deploy",
    ".ci",
)
# Two dots and a slash before the reference folder's name, or a path joined onto that name
# (`parent / <name>`, `parents[3] / <name>`): any path into the sibling reference folder.
SIBLING_SHARED = re.compile(r"""\.\./shared\b|/\s*["']shared["']""")


def source_files() -> list[Path]:
    found: list[Path] = []
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in {".py", ".lua", ".sh", ".conf", ".toml", ""}:
                found.append(path)
    return [*found, ROOT / "pyproject.toml"]


def test_no_code_reads_a_folder_beside_the_checkout() -> None:
    """No source, test, benchmark or script path leads to the sibling reference folder."""
    offending = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in source_files()
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SIBLING_SHARED.search(line)
    ]
    assert offending == []


def test_every_reference_file_is_named_in_its_readme() -> None:
    """tests/data/kenar/README.md says where each copied file comes from."""
    readme = (KENAR_DATA / "README.md").read_text(encoding="utf-8")
    copied = [KENAR_DATA / "openapi-v3.json", *sorted((KENAR_DATA / "samples").glob("*.json"))]
    unnamed = [
        path.name
        for path in copied
        if path.name not in readme and not _named_by_pattern(path.name, readme)
    ]
    assert unnamed == []


def _named_by_pattern(name: str, readme: str) -> bool:
    """`samples/event-*.json` in the README names every event sample."""
    return any(
        re.fullmatch(pattern.replace(".", r"\.").replace("*", ".*"), name)
        for pattern in re.findall(r"samples/([\w.*-]+\.json)", readme)
    )
