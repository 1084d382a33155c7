"""Every module of the shipped packages imports: run under the lowest allowed versions
(.ci/run), this catches a dependency floor set below a name the code imports (NoDecode,
uvicorn internals…), in modules no other test of that run reaches."""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def all_modules() -> list[str]:
    """Each module of the packages the wheel ships (pyproject.toml), but not `__main__`s,
    which run their command when imported."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = config["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    names: list[str] = []
    for package in packages:
        names.append(package)
        found = pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}.")
        names += [module.name for module in found if not module.name.endswith(".__main__")]
    return sorted(names)


@pytest.mark.parametrize("name", all_modules())
def test_module_imports(name: str) -> None:
    importlib.import_module(name)
