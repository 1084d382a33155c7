"""Regenerate kenar_tui/kenar/data/icons.txt from Divar's OpenAPI spec.

Usage: python scripts/gen_icons.py [path/to/openapi-v3.json]
The spec's `DivarIconsIconName` enum is the list of icons a chat button may carry.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT.parent / "shared" / "kenar" / "openapi-v3.json"
TARGET = ROOT / "kenar_tui" / "kenar" / "data" / "icons.txt"


def main() -> None:
    spec_path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SPEC
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    names = spec["components"]["schemas"]["DivarIconsIconName"]["enum"]
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text("\n".join(names) + "\n", encoding="utf-8")
    print(f"wrote {len(names)} icon names to {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
