"""Checked assignment on the command line: the findings as a table, then what was done."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from lyncpki.cli.output import stdout
from lyncpki.cli.store_context import print_findings
from lyncpki.deployment.assignment import assign_checked as assign
from lyncpki.planning import plan_file
from lyncpki.store import ServerStore


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
    result = assign(store, usages, thumbprint, plan=plan, force=force, effective=effective)
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
