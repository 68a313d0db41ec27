"""Which engines write a SQLite file: the ones that need a writer gate, a checkpointing thread
and a held connection (PostgreSQL and in-memory SQLite need none of them)."""

from __future__ import annotations

from sqlalchemy import Engine


def sqlite_file(engine: Engine) -> str | None:
    """The file of the engine's SQLite database as its URL names it; None for another database
    or one in memory."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return database


__all__ = ["sqlite_file"]
