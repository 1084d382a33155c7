"""Moved to `kenar_api` (issue #18); these aliases keep old imports working until the shims go.

The package and each of its modules are aliased up front: a submodule found through the alias's
search path would otherwise load a second copy of `kenar_api.<module>` with its own classes.
"""

import importlib
import pkgutil
import sys

_api = importlib.import_module("kenar_api")
for _module in pkgutil.iter_modules(_api.__path__):
    sys.modules[f"{__name__}.{_module.name}"] = importlib.import_module(f"kenar_api.{_module.name}")
sys.modules[__name__] = _api
