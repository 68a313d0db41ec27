"""The `lyncpki` executable's entry point. A Ctrl-C at any moment ends with one line and exit
status 130 (as a shell reports an interrupted program), never a traceback: even while Python is
still importing the commands, before any of lyncpki's own handling exists."""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130  # 128 + SIGINT


def main() -> None:
    try:
        from lyncpki.cli.main import main as run

        run()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
