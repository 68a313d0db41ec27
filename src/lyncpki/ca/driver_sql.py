"""The issuance path's writes at the database driver's level: SQLAlchemy statements compiled
once for the engine's dialect and run on the driver's cursor, in a write transaction opened on
a pooled driver connection.

`Connection.execute` costs about 60 us per statement on top of the driver (events, compiled
cache lookup, execution context, result setup) and a transaction about 35 us more; an issuance
writes three rows. Here the SQL text is SQLAlchemy's own for the dialect (never written by
hand: it follows the Table definitions) and every value passes through the bind processor
SQLAlchemy would apply (SQLite's DATETIME text, the driver's binary type), so the rows are
exactly those `Connection.execute` writes. The transaction keeps the engine's semantics
(BEGIN IMMEDIATE on SQLite, see `database.begin_write`), and the driver's errors come out as
SQLAlchemy's (IntegrityError, OperationalError, ...).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

from sqlalchemy import Engine, Select, event
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.dml import UpdateBase

from lyncpki.ca import database as db
from lyncpki.ca.sqlite_file import sqlite_file
from lyncpki.ca.wal_checkpoint import checkpointer
from lyncpki.ca.writer_gate import writer_gate

_Processor = Callable[[Any], Any]


class DriverStatement:
    """A DML statement compiled once for `dialect`, run with rows given as mappings of `keys`
    (column names and bind parameter names). Binds the statement fixes itself (a literal in a
    WHERE clause) keep their values. (A SELECT with no `keys` gives its SQL and its bound
    values, `parameters({})`, to `driver_query`.)"""

    def __init__(
        self, statement: UpdateBase | Select[Any], dialect: Dialect, keys: Sequence[str]
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        self.sql = compiled.string
        self.positional = dialect.positional
        given = set(keys)
        names = list(compiled.positiontup or []) if dialect.positional else list(compiled.params)
        plan: list[tuple[str, str | None, _Processor | None, Any]] = []
        for name in names:
            bind = compiled.binds[name]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if name in given:
                plan.append((name, name, processor, None))
                continue
            value = compiled.params.get(name)
            if value is None or bind.required:
                raise ValueError(f"{name} has no value in {self.sql}")
            plan.append((name, None, None, processor(value) if processor else value))
        if missing := given - {key for _, key, _, _ in plan}:
            raise ValueError(f"{sorted(missing)} are not parameters of {self.sql}")
        self._plan = tuple(plan)

    def parameters(self, row: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """What the driver is given for `row`: a tuple (qmark, format) or a dict (pyformat)."""
        values = [
            constant if key is None else processor(row[key]) if processor else row[key]
            for _, key, processor, constant in self._plan
        ]
        if self.positional:
            return tuple(values)
        return dict(zip((name for name, _, _, _ in self._plan), values, strict=True))

    def execute(self, cursor: Any, row: Mapping[str, Any]) -> int:
        """Run for one row; the number of rows it changed."""
        cursor.execute(self.sql, self.parameters(row))
        count: int = cursor.rowcount
        return count

    def execute_many(self, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        if len(rows) == 1:
            cursor.execute(self.sql, self.parameters(rows[0]))
        elif rows:
            cursor.executemany(self.sql, [self.parameters(row) for row in rows])

    def returning_ids(self, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Run an INSERT ... RETURNING id for each row; the ids in the order of the rows."""
        if len(rows) > 1 and getattr(cursor, "nextset", None) and _pipelines(cursor):
            cursor.executemany(self.sql, [self.parameters(row) for row in rows], returning=True)
            ids = []
            while True:
                ids.append(int(cursor.fetchone()[0]))
                if not cursor.nextset():
                    break
            return ids
        ids = []
        for row in rows:
            cursor.execute(self.sql, self.parameters(row))
            ids.append(int(cursor.fetchone()[0]))
        return ids


def _pipelines(cursor: Any) -> bool:
    """psycopg 3: executemany(returning=True) sends the rows in one pipeline and keeps a
    result per row, in order."""
    return type(cursor).__module__.startswith("psycopg")


class HeldConnection:
    """A SQLite driver connection kept checked out for one serial writer (the group commit's
    leader: one transaction at a time), so that a transaction pays no pool checkout and return
    (SQLAlchemy's pool events and its reset on return, about 60 us an issuance). A connection
    an error left unusable is invalidated and replaced at the next transaction; a forked child
    makes its own. PostgreSQL keeps the pool and its pre-ping: a server can drop a connection
    that sat idle, a SQLite file cannot."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._pooled: PoolProxiedConnection | None = None
        self._pid = os.getpid()

    @contextmanager
    def checked_out(self) -> Iterator[PoolProxiedConnection]:
        with self._lock:
            if self._pid != os.getpid():  # the parent's connection is not this process's
                self._pid, self._pooled = os.getpid(), None
            if self._pooled is None or not self._pooled.is_valid:
                self._pooled = self._engine.raw_connection()
            yield self._pooled

    def close(self) -> None:
        """Close the connection (the engine's dispose calls this after closing its pool's)."""
        with self._lock:
            if self._pooled is not None and self._pid == os.getpid():
                self._pooled.detach()  # out of the pool, which is being replaced
                self._pooled.close()  # a detached connection is closed, not given back
            self._pooled = None


def held_connection(engine: Engine) -> HeldConnection | None:
    """A HeldConnection for a SQLite file database; None (use the pool) otherwise."""
    if sqlite_file(engine) is None:
        return None
    held = HeldConnection(engine)
    # closed with the engine's pool: its last connection then checkpoints and removes the log
    event.listen(engine, "engine_disposed", lambda _engine: held.close())
    return held


@contextmanager
def write_transaction(engine: Engine, held: HeldConnection | None = None) -> Iterator[Any]:
    """A write transaction on a driver connection (`held`'s, else one from the pool), given as
    a driver cursor: BEGIN IMMEDIATE on SQLite (as `database.writer`, behind the writer gate),
    committed when the block ends, rolled back when it raises. A driver error is raised as
    SQLAlchemy's (IntegrityError, OperationalError...); a connection the database dropped
    leaves the pool."""
    if held is None:
        with _pooled_transaction(engine, engine.raw_connection(), give_back=True) as cursor:
            yield cursor
        return
    with (
        held.checked_out() as pooled,
        _pooled_transaction(engine, pooled, give_back=False) as cursor,
    ):
        yield cursor


@contextmanager
def _pooled_transaction(
    engine: Engine, pooled: PoolProxiedConnection, *, give_back: bool
) -> Iterator[Any]:
    dialect = engine.dialect
    dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
    connection = pooled.dbapi_connection
    assert connection is not None
    cursor = connection.cursor()
    invalid = False
    checkpoints = checkpointer(engine)  # SQLite: the log is checkpointed off this path
    try:
        with writer_gate(engine):  # SQLite: processes take turns without sleeping
            try:
                db.begin_write(dialect, cursor)
                yield cursor
                connection.commit()
            except BaseException:
                try:
                    connection.rollback()
                except dbapi_error:
                    invalid = True
                raise
        if checkpoints is not None:
            checkpoints.committed()
    except BaseException as error:
        if not isinstance(error, dbapi_error):
            raise
        lost = dialect.is_disconnect(cast(Any, error), pooled, cursor)
        invalid = invalid or lost
        raise DBAPIError.instance(
            None,
            None,
            error,
            dbapi_error,
            hide_parameters=True,
            connection_invalidated=lost,
            dialect=dialect,
        ) from error
    finally:
        try:
            cursor.close()
        except dbapi_error:
            invalid = True
        if invalid:
            pooled.invalidate()  # a held connection: replaced at the next transaction
        if give_back:
            pooled.close()


__all__ = ["DriverStatement", "HeldConnection", "held_connection", "write_transaction"]
