"""Refusals anyone can cause before signing in, audited without letting them flood the log: one
row per kind of refusal an interval at most (a minute), whatever the sender chose to vary (a
name, an Origin), each row with the count of the refusals since the row before.

The append-only audit log took a row per refusal: a loop wrote hundreds of rows a second into
it, each with a name of its choice, and the rows that mattered were lost among them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool

AUDIT_EVERY = 60.0  # seconds between two audit rows of one kind

Audit = Callable[[str, str, str, str, str], None]  # actor, action, target, outcome, detail


class AuditThrottle:
    """At most one audit row of each kind (a fixed name the service chooses, never the
    sender's text) an interval; the ones not written are counted in the next."""

    def __init__(
        self,
        audit: Audit,
        clock: Callable[[], float] = time.monotonic,
        every: float = AUDIT_EVERY,
    ) -> None:
        self._audit = audit
        self._clock = clock
        self._every = every
        self._lock = threading.Lock()
        self._last_row: dict[str, float] = {}
        self._since: dict[str, int] = {}  # refusals since the last row of each kind, unwritten

    def due(self, kind: str) -> int | None:
        """The refusals of `kind` not audited yet when a row is due now, else None (this one
        counted for the next row)."""
        now = self._clock()
        with self._lock:
            last = self._last_row.get(kind)
            if last is not None and now - last < self._every:
                self._since[kind] = self._since.get(kind, 0) + 1
                return None
            since = self._since.pop(kind, 0)
            self._last_row[kind] = now
            return since

    async def refused(
        self, kind: str, actor: str, action: str, target: str, outcome: str, detail: str
    ) -> None:
        """Audit this refusal when a row of its kind is due (in a worker thread: the database),
        with the count of those not written since the last row."""
        since = self.due(kind)
        if since is None:
            return
        await run_in_threadpool(self._audit, actor, action, target, outcome, _more(detail, since))

    def refused_here(
        self, kind: str, actor: str, action: str, target: str, outcome: str, detail: str
    ) -> None:
        """`refused`, in the caller's own thread (one that may wait for the database)."""
        since = self.due(kind)
        if since is not None:
            self._audit(actor, action, target, outcome, _more(detail, since))


def _more(detail: str, since: int) -> str:
    return detail + (f" ({since} more since the last row)" if since else "")


__all__ = ["AUDIT_EVERY", "Audit", "AuditThrottle"]
