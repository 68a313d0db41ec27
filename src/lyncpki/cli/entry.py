"""The `lyncpki` executable's entry point. A Ctrl-C at any moment ends with one line and exit
status 130 (as a shell reports an interrupted program), never a traceback: even while Python is
still importing the commands, before any of lyncpki's own handling exists.

What lyncpki creates is never writable by other users, whatever the umask it is started with:
see `never_writable_by_others`."""

from __future__ import annotations

import os
import sys

EXIT_INTERRUPTED = 130  # 128 + SIGINT
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
    try:
        from lyncpki.cli.main import main as run

        run()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
