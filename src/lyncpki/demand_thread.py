"""A daemon thread started when work arrives, which ends by itself when it has none.

Its owner starts it under the owner's lock whenever it queues work, and the thread, under the
same lock, says it stops when it finds nothing left — so work is never queued with no thread
to take it. A forked child has none of its parent's threads: it starts its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable


class DemandThread:
    def __init__(self, target: Callable[[], None], name: str) -> None:
        self._target = target
        self._name = name
        self._running = False
        self._pid = os.getpid()

    def start_if_stopped(self) -> bool:
        """Start the thread unless it runs in this process; True when it was started. Call
        with the owner's lock held."""
        if self._pid != os.getpid():  # a forked child: the parent's thread is not here
            self._pid, self._running = os.getpid(), False
        if self._running:
            return False
        self._running = True
        threading.Thread(target=self._target, name=self._name, daemon=True).start()
        return True

    def stopping(self) -> None:
        """Said by the thread, with the owner's lock held, as it returns for want of work."""
        self._running = False


__all__ = ["DemandThread"]
