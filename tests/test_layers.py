"""The layers import downward only (issue #18): a server installs and runs the relay alone.

    kenar_core   imports nothing of ours
    kenar_api    imports kenar_core only
    relay        imports kenar_api and kenar_core, never the console (kenar_tui)

Checked twice: statically (every import statement in every module, lazy ones included) and by
importing the relay's entry points in a fresh interpreter and looking at what got loaded.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"kenar_core", "kenar_api", "relay", "kenar_tui", "bench", "tests", "scripts"}
ALLOWED = {
    "kenar_core": {"kenar_core"},
    "kenar_api": {"kenar_core", "kenar_api"},
    "relay": {"kenar_core", "kenar_api", "relay"},
}
# What only the console needs: loading any of these makes the relay need the console extra.
CONSOLE_ONLY = ("kenar_tui", "textual", "keyring", "bidi", "arabic_reshaper", "segno", "jdatetime")


def imported_packages(path: Path) -> set[str]:
    """The top-level packages of ours `path` imports (relative imports stay in its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            found.add(node.args[0].value.split(".")[0])  # type: ignore[attr-defined]
    return found & OURS


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return (
        name in ("import_module", "__import__")
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_layer_imports_only_the_layers_below_it(layer: str) -> None:
    modules = sorted((ROOT / layer).rglob("*.py"))
    assert modules, f"no modules found under {layer}/"
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) - ALLOWED[layer])
        for path in modules
        if imported_packages(path) - ALLOWED[layer]
    }
    assert wrong == {}, f"{layer} may import only {sorted(ALLOWED[layer])}"


def test_the_static_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The check above can fail: a lazy console import inside a function is found."""
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from kenar_tui.app import KenarApp\n    return KenarApp\n")
    assert imported_packages(module) == {"kenar_tui"}


LOADED_BY_RELAY = """
import json, sys
import kenar_core, kenar_core.keyfile, kenar_core.redaction, kenar_core.cipher
import kenar_api, kenar_api.client
import relay.cli, relay.server, relay.app
print(json.dumps(sorted(sys.modules)))
"""


def test_importing_the_relay_loads_no_console_module() -> None:
    """A fresh interpreter: the relay's entry points and the protocol layer, nothing else."""
    result = subprocess.run(
        [sys.executable, "-c", LOADED_BY_RELAY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert "relay.server" in loaded  # the probe really imported the relay
    console = [name for name in loaded if name.split(".")[0] in CONSOLE_ONLY]
    assert console == []
