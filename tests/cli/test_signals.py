"""SIGTERM (systemd stop, `timeout`, a CI cancelling) or SIGHUP (the terminal closed) while a
command writes its output: the temporary file beside the output is removed, and the exit
status is 128 + the signal's number. Python died of the signal without running any clean-up:
`.NAME.XXXX.tmp` (a whole .pfx, for an export) stayed beside the output for good."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# lyncpki's own entry point, with the sync of a temporary file made slow (as strace's fault
# injection did in the report): the window in which the signal comes
SLOW_SYNC = """
import os, sys, time
from lyncpki.cli import entry
synced, ready = os.fsync, sys.argv[1]
def slow(fd):
    open(ready, "w").close()  # the temporary file is written: send the signal now
    time.sleep(60)
    synced(fd)
os.fsync = slow
sys.argv = ["lyncpki", *sys.argv[2:]]
entry.main()
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_writing_removes_the_temporary_file(tmp_path: Path, signum: int) -> None:
    out = tmp_path / "out"
    out.mkdir()
    ready = tmp_path / "ready"
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_SYNC, str(ready), "topology", "init",
         str(out / "topology.yaml")],
        stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("LYNCPKI_")},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert child.poll() is None and time.monotonic() < deadline, child.stderr
        time.sleep(0.05)
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")]  # the window is real
    child.send_signal(signum)
    _, said = child.communicate(timeout=30)
    assert child.returncode == 128 + signum, said
    assert "Traceback" not in said and signal.Signals(signum).name in said
    assert list(out.iterdir()) == []  # nor the temporary file, nor a half output


def test_a_signal_ignored_by_who_started_it_stays_ignored(tmp_path: Path) -> None:
    """nohup ignores SIGHUP: lyncpki keeps ignoring it."""
    child = subprocess.run(
        [sys.executable, "-c",
         "import signal; signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
         "from lyncpki.cli import entry; entry.end_cleanly_on_signals()\n"
         "print(signal.getsignal(signal.SIGHUP) == signal.SIG_IGN, "
         "signal.getsignal(signal.SIGTERM) is entry._terminate)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert child.stdout.split() == ["True", "True"]
