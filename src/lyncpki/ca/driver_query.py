"""A long read at the database driver's level: a SELECT compiled once for the engine's dialect
and run on the driver's cursor of the caller's transaction, its rows fetched in batches as the
driver gives them.

A full CRL reads every revocation of its CA: a million rows. Through `Connection.execute` each
row became a SQLAlchemy Row first (100,000 revocations: 0.41-0.43 s to read and make the CRL
entries, 0.35-0.36 s from the driver's rows, measured in one process, alternating). Here the
SQL is SQLAlchemy's own for the dialect (never written by hand) and the bound values pass
through the bind processors SQLAlchemy would apply (`driver_sql.DriverStatement`'s, which the
issuance's writes use). The rows are the driver's own: a column
whose values SQLAlchemy would convert has its `processor`, which the caller applies to the
values it uses (the same values as `Connection.execute` gives). On PostgreSQL the cursor is a
server-side one, so that the rows never sit in memory all at once (as with `yield_per`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.engine.interfaces import Dialect

from lyncpki.ca.driver_sql import DriverStatement

Processor = Callable[[Any], Any]
_cursor_names = itertools.count(1)


class DriverQuery:
    """`statement` compiled for `dialect`; `batches` runs it in a Connection's transaction."""

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        bound = DriverStatement(statement, dialect, ())  # its SQL; its values, bind-processed
        self.sql = bound.sql
        self.parameters = bound.parameters({})
        self._processors: list[Processor | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        ]
        self._server_side = dialect.name == "postgresql"

    def processor(self, index: int) -> Processor:
        """What turns the driver's value of column `index` into SQLAlchemy's."""
        return self._processors[index] or _same

    def batches(self, conn: Connection, size: int) -> Iterator[Sequence[tuple[Any, ...]]]:
        """The driver's rows, `size` at a time, read in the transaction `conn` is in."""
        driver: Any = conn.connection.dbapi_connection
        cursor = (
            driver.cursor(name=f"lyncpki_read_{next(_cursor_names)}")
            if self._server_side
            else driver.cursor()
        )
        try:
            cursor.execute(self.sql, self.parameters)
            while rows := cursor.fetchmany(size):
                yield rows
        finally:
            cursor.close()


def _same(value: Any) -> Any:
    return value


__all__ = ["DriverQuery", "Processor"]
