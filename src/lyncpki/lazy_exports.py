"""A package's names imported from its modules when first used (PEP 562).

`lyncpki.topology` and `lyncpki.planning` export their models, loader and planner at the
package level; importing one small module of either (`lyncpki.topology.names`) used to run the
package's `__init__`, and with it pydantic's schema building for every model: 80 ms of every
command that never reads a topology."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, modules: dict[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """The module `__getattr__` of `package`: each name `modules` lists under a module
    (relative to the package) imported from it on first use, then kept in the package."""
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        vars(importlib.import_module(package))[name] = value
        return value

    return __getattr__
