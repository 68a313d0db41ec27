"""One number of the CA database — the last revocation id, the accounts' generation — asked
cheaply enough to ask before every cached answer or remembered login, and exactly across
processes (several `ca serve` workers share one database).

Reading such a number through SQLAlchemy costs about 100 us (a pooled connection, a compiled
SELECT, a result); here one dedicated driver connection asks:

- SQLite: `PRAGMA data_version`, which changes as soon as any other connection, in any process,
  commits (the watching connection never writes). Only then is the number read again. A change
  is seen by the first look after its commit; nothing else is needed.
- PostgreSQL (and any other database): the number itself, one short round trip on the
  dedicated connection (autocommit, so no snapshot is ever held).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy import Engine, Select
from sqlalchemy.exc import DBAPIError


class DatabaseWatch:
    """A whole number one SELECT reads (0 when it reads NULL or no row), looked at through one
    dedicated connection. Thread-safe; the connection is opened at the first look and again
    after a failure."""

    def __init__(self, engine: Engine, statement: Select[Any]) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._sql = statement.compile(
            dialect=engine.dialect, compile_kwargs={"literal_binds": True}
        ).string
        self._lock = threading.Lock()
        self._connection: Any = None
        self._version: Any = None  # SQLite's data_version when the number was read
        self._last = 0
        self._read = False  # whether _last was ever read

    @property
    def local(self) -> bool:
        """True when a look never waits on the network (SQLite: a read of the shared WAL
        index), so that it may be made on an event loop."""
        return self._sqlite

    def value(self) -> int:
        """The number as committed now."""
        with self._lock:
            return self._guarded_look()

    @property
    def last(self) -> int | None:
        """The number as last read, without asking (None before the first look): what a caller
        that asks later anyway may go by meanwhile."""
        return self._last if self._read else None

    def value_at_once(self) -> int | None:
        """The number, or None when another thread is looking right now."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            return self._guarded_look()
        finally:
            self._lock.release()

    def _guarded_look(self) -> int:
        error_type: type[Exception] = self._engine.dialect.loaded_dbapi.Error
        try:
            try:
                return self._look()
            except error_type:
                self._drop()  # a lost or broken connection: one more try on a new one
                return self._look()
        except error_type as error:
            self._drop()
            raise DBAPIError.instance(
                None, None, error, error_type, hide_parameters=True
            ) from error

    def _look(self) -> int:
        if self._connection is None:
            pooled = self._engine.raw_connection()
            pooled.detach()  # ours for good: never handed to another caller
            self._connection = pooled
            if not self._sqlite:
                pooled.dbapi_connection.rollback()  # type: ignore[union-attr]
                pooled.dbapi_connection.autocommit = True  # type: ignore[union-attr]
            self._version = None
        cursor = self._connection.cursor()
        try:
            if self._sqlite:
                cursor.execute("PRAGMA data_version")
                version = cursor.fetchall()[0][0]
                if version == self._version:
                    return self._last
            cursor.execute(self._sql)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if self._sqlite:
            self._version = version
        self._last = int(rows[0][0] or 0) if rows else 0
        self._read = True
        return self._last

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(self._engine.dialect.loaded_dbapi.Error):
                connection.close()

    def close(self) -> None:
        with self._lock:
            self._drop()


__all__ = ["DatabaseWatch"]
