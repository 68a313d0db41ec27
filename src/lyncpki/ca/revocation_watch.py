"""Whether anything was revoked since the last look, asked cheaply enough to ask before every
cached OCSP answer, and exactly across processes (several `ca serve` share one database).

The revocation generation is the last revocation id. Reading it through SQLAlchemy costs about
100 us (a pooled connection, a compiled SELECT, a result); here one dedicated driver connection
asks:

- SQLite: `PRAGMA data_version`, which changes as soon as any other connection, in any process,
  commits (the watching connection never writes). Only then is the last id read again. A
  revocation is seen by the first look after its commit; nothing else is needed.
- PostgreSQL (and any other database): the last id itself, one short round trip on the
  dedicated connection (autocommit, so no snapshot is ever held).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from lyncpki.ca import database as db

_LAST_REVOCATION = select(func.max(db.revocations.c.id))


class RevocationWatch:
    """The last revocation id of the CA database, read through one dedicated connection.
    Thread-safe; the connection is opened at the first look and again after a failure."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._sql = _LAST_REVOCATION.compile(dialect=engine.dialect).string
        self._lock = threading.Lock()
        self._connection: Any = None
        self._version: Any = None  # SQLite's data_version when the last id was read
        self._last = 0

    @property
    def local(self) -> bool:
        """True when a look never waits on the network (SQLite: a read of the shared WAL
        index), so that it may be made on an event loop."""
        return self._sqlite

    def last_revocation(self) -> int:
        """The last revocation id (0 before any)."""
        with self._lock:
            return self._guarded_look()

    def last_revocation_at_once(self) -> int | None:
        """The last revocation id, or None when another thread is looking right now."""
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
            last = cursor.fetchall()[0][0] or 0
        finally:
            cursor.close()
        if self._sqlite:
            self._version = version
        self._last = int(last)
        return self._last

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(self._engine.dialect.loaded_dbapi.Error):
                connection.close()

    def close(self) -> None:
        with self._lock:
            self._drop()


__all__ = ["RevocationWatch"]
