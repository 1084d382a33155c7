"""Moved to `kenar_core.blind_index` (issue #18): an alias for old imports until the shims go."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("kenar_core.blind_index")
