"""An exclusive lock held by a process on a lock file (flock): released when the process ends,
however it ends, so a killed holder never leaves a stale lock behind."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path


class Busy(Exception):
    """Another process (or another thread of this one) holds the lock (only with wait=False)."""


_notices: list[Callable[[Path], None]] = []


@dataclass
class _Turns:
    """The threads of this process that want one lock file: they take it in turns, one at a
    time, so that the flock a thread finds taken is always another process's."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    users: int = 0  # threads that hold or wait for the turn


_turns: dict[tuple[int, int], _Turns] = {}  # (device, inode) -> its turns in this process
_turns_lock = threading.Lock()


def _forget_turns() -> None:
    """In a forked child: the turns of its parent's other threads are none of its own (and a
    lock one of them held at the fork would never be released)."""
    global _turns_lock
    _turns.clear()
    _turns_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_turns)


def on_wait(notice: Callable[[Path], None]) -> None:
    """Call `notice(path)` when a lock is held by another process and this one waits for it:
    the command line says so (a store command waited in silence while another held it)."""
    _notices[:] = [notice]


@contextlib.contextmanager
def _turn(file: tuple[int, int], *, wait: bool, path: Path) -> Iterator[None]:
    """This thread's turn at the lock file `file` among the threads of this process: waited for
    in silence (or Busy at once without `wait`)."""
    with _turns_lock:
        turns = _turns.setdefault(file, _Turns())
        turns.users += 1
    try:
        if not turns.lock.acquire(blocking=wait):
            raise Busy(str(path))
        try:
            yield
        finally:
            turns.lock.release()
    finally:
        with _turns_lock:
            turns.users -= 1
            if not turns.users and _turns.get(file) is turns:  # not a parent's, after a fork
                del _turns[file]


@contextlib.contextmanager
def exclusive(path: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the lock on `path` (created 0600 when missing) for the `with` block. With
    `wait=False`, raise Busy at once when another process (or thread) holds it. A thread waits
    for another of its process in silence, for another process saying so (`on_wait`). The
    lock is per open file: one thread must not take the same lock twice.

    The holder may remove the lock file (a failed `ca init` leaves nothing behind): a process
    that was waiting then holds the lock of a removed file, sees that `path` no longer names
    it, and locks the file now there instead."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            opened = os.fstat(fd)
            # the flock is taken only in this thread's turn, and given back before the turn:
            # a thread that finds it taken knows that another process holds it
            with _turn((opened.st_dev, opened.st_ino), wait=wait, path=path):
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if not wait:
                        raise Busy(str(path)) from None
                    for notice in _notices:
                        notice(path)
                    fcntl.flock(fd, fcntl.LOCK_EX)
                if not _still_named(fd, path):
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    continue
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                return
        finally:
            os.close(fd)


def _still_named(fd: int, path: Path) -> bool:
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


__all__ = ["Busy", "exclusive", "on_wait"]
