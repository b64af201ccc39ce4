"""qmcrawler: a monitoring crawler for Chinese regulatory and news pages.

sqlite-utils imports numpy and pandas when they are installed, only to map their scalar types to
column types (qmcrawler never passes it one): numpy is a dependency (the SimHash in the extraction
workers), and importing it costs every process that opens a database about 0.1 s of CPU before
its first request. So `sqlite_utils.db` is loaded with both hidden, when it is first imported;
`import numpy` works as usual afterwards (tests/test_copies.py checks both).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

__version__ = "0.1.0"

_HIDDEN = ("numpy", "pandas")


class _HiddenFromSqliteUtils(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `sqlite_utils.db` once, and runs it with `_HIDDEN` unimportable (unless already imported)."""

    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if name != "sqlite_utils.db":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            self.loader = spec.loader
            spec.loader = self
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        hidden = [n for n in _HIDDEN if n not in sys.modules]
        for name in hidden:
            sys.modules[name] = None  # type: ignore[assignment]  # `import numpy` raises ImportError
        try:
            self.loader.exec_module(module)
        finally:
            for name in hidden:
                if sys.modules.get(name, 0) is None:
                    del sys.modules[name]


if "sqlite_utils.db" not in sys.modules:
    sys.meta_path.insert(0, _HiddenFromSqliteUtils())
