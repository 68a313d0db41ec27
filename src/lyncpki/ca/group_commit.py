"""Group commit: the writes of concurrent callers stored in one transaction.

A CA issuing for many clients at once (the service's worker threads) would otherwise pay one
transaction per certificate. The first caller to arrive becomes the leader and stores what
every caller queued meanwhile in one call; the others wait for their share of the results.
A failing group is retried caller by caller, so one bad write never fails its neighbours.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(eq=False)
class _Entry(Generic[T, R]):
    items: Sequence[T]
    done: threading.Event = field(default_factory=threading.Event)
    results: list[R] = field(default_factory=list)
    error: BaseException | None = None


class GroupCommit(Generic[T, R]):
    """Runs `store(items) -> results (one per item)` for concurrent callers' items at once."""

    def __init__(self, store: Callable[[list[T]], list[R]]) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._queue: list[_Entry[T, R]] = []
        self._busy = False

    def run(self, items: Sequence[T]) -> list[R]:
        entry: _Entry[T, R] = _Entry(items)
        with self._lock:
            self._queue.append(entry)
            lead = not self._busy
            self._busy = True
        if lead:
            while True:
                with self._lock:
                    batch, self._queue = self._queue, []
                    if not batch:
                        self._busy = False
                        break
                self._run(batch)
        entry.done.wait()
        if entry.error is not None:
            raise entry.error
        return entry.results

    def _run(self, batch: list[_Entry[T, R]]) -> None:
        try:
            results = self._store([item for entry in batch for item in entry.items])
        except BaseException as error:
            if len(batch) == 1:
                batch[0].error = error
                batch[0].done.set()
                return
            for entry in batch:  # isolate the failure: each caller's writes on their own
                try:
                    entry.results = self._store(list(entry.items))
                except BaseException as own:
                    entry.error = own
                entry.done.set()
            return
        start = 0
        for entry in batch:
            entry.results = results[start : start + len(entry.items)]
            start += len(entry.items)
            entry.done.set()
