#!/usr/bin/env bash
# Regenerate requirements-lock.txt from pyproject.toml: every dependency and the `test` extra,
# pinned with hashes, for every platform Python 3.11+ runs on. Run it after changing a
# dependency in pyproject.toml and commit the result; .ci/run fails while the two disagree.
# Pins already in the lock are kept; `scripts/lock.sh --upgrade` moves everything to the newest
# versions pyproject.toml allows (then refresh the snapshots if Textual moved: README).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${KENAR_LOCK_OUT:-requirements-lock.txt}
command -v uv >/dev/null 2>&1 || python -m pip install --quiet 'uv>=0.5'
uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
  --generate-hashes --custom-compile-command scripts/lock.sh --quiet \
  --output-file "$out" "$@"
