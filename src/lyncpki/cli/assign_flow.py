"""Checked assignment on the command line: the findings as a table, then what was done."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lyncpki.ca.home import CaHome
from lyncpki.cli.output import stdout
from lyncpki.cli.store_context import print_findings
from lyncpki.deployment.assignment import assign_checked as assign
from lyncpki.deployment.needs import Revoked
from lyncpki.errors import LyncPkiError
from lyncpki.planning import plan_file
from lyncpki.store import ServerStore


@contextlib.contextmanager
def _home_revocations(store: ServerStore) -> Iterator[Revoked | None]:
    """What the home's own CA revoked, read from its database (no passphrase needed); None
    when the home holds no CA (certificates from a CA service or another CA)."""
    ca_home = CaHome(store.home)
    if not ca_home.exists():
        yield None
        return
    # the CA's code (SQLAlchemy, 0.2 s) only for a home that holds a CA
    from lyncpki.ca.authority import CertificateAuthority
    from lyncpki.deployment.ca_setup import revoked_by

    try:
        ca = CertificateAuthority.open(ca_home, None)
    except LyncPkiError:  # a damaged CA is its own commands' refusal, not this one's
        yield None
        return
    try:
        yield revoked_by(ca)
    finally:
        ca.engine.dispose()


def assign_checked(
    store: ServerStore,
    usages: list[str],
    thumbprint: str,
    *,
    plan_path: Path | None,
    quiet: bool = False,
    force: bool = False,
    effective: dt.datetime | None = None,
) -> dict[str, Any]:
    """Check, then assign; say what happened unless `quiet`. The JSON-ready outcome."""
    plan = plan_file(plan_path) if plan_path else None
    with _home_revocations(store) as revoked:
        result = assign(
            store, usages, thumbprint, plan=plan, force=force, effective=effective, revoked=revoked
        )
    if not quiet:
        if result.findings:
            print_findings(list(result.findings))
        if plan is None:
            stdout.print(
                "note: no topology given, so the planned SANs were not checked", markup=False
            )
        names = ",".join(result.usages)
        if result.assigned:
            staged = f", effective {effective:%Y-%m-%d %H:%M} UTC" if effective else ""
            forced = " (forced over the errors above)" if result.forced else ""
            stdout.print(
                f"assigned {result.thumbprint} to {names} on {store.server}{staged}{forced}",
                markup=False,
            )
        else:
            kept = sorted({f.id for f in result.unforceable})
            how = (
                f"fix them; --force does not override {', '.join(kept)}"
                if kept
                else "fix them, or --force"
            )
            stdout.print(
                f"refused: {len(result.blocking)} error(s) above; {result.thumbprint} was not "
                f"assigned to {names} ({how})",
                markup=False,
            )
    return result.as_dict()
