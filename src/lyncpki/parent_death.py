"""Child processes that end with the process that started them, even when it is killed (kill -9,
the OOM killer, a supervisor's stop timeout): Linux PR_SET_PDEATHSIG.

A child left behind keeps what it inherited: deploy's key makers its lock, `ca serve`'s workers
the CA's port (they went on serving, and the next `ca serve` was refused)."""

from __future__ import annotations

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int | None, signal_number: int = signal.SIGTERM) -> None:
    """In the child, first: `signal_number` is sent to it when its parent ends. `parent` (the
    pid the parent had) ends a child whose parent died before the signal was asked for (it
    would never come); None when the caller cannot tell (a preexec_fn runs before exec, when
    the parent is alive by construction)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal_number)
    except (OSError, AttributeError):  # not Linux: the check below still ends a late orphan
        pass
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signal_number)
