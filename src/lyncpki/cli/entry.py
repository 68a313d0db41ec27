"""The `lyncpki` executable's entry point. A Ctrl-C at any moment ends with one line and exit
status 130 (as a shell reports an interrupted program), never a traceback: even while Python is
still importing the commands, before any of lyncpki's own handling exists. SIGTERM (systemd
stop, `timeout`, a CI cancelling) and SIGHUP (the terminal closed) end it the same way, with
128 + the signal's number, after the clean-up a Ctrl-C runs (temporary files removed).

What lyncpki creates is never writable by other users, whatever the umask it is started with:
see `never_writable_by_others`."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

EXIT_INTERRUPTED = 130  # 128 + SIGINT
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Terminated(SystemExit):
    """A signal that ends the command (SIGTERM, SIGHUP), raised where the program is, so that
    every `finally` and `except BaseException` runs: a temporary file written beside an output
    (a whole .pfx, `.NAME.XXXX.tmp`) was left for good when Python died of the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


def _terminate(signum: int, _frame: FrameType | None) -> None:
    signal.signal(signum, signal.SIG_DFL)  # a second one ends it at once, clean-up or not
    raise Terminated(signum)


def end_cleanly_on_signals() -> None:
    """SIGTERM and SIGHUP raise Terminated; one ignored by whoever started lyncpki (nohup
    ignores SIGHUP) stays ignored."""
    for signum in ENDING_SIGNALS:
        if signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, _terminate)


NOT_WRITABLE_BY_OTHERS = 0o022


def never_writable_by_others() -> None:
    """Add group and other write to the process's umask (a stricter one is kept as it is).
    Under `umask 000` the home, servers/, publish/, proof/, a store's certs/ and trusted/ were
    made 0777 and serve.log 0666: another local user swapped the home's topology, replaced a
    server's store folder, deleted the published CRLs and wrote into the CA service's log.
    Not 077: what lyncpki publishes is for others to read (the CRLs and CA certificates under
    publish/, served to every client, and their folders; the reports), as under the usual
    022; the secrets are 0600/0700 by explicit modes whatever the umask (keys, stores,
    secrets/, ca/, the database, the log). The child processes (ca serve, the key makers)
    inherit it."""
    os.umask(os.umask(NOT_WRITABLE_BY_OTHERS) | NOT_WRITABLE_BY_OTHERS)


def main() -> None:
    never_writable_by_others()
    end_cleanly_on_signals()
    try:
        from lyncpki.cli.main import main as run

        run()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except Terminated as ended:
        print(f"terminated ({signal.Signals(ended.signum).name})", file=sys.stderr)
        sys.exit(ended.code)
