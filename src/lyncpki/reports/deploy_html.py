"""The deployment's report as one self-contained HTML file: verdict, what the run did, the
live proof's handshakes, the check's findings by server."""

from __future__ import annotations

from typing import Any

from lyncpki.checks.report import CheckReport
from lyncpki.reports.plan_html import environment, moment


def render_deploy_html(document: dict[str, Any], check: CheckReport | None) -> str:
    summary = document["summary"]
    verdict = (
        "Deployed and proved" if document["passed"] else "Not done: see the errors below"
    ) + f" ({summary['errors']} error(s), {summary['warnings']} warning(s))"
    return (
        environment()
        .get_template("deploy.html.j2")
        .render(
            doc=document,
            verdict=verdict,
            generated=moment(check.generated) if check else "",
            groups=check.by_server() if check else [],
            handshakes=[],
        )
    )
