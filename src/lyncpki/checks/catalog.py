"""Every finding `check` can report, for `check --list-rules` and the README: the certificate
rules of the table, and the findings of the deployment, input and live checks."""

from __future__ import annotations

from dataclasses import dataclass

from lyncpki.checks.certificate_rules import NETWORK_RULES, RULES
from lyncpki.planning.model import Severity


@dataclass(frozen=True)
class RuleInfo:
    id: str
    severity: Severity
    requirement: str
    scope: str  # certificate | network | deployment | input | live
    title: str


_OTHERS = (
    RuleInfo(
        "cert.unassigned",
        Severity.ERROR,
        "R-CMD-SET",
        "deployment",
        "a planned usage has no certificate assigned on a server",
    ),
    RuleInfo(
        "store.unreadable",
        Severity.ERROR,
        "R-GEN-13",
        "deployment",
        "a server's store or one of its files cannot be read",
    ),
    RuleInfo(
        "key.mismatch",
        Severity.ERROR,
        "R-GEN-13",
        "deployment",
        "the stored private key is not the certificate's (--verify-keys)",
    ),
    RuleInfo(
        "av.not-identical",
        Severity.ERROR,
        "R-EDGE-02",
        "deployment",
        "the A/V authentication certificate differs across an Edge pool",
    ),
    RuleInfo(
        "pool.not-identical",
        Severity.ERROR,
        "R-EDGE-01",
        "deployment",
        "a pool's shared certificate differs across its servers",
    ),
    RuleInfo(
        "layout.combined",
        Severity.ERROR,
        "R-GEN-17",
        "deployment",
        "one certificate assigned to usages the plan keeps on separate certificates",
    ),
    RuleInfo(
        "oauth.not-global",
        Severity.ERROR,
        "R-OAUTH-01",
        "deployment",
        "a server assigns its own OAuthTokenIssuer instead of the global one",
    ),
    RuleInfo(
        "ca.template-approval",
        Severity.WARNING,
        "-",
        "deployment",
        "a template of the home CA grants OCSP signing or CA certificates without approval "
        "(held for approval all the same)",
    ),
    RuleInfo(
        "input.key-in-clear",
        Severity.WARNING,
        "R-GEN-12",
        "input",
        "a file given with --cert also holds a private key that is not encrypted",
    ),
    RuleInfo(
        "input.unreadable",
        Severity.ERROR,
        "R-GEN-13",
        "input",
        "a file given with --cert is no certificate (or is truncated)",
    ),
    RuleInfo(
        "check.crashed",
        Severity.ERROR,
        "-",
        "input",
        "a rule failed on a certificate (a lyncpki bug; the other rules still ran)",
    ),
    RuleInfo(
        "tls.handshake", Severity.ERROR, "R-GEN-13", "live", "no TLS handshake with an endpoint"
    ),
    RuleInfo(
        "tls.version",
        Severity.WARNING,
        "R-GEN-13",
        "live",
        "an endpoint refuses TLS 1.2 (a warning) or TLS 1.3 (a note: Lync 2013 has none)",
    ),
    RuleInfo(
        "tls.name-mismatch",
        Severity.ERROR,
        "R-GEN-07",
        "live",
        "the certificate presented does not name the SNI it was asked for",
    ),
    RuleInfo(
        "tls.chain-incomplete",
        Severity.ERROR,
        "R-GEN-13",
        "live",
        "an endpoint does not send its intermediate CA certificates",
    ),
    RuleInfo(
        "tls.untrusted",
        Severity.ERROR,
        "R-GEN-13",
        "live",
        "the chain presented does not reach a trusted root",
    ),
    RuleInfo(
        "mtls.refused",
        Severity.ERROR,
        "R-GEN-13",
        "live",
        "the endpoint refused the client certificate (mutual TLS)",
    ),
    RuleInfo(
        "mtls.not-requested",
        Severity.ERROR,
        "R-GEN-13",
        "live",
        "the endpoint never asked for the client certificate: no mutual TLS",
    ),
    RuleInfo(
        "tls.client-required",
        Severity.WARNING,
        "R-GEN-13",
        "live",
        "the endpoint requires a client certificate and none was given: mutual TLS not proven",
    ),
    RuleInfo(
        "tls.no-name",
        Severity.INFO,
        "R-GEN-07",
        "live",
        "an endpoint probed without a name (an address, no server): no name was checked",
    ),
    RuleInfo(
        "tls.unresolved",
        Severity.INFO,
        "-",
        "live",
        "a server's name does not resolve from here: give --endpoint",
    ),
)


def catalog() -> list[RuleInfo]:
    table = [
        RuleInfo(
            r.id,
            r.severity,
            r.requirement,
            "network" if r.id in NETWORK_RULES else "certificate",
            r.title,
        )
        for r in RULES
    ]
    return table + list(_OTHERS)
