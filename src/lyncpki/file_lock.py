"""An exclusive lock held by a process on a lock file (flock): released when the process ends,
however it ends, so a killed holder never leaves a stale lock behind."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


class Busy(Exception):
    """Another process holds the lock (only with wait=False)."""


_notices: list[Callable[[Path], None]] = []
_held: dict[tuple[int, int], int] = {}  # (device, inode) -> holders in this process
_held_lock = threading.Lock()


def on_wait(notice: Callable[[Path], None]) -> None:
    """Call `notice(path)` when a lock is held by another process and this one waits for it:
    the command line says so (a store command waited in silence while another held it)."""
    _notices[:] = [notice]


@contextlib.contextmanager
def exclusive(path: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the lock on `path` (created 0600 when missing) for the `with` block. With
    `wait=False`, raise Busy at once when another process holds it. The lock is per open file:
    one process must not take the same lock twice.

    The holder may remove the lock file (a failed `ca init` leaves nothing behind): a process
    that was waiting then holds the lock of a removed file, sees that `path` no longer names
    it, and locks the file now there instead."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            opened = os.fstat(fd)
            file = (opened.st_dev, opened.st_ino)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    raise Busy(str(path)) from None
                with _held_lock:
                    ours = _held.get(file, 0) > 0  # a thread of this process: not another's
                if not ours:
                    for notice in _notices:
                        notice(path)
                fcntl.flock(fd, fcntl.LOCK_EX)
            if not _still_named(fd, path):
                fcntl.flock(fd, fcntl.LOCK_UN)
                continue
            with _held_lock:
                _held[file] = _held.get(file, 0) + 1
            try:
                yield
            finally:
                with _held_lock:
                    _held[file] -= 1
                    if not _held[file]:
                        del _held[file]
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
