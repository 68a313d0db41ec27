"""`gc_paused`: the cyclic garbage collector held off for a batch that makes many short-lived,
acyclic objects.

`check` makes thousands of pyca extension objects, contexts and lists for each hundred
certificates, all freed by reference counting as soon as a certificate is judged; the
collector still ran every 700 allocations and, every hundredth time, walked the whole heap
(the plan, the stores' indexes): about a tenth of a 1,000-server check (bench/check.py).
Whatever cycles the batch leaves are collected once, when it ends."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic collector disabled (as it was before, afterwards)."""
    if not gc.isenabled():  # nested, or disabled by the caller: theirs to restore
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
