"""Running rules: every rule of a table on a context, each problem a Finding. A rule that
crashes becomes an error finding of its own (`check.crashed`) instead of ending the run."""

from __future__ import annotations

from collections.abc import Iterable

from lyncpki.checks.certificate_rules import RULES, CertificateContext, Rule
from lyncpki.checks.finding import Finding, ordered
from lyncpki.planning.model import Severity


def _subject(ctx: CertificateContext) -> str:
    try:
        return ctx.certificate.subject.rfc4514_string()
    except ValueError:
        return "(unreadable subject)"


def check_certificate(
    ctx: CertificateContext, rules: Iterable[Rule] = RULES, *, skip: Iterable[str] = ()
) -> list[Finding]:
    """Every finding of `rules` (minus `skip`) on one certificate, errors first."""
    if skip:
        skipped = set(skip)
        rules = [rule for rule in rules if rule.id not in skipped]
    findings: list[Finding] = []
    for rule in rules:
        try:
            problems = rule.check(ctx)
        except Exception as error:  # a rule's bug must not hide the other rules' findings
            findings.append(
                Finding(
                    "check.crashed",
                    Severity.ERROR,
                    ctx.server,
                    ctx.usage,
                    _subject(ctx),
                    f"rule {rule.id} could not judge this certificate "
                    f"({type(error).__name__}: {error})",
                    "report this as a lyncpki bug, with the certificate",
                    rule.requirement,
                )
            )
            continue
        if not problems:  # most rules, most of the time: nothing more to do
            continue
        subject = _subject(ctx)
        findings.extend(
            Finding(
                rule.id,
                problem.severity or rule.severity,
                ctx.server,
                ctx.usage,
                subject,
                problem.message,
                problem.fix,
                rule.requirement,
            )
            for problem in problems
        )
    return ordered(findings) if findings else findings
