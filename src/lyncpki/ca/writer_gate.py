"""Processes writing one SQLite database take turns at a file lock before BEGIN IMMEDIATE.

SQLite lets one writer in at a time and makes the others poll: a BEGIN IMMEDIATE that finds
the write lock taken sleeps 1 ms, then 2, 5, 10 ms... (its busy handler) before it looks
again, although the writer ahead of it is done within 0.2 ms. Two `ca serve` workers issuing
at once spent most of their transactions asleep that way. Waiting at an exclusive `flock` on
`<database>-writer.lock` instead, a writer is woken by the kernel the moment the previous one
commits; BEGIN IMMEDIATE then finds the database free (or, if a writer that does not take the
gate holds it, waits as before). Nothing else changes: the transaction is SQLite's own.

PostgreSQL and in-memory databases need no gate.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Engine

from lyncpki.ca.sqlite_file import sqlite_file

_SUFFIX = "-writer.lock"


class WriterGate:
    """An exclusive lock on a file next to the database, shared by this process's threads."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._threads = threading.Lock()  # flock does not exclude threads of one process
        self._fd: int | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)  # waits without the GIL
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


_gates: dict[str, WriterGate] = {}
_gates_lock = threading.Lock()


def writer_gate(engine: Engine) -> AbstractContextManager[None]:
    """The gate of the engine's SQLite database file, held for the block; nothing otherwise."""
    database = sqlite_file(engine)
    if database is None:
        return nullcontext()
    gate = _gates.get(database)
    if gate is None:
        with _gates_lock:
            gate = _gates.get(database)
            if gate is None:
                gate = _gates[database] = WriterGate(f"{Path(database).resolve()}{_SUFFIX}")
    return gate.held()


__all__ = ["WriterGate", "writer_gate"]
