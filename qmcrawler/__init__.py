"""qmcrawler: a monitoring crawler for Chinese regulatory and news pages."""

from __future__ import annotations

import importlib
import sys

__version__ = "0.1.0"


def sqlite_utils_without_numpy() -> None:
    """Import sqlite-utils without the numpy and pandas it imports whenever they are installed.

    It imports them only to map their scalar types to column types, and qmcrawler never inserts
    such values; numpy's import alone costs about 0.2 s of CPU, which every crawl, CLI and
    scheduler process would pay at start-up (issue 16). `qmcrawler.storage` calls it first (a
    crawl imports it before any other importer of sqlite-utils); extraction workers never import
    sqlite-utils. numpy itself is imported where it is used (`qmcrawler.storage.grams`).
    """
    if "sqlite_utils" in sys.modules:
        return
    blocked = [name for name in ("numpy", "pandas") if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` raise ImportError
    try:
        importlib.import_module("sqlite_utils")
    finally:
        for name in blocked:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]
