"""Regenerate kenar_tui/kenar/data/icons.txt from Divar's OpenAPI spec.

Usage: python scripts/gen_icons.py [path/to/openapi-v3.json]
The spec's `DivarIconsIconName` enum is the list of icons a chat button may carry. By default
the spec is the copy kept in the repository (tests/data/kenar/openapi-v3.json, whose README
says where it comes from); refresh that copy first to pick up icons Divar has added.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT / "tests" / "data" / "kenar" / "openapi-v3.json"
TARGET = ROOT / "kenar_tui" / "kenar" / "data" / "icons.txt"


def icon_names(spec_path: Path) -> list[str]:
    """The icon names the spec allows on a button, in the spec's order."""
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    names: list[str] = spec["components"]["schemas"]["DivarIconsIconName"]["enum"]
    return names


def main() -> None:
    spec_path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SPEC
    names = icon_names(spec_path)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text("\n".join(names) + "\n", encoding="utf-8")
    print(f"wrote {len(names)} icon names to {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
