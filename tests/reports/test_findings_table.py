"""A check's findings in the terminal: a table (or records) for each server with findings, one
line for all the servers without."""

from __future__ import annotations

import datetime as dt
import io

from rich.console import Console

from lyncpki.checks.finding import Finding
from lyncpki.checks.report import CheckReport
from lyncpki.planning.model import Severity
from lyncpki.reports.findings_table import print_findings


def test_clean_servers_share_one_line() -> None:
    servers = tuple(f"fe{n:02d}.contoso.net" for n in range(1, 31))
    finding = Finding(
        "cert.expiring",
        Severity.WARNING,
        servers[4],
        "Default",
        "CN=pool01.contoso.net",
        "expires on 2027-01-01",
        "renew it now",
        "R-GEN-13",
    )
    out = io.StringIO()
    print_findings(
        CheckReport((finding,), dt.datetime.now(dt.UTC), checked=servers),
        Console(file=out, width=120, color_system=None, soft_wrap=True),  # as the CLI's
    )
    text = out.getvalue()
    clean = [line for line in text.splitlines() if "no finding" in line]
    assert len(clean) == 1 and "no finding on 29 of 30" in clean[0]
    assert all(s in clean[0] for s in servers if s != servers[4])
    assert servers[4] not in clean[0] and "cert.expiring" in text
