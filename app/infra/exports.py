"""Lazy package exports: a domain package lists what entry points may call without importing it all at once.

Importing one module of a domain (say `app.services.system.settings`) runs the package's
`__init__` first; if that imported every module of the domain, domains that use each other
would import in a circle. Here `__init__` declares its exports and each is imported on first use.
"""
from __future__ import annotations

import importlib
from typing import Callable


def lazy_exports(package: str, exports: dict[str, list[str]]) -> tuple[Callable, Callable, list[str]]:
    """(`__getattr__`, `__dir__`, `__all__`) for a package exporting {module: [names]}."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str):
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        globals_of_package = importlib.import_module(package).__dict__
        globals_of_package[name] = value          # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__, sorted(where)
