"""Staged rollover (Set-CsCertificate -Roll -EffectiveDate, R-CMD-SET, R-GEN-18): only the A/V
authentication and OAuthTokenIssuer certificates benefit from it, and each needs a lead time
before the certificate it replaces expires (A/V tokens live 8 hours, OAuth tokens 24)."""

from __future__ import annotations

import datetime as dt

from cryptography import x509

from lyncpki.checks.finding import Finding
from lyncpki.planning.model import Severity, Usage

LEAD = {Usage.AV_AUTH: dt.timedelta(hours=8), Usage.OAUTH: dt.timedelta(hours=24)}


def roll_findings(
    server: str,
    usage: str,
    effective: dt.datetime,
    new: x509.Certificate,
    current: x509.Certificate | None,
    now: dt.datetime,
) -> list[Finding]:
    subject = new.subject.rfc4514_string()

    def finding(fid: str, severity: Severity, message: str, fix: str) -> Finding:
        return Finding(fid, severity, server, usage, subject, message, fix, "R-CMD-SET")

    found: list[Finding] = []
    lead = LEAD.get(Usage(usage)) if usage in set(Usage) else None
    if lead is None:
        found.append(
            finding(
                "roll.usage",
                Severity.ERROR,
                f"{usage} does not roll: only AudioVideoAuthentication and OAuthTokenIssuer "
                "have a staged certificate (R-GEN-18)",
                "assign it without --roll",
            )
        )
    if effective <= now:
        found.append(
            finding(
                "roll.past",
                Severity.WARNING,
                f"the effective date {effective:%Y-%m-%d %H:%M} UTC has passed: the certificate "
                "becomes current at once",
                "give a future --effective-date to stage it",
            )
        )
    if not new.not_valid_before_utc <= effective <= new.not_valid_after_utc:
        found.append(
            finding(
                "roll.not-valid-then",
                Severity.ERROR,
                f"the new certificate is not valid on {effective:%Y-%m-%d %H:%M} UTC",
                "choose an effective date inside its validity",
            )
        )
    if lead is not None and current is None:
        found.append(
            finding(
                "roll.nothing-current",
                Severity.WARNING,
                f"no certificate is assigned to {usage} now: it stays unassigned until "
                f"{effective:%Y-%m-%d %H:%M} UTC",
                "assign this certificate without --roll (nothing is signed with a current one "
                "yet), or assign the current one first",
            )
        )
    if lead is not None and current is not None:
        expiry = current.not_valid_after_utc
        if expiry - effective < lead:
            hours = int(lead.total_seconds() // 3600)
            found.append(
                finding(
                    "roll.late",
                    Severity.ERROR,
                    f"the current certificate expires {expiry:%Y-%m-%d %H:%M} UTC, less than "
                    f"{hours} hours after the effective date: tokens signed before the switch "
                    "fail when it expires",
                    f"set --effective-date at least {hours} hours before "
                    f"{expiry:%Y-%m-%d %H:%M} UTC",
                )
            )
    return found
