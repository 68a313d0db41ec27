"""A check's findings as one self-contained HTML file (Jinja2, autoescaped): a verdict, the
findings grouped by server (each row `data-id="<finding id>"`), the handshakes made."""

from __future__ import annotations

from lyncpki.checks.report import SCHEMA, CheckReport
from lyncpki.reports.plan_html import environment, moment


def render_findings_html(report: CheckReport) -> str:
    data = report.as_dict()
    summary = data["summary"]
    verdict = ("Passed: no error" if report.passed else f"Failed: {summary['errors']} error(s)") + (
        f", {summary['warnings']} warning(s)" if summary["warnings"] else ""
    )
    return (
        environment()
        .get_template("findings.html.j2")
        .render(
            schema=SCHEMA,
            generated=moment(report.generated),
            topology=report.topology,
            offline=report.offline,
            days=report.days,
            passed=report.passed,
            verdict=verdict,
            checked=report.checked,
            errors=summary["errors"],
            warnings=summary["warnings"],
            groups=report.by_server(),
            handshakes=data["handshakes"],
            handshakes_ok=summary["handshakes_ok"],
            notes=report.notes,
        )
    )
