"""The lock file of an exclusive lock may be removed by its holder (a failed `ca init` leaves
nothing behind): a process waiting for it then takes the file now at the path, so that two
processes never hold "the" lock at once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

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
