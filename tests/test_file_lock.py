"""The lock file of an exclusive lock may be removed by its holder (a failed `ca init` leaves
nothing behind): a process waiting for it then takes the file now at the path, so that two
processes never hold "the" lock at once."""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lyncpki.file_lock import exclusive


def test_a_waiter_relocks_when_the_holder_removed_the_file(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    inside: list[str] = []
    entered = threading.Event()

    def waiter() -> None:
        entered.set()
        with exclusive(lock):
            inside.append("waiter")
            time.sleep(0.2)
            inside.append("waiter done")

    with exclusive(lock):
        thread = threading.Thread(target=waiter)
        thread.start()
        entered.wait()
        time.sleep(0.2)  # the waiter blocks on the file about to be removed
        lock.unlink()
    time.sleep(0.05)
    with exclusive(lock):  # a newcomer: must not hold it while the waiter does
        inside.append("newcomer")
    thread.join()
    assert inside.index("newcomer") in (0, 2), inside
    assert inside in (
        ["waiter", "waiter done", "newcomer"],
        ["newcomer", "waiter", "waiter done"],
    )
    assert lock.exists()


def test_a_command_waiting_for_a_store_held_by_another_says_so(tmp_path: Path) -> None:
    """A store command waited in silence while another held the store's lock (as if hung)."""
    import fcntl
    import os
    import subprocess
    import sys

    from lab import CONTOSO, lab_env, ok, run_lyncpki

    home, server = tmp_path / "home", "med01.contoso.net"
    env = lab_env(LYNCPKI_STORE_PASSPHRASE="store-pass-phrase-42")
    ok(run_lyncpki("request", "--topology", CONTOSO, "--server", server, "--offline",
                   "--output", tmp_path / "med.req", "--home", home, env=env))  # fmt: skip
    lock = home / "servers" / server / ".lock"
    fd = os.open(lock, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another command holds the store
    try:
        waiting = subprocess.Popen(
            [sys.executable, "-m", "lyncpki", "request", "--server", server, "--clear", "1",
             "--home", str(home)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert waiting.stderr is not None
        said = waiting.stderr.readline()  # said while it waits, before the lock is free
        assert said.startswith("waiting: another lyncpki command holds") and ".lock" in said
        assert waiting.poll() is None
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    out, _ = waiting.communicate(timeout=60)
    assert waiting.returncode == 0 and "cleared pending request 1" in out, out


def test_threads_of_one_process_waiting_for_each_other_are_not_announced(tmp_path: Path) -> None:
    """deploy's own threads took turns at each store's lock, and each turn printed "another
    lyncpki command holds ..." (11 to 21 lines on every first deploy)."""
    from lyncpki import file_lock

    said: list[Path] = []
    file_lock.on_wait(said.append)
    try:
        lock = tmp_path / ".lock"
        waited = threading.Event()

        def second() -> None:
            waited.set()
            with exclusive(lock):
                pass

        with exclusive(lock):
            thread = threading.Thread(target=second)
            thread.start()
            waited.wait()
            time.sleep(0.2)  # the second thread is blocked on the lock this one holds
        thread.join()
        assert said == []
    finally:
        file_lock.on_wait(lambda path: None)


def _turns_at(lock: Path) -> int:
    """The threads of this process that hold or wait for their turn at `lock`."""
    from lyncpki import file_lock

    opened = lock.stat()
    turns = getattr(file_lock, "_turns", {}).get((opened.st_dev, opened.st_ino))
    return turns.users if turns is not None else 0


def _until(reached: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not reached():
        assert time.monotonic() < deadline, "not reached in 30 s"
        time.sleep(0.001)


def _race(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pause: Callable[[Callable[[], None]], None]
) -> list[Path]:
    """Two threads take one lock; the first is held at the point `pause` patches (it calls its
    argument there, in the first thread) while the second comes. What was announced."""
    from lyncpki import file_lock

    said: list[Path] = []
    monkeypatch.setattr(file_lock, "_notices", [said.append])
    lock = tmp_path / ".lock"
    lock.touch()
    paused, resume = threading.Event(), threading.Event()

    def hold() -> None:
        if threading.current_thread().name == "first":
            paused.set()
            assert resume.wait(30)

    pause(hold)

    def take() -> None:
        with exclusive(lock):
            pass

    first = threading.Thread(target=take, name="first")
    first.start()
    try:
        assert paused.wait(30)
        second = threading.Thread(target=take, name="second")
        second.start()
        _until(lambda: bool(said) or _turns_at(lock) == 2)  # announced, or waiting its turn
    finally:
        resume.set()
        first.join()
    second.join()
    return said


def test_a_thread_that_has_just_taken_the_lock_is_not_announced_as_another_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first thread holds the flock, not yet known as this process's: the second found the
    flock taken and no thread of its own holding it, and said "another lyncpki command holds"
    (seen once in a 400-server deploy)."""
    from lyncpki import file_lock

    still_named = file_lock._still_named

    def pause(hold: Callable[[], None]) -> None:
        def paused(fd: int, path: Path) -> bool:
            hold()  # just after the flock
            return still_named(fd, path)

        monkeypatch.setattr(file_lock, "_still_named", paused)

    assert _race(tmp_path, monkeypatch, pause) == []


def test_a_thread_releasing_the_lock_is_not_announced_as_another_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first thread no longer counted as holding it, its flock not yet released."""
    real_flock = fcntl.flock

    def pause(hold: Callable[[], None]) -> None:
        def flock(fd: int, operation: int) -> None:
            if operation == fcntl.LOCK_UN:
                hold()  # just before the flock is released
            real_flock(fd, operation)

        monkeypatch.setattr(fcntl, "flock", flock)

    assert _race(tmp_path, monkeypatch, pause) == []
