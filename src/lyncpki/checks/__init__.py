"""Checks: every Lync certificate requirement as a rule that returns findings (id, severity,
server, usage, subject, message, fix, requirement), never an exception."""

from lyncpki.checks.certificate_rules import RULES, CertificateContext, Rule
from lyncpki.checks.engine import check_certificate
from lyncpki.checks.finding import Finding, errors, ordered

__all__ = [
    "RULES",
    "CertificateContext",
    "Finding",
    "Rule",
    "check_certificate",
    "errors",
    "ordered",
]
