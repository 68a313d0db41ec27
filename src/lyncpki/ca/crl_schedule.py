"""CRLs published again before they run out, while `ca serve` runs.

AD CS publishes its CRLs on a schedule. lyncpki published one only when asked (`ca crl`, a
revocation through the API or the console, a `deploy` run), and a delta CRL lasts a day, a full
CRL a week: a CA that revoked nothing for a day left every relying server with an expired delta
CRL, and a week later an expired full CRL — to Windows, "the revocation server was offline",
and a Lync server refuses the certificate (seed 004: every certificate's CDP must be reachable
and current).

Here a CRL that this home serves is published again once half of its life is gone (the delta's
12 hours of 24, the full CRL's 3.5 days of 7), or when it is missing or cannot be read: the CRL
served always has half its life ahead, and a relying server that cached the one before fetches
the next well before its nextUpdate. The issuing CA's full CRL comes with a fresh delta. The
root's CRL is published by a service that holds the root key (`ca serve --root-key`); one
without it says, once a day, when the root's CRL must be published on the CA's machine.
Publishing is what `ca crl` does (numbered by the database, written only when newer than the
file served), so several processes keeping one home never publish backwards.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path

from cryptography import x509

from lyncpki.ca.authority import CertificateAuthority
from lyncpki.errors import LyncPkiError

INTERVAL = 600.0  # seconds between two looks at the CRLs served
ACTOR = "ca serve (CRL schedule)"
ROOT_REMINDER = dt.timedelta(days=1)


def _life(path: Path) -> tuple[dt.datetime, dt.datetime] | None:
    """The thisUpdate and nextUpdate of the CRL file at `path`; None when there is none, or
    none that can be read."""
    try:
        crl = x509.load_der_x509_crl(path.read_bytes())
    except (OSError, ValueError):
        return None
    end = crl.next_update_utc
    return (crl.last_update_utc, end) if end is not None else None


def half_gone(life: tuple[dt.datetime, dt.datetime] | None, now: dt.datetime) -> bool:
    """Whether a CRL of that life (None: missing or unreadable) is past half of it at `now`."""
    if life is None:
        return True
    start, end = life
    return now >= start + (end - start) / 2


class CrlSchedule:
    """Looks at the CRLs a home serves every `interval` seconds (from a daemon thread, or by
    `check()`), publishes those due, and tells `report` what it did or could not do."""

    def __init__(
        self,
        ca: CertificateAuthority,
        report: Callable[[str], None],
        interval: float = INTERVAL,
    ) -> None:
        self.ca = ca
        self._report = report
        self._interval = interval
        self._reminded: dt.datetime | None = None

    def check(self) -> list[str]:
        """Publish what is due now; what was said about it (also given to `report`)."""
        ca, said = self.ca, []
        now = ca.clock.now()
        home, slug, root_slug = ca.home, ca.config.slug, ca.config.root_slug
        try:
            if half_gone(_life(home.crl_file(slug)), now):
                info = ca.publish_crl(actor=ACTOR)
                said.append(f"published CRL #{info.number} of {slug} and its delta")
            elif half_gone(_life(home.crl_file(slug, delta=True)), now):
                info = ca.publish_crl(actor=ACTOR, delta=True)
                said.append(f"published delta CRL #{info.number} of {slug}")
        except LyncPkiError as error:
            said.append(f"could not publish the CRL of {slug}: {error.message} ({error.fix})")
        root_life = _life(home.crl_file(root_slug))
        if half_gone(root_life, now):
            said += self._root(root_life, now)
        for line in said:
            self._report(line)
        return said

    def _root(self, life: tuple[dt.datetime, dt.datetime] | None, now: dt.datetime) -> list[str]:
        ca = self.ca
        if ca.root.key is None:  # offline, as it should be: said once a day
            if self._reminded is not None and now - self._reminded < ROOT_REMINDER:
                return []
            self._reminded = now
            when = f"it runs out {life[1]:%Y-%m-%d %H:%M} UTC" if life else "none is served"
            return [
                f"the root CA's CRL is past half its life ({when}): publish it on the CA's "
                "machine (lyncpki ca crl --root), or run ca serve --root-key"
            ]
        try:
            info = ca.publish_crl(actor=ACTOR, root=True)
        except LyncPkiError as error:
            return [f"could not publish the root CA's CRL: {error.message} ({error.fix})"]
        return [f"published CRL #{info.number} of {ca.config.root_slug}"]

    def start(self) -> None:
        """Check now and every interval from a daemon thread, for the life of the process."""
        threading.Thread(target=self._run, name="lyncpki-crl-schedule", daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                self.check()
            except Exception as error:  # never the end of the service: said, tried again
                self._report(f"the CRL schedule failed: {type(error).__name__}: {error}")
            time.sleep(self._interval)


__all__ = ["INTERVAL", "CrlSchedule", "half_gone"]
