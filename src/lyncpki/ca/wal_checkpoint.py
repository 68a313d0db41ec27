"""WAL checkpoints of a SQLite CA database, off the issuance path.

SQLite copies its write-ahead log back into the database file (a checkpoint, with an fsync of
each file) in the connection that commits when the log passes `wal_autocheckpoint` pages: an
issuance commits about seven pages, so one issuance in 140 paid for a checkpoint, and paid it
while holding the writer gate (see writer_gate), so that every other writer — the other
`ca serve` workers included — waited on those fsyncs too. Two processes issuing at once lost a
fifth of their throughput that way.

Here the issuance path only notes that it committed; a thread of this process checkpoints
(PASSIVE: it waits for no reader and no writer, and none waits for it) a few times a second
while commits come in, and ends when they stop. `wal_autocheckpoint` stays as a safety net at
`SAFETY_PAGES` (set with the other pragmas in `database`): the log of a process that writes only
by other paths is still bounded.
"""

from __future__ import annotations

import threading
import time
import weakref
from pathlib import Path

from sqlalchemy import Engine

from lyncpki.ca.sqlite_file import sqlite_file
from lyncpki.demand_thread import DemandThread

INTERVAL = 0.2  # seconds between checkpoints while commits come in
SAFETY_PAGES = 10_000  # wal_autocheckpoint: about 40 MiB of log at most


class Checkpointer:
    """Checkpoints one engine's SQLite database from its own thread while it is written."""

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)
        self._lock = threading.Lock()
        self._dirty = False
        self._thread = DemandThread(self._run, "lyncpki-wal-checkpoint")
        self.checkpoints = 0  # done by this process (tests read it)

    def committed(self) -> None:
        """Note a commit; the thread checkpoints within INTERVAL."""
        with self._lock:
            self._dirty = True
            self._thread.start_if_stopped()

    def _run(self) -> None:
        while True:
            time.sleep(INTERVAL)
            with self._lock:
                if not self._dirty:  # no commit since the last checkpoint: end
                    self._thread.stopping()
                    return
                self._dirty = False
            self._checkpoint()

    def _checkpoint(self) -> None:
        engine = self._engine()
        database = engine.url.database if engine is not None else None
        if engine is None or not database or not Path(database).exists():
            return  # gone (a removed home): connecting would make an empty database there
        try:
            connection = engine.raw_connection()
        except Exception:  # the database went away (a removed home): nothing to keep
            return
        try:
            cursor = connection.cursor()
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            cursor.fetchall()
            cursor.close()
            self.checkpoints += 1
        except Exception:  # busy or gone; the next commit asks again, the safety net stays
            pass
        finally:
            connection.close()


_checkpointers: weakref.WeakKeyDictionary[Engine, Checkpointer] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def checkpointer(engine: Engine) -> Checkpointer | None:
    """The checkpointer of a file SQLite engine; None for other databases."""
    if sqlite_file(engine) is None:
        return None
    found = _checkpointers.get(engine)
    if found is None:
        with _registry_lock:
            found = _checkpointers.get(engine)
            if found is None:
                found = _checkpointers[engine] = Checkpointer(engine)
    return found


__all__ = ["INTERVAL", "SAFETY_PAGES", "Checkpointer", "checkpointer"]
