"""Render results JSON files as Markdown (for docs/performance.md).

python -m bench.report bench/results/intake-enc-on.json bench/results/e2e.json ...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import table


def render(path: Path) -> str:
    doc = json.loads(path.read_text())
    about = doc["machine"]
    lines = [
        f"`{doc['command']}` — {doc['date']}, {about['nproc']} cpus ({about['cpu']}), "
        f"load before {about['load_before'][0]}, {doc['seconds']} s",
        "",
        table(doc["rows"]),
    ]
    skip = {"noop"}
    notes = [f"{k}: {v}" for k, v in doc.get("notes", {}).items() if k not in skip]
    if notes:
        lines += ["", *(f"- {n}" for n in notes)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="bench/results/*.json files")
    args = parser.parse_args(argv)
    print("\n\n".join(render(p) for p in args.paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
