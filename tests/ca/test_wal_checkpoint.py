"""The issuance path's WAL is checkpointed by a thread of its own, not by the committing writer
while it holds the writer gate: SQLite itself (a connection of the sqlite3 module, not ours)
finds every logged page already copied back once the writes stop, and the thread ends when
they do."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, insert, select

from lyncpki.ca import database as db
from lyncpki.ca import wal_checkpoint
from lyncpki.ca.driver_sql import DriverStatement, write_transaction

ROW = {"actor": "fe01", "action": "issue", "target": "x", "outcome": "ok", "detail": "-"}


def _alive() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "lyncpki-wal-checkpoint"]


def _wait(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_commits_are_checkpointed_off_the_write_path(tmp_path: Path) -> None:
    database = tmp_path / "ca.sqlite"
    engine = db.connect(f"sqlite:///{database}", create=True)
    with engine.connect() as conn:  # the committing writer's own threshold is a safety net
        pages = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert pages == wal_checkpoint.SAFETY_PAGES
    row = {**ROW, "at": dt.datetime.now(dt.UTC)}
    statement = DriverStatement(insert(db.audit), engine.dialect, tuple(row))
    for _ in range(300):  # each its own transaction, as single issuances are
        with write_transaction(engine) as cursor:
            statement.execute(cursor, row)
    checkpoints = wal_checkpoint.checkpointer(engine)
    assert checkpoints is not None
    assert _wait(lambda: checkpoints.checkpoints >= 1 and not _alive()), (
        "no checkpoint was made, or the thread did not end once the writes stopped"
    )
    sqlite = sqlite3.connect(database)
    try:
        busy, logged, copied = sqlite.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0
        assert logged > 0, "the writes went through the log"  # unless it was restarted
        assert copied == logged, f"{logged - copied} logged pages were never copied back"
        assert sqlite.execute("SELECT count(*) FROM audit").fetchone()[0] == 300
    finally:
        sqlite.close()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.audit)).scalar() == 300
    engine.dispose()


def test_no_checkpointer_for_postgresql_or_memory(postgres_url: str) -> None:
    memory = db.connect("sqlite://", create=True)
    server = db.connect(postgres_url)
    try:
        assert wal_checkpoint.checkpointer(memory) is None
        assert wal_checkpoint.checkpointer(server) is None
    finally:
        memory.dispose()
        server.dispose()


def test_a_removed_database_is_not_made_again(tmp_path: Path) -> None:
    """A home removed while the thread still has a checkpoint to make (a test's temporary
    folder, a CA folder deleted by hand): no empty database appears in its place."""
    database = tmp_path / "ca.sqlite"
    engine = db.connect(f"sqlite:///{database}", create=True)
    row = {**ROW, "at": dt.datetime.now(dt.UTC)}
    statement = DriverStatement(insert(db.audit), engine.dialect, tuple(row))
    with write_transaction(engine) as cursor:
        statement.execute(cursor, row)
    engine.dispose()
    for path in tmp_path.glob("ca.sqlite*"):
        path.unlink()
    assert _wait(lambda: not _alive()), "the thread did not end"
    assert not list(tmp_path.glob("ca.sqlite*")), list(tmp_path.iterdir())
