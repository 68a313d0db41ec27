"""The HTML reports as a browser lays them out (Debian's chromium): a thumbprint, a serial or
a column header is never broken inside; the reports' tables used `overflow-wrap: anywhere`,
which let the browser shrink columns until "Action" read "Actio / n" and every thumbprint took
two lines."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from layout import assert_whole

from lyncpki.reports.deploy_html import render_deploy_html

SERVERS = ["fe01.contoso.net", "fe02.contoso.net", "dir01.contoso.net", "edge01.contoso.net"]
USAGES = ["default", "web-internal", "web-external", "edge-external"]


def _document() -> dict[str, Any]:
    actions = [
        {
            "server": server,
            "certificate": f"{server}/{usage}",
            "action": "issued",
            "thumbprint": secrets.token_hex(20).upper(),
            "detail": f"serial {secrets.token_hex(20)} (because: not deployed yet)",
        }
        for server in SERVERS
        for usage in USAGES
    ]
    proof = [
        {
            "client": client,
            "server": server,
            "sni": server,
            "version": "TLSv1.3",
            "expected": "accepted",
            "result": "accepted",
            "proved": True,
            "detail": "TLSv1.3: both sides verified, names checked",
        }
        for client in SERVERS
        for server in SERVERS[:2]
    ]
    return {
        "schema": "lyncpki.deploy/1",
        "topology": "contoso.yaml",
        "home": "demo-data",
        "passed": True,
        "summary": {
            "planned_certificates": len(actions),
            "kept": 0,
            "actions": {"issued": len(actions)},
            "errors": 0,
            "warnings": 0,
            "handshakes": len(proof),
            "handshakes_proved": len(proof),
        },
        "phases": {"plan": 0.01},
        "actions": actions,
        "proof": proof,
        "notes": [],
    }


@pytest.mark.external
@pytest.mark.parametrize("width", [1280, 1024])
def test_deploy_report_keeps_ids_and_headers_whole(
    browser: Any, tmp_path: Path, width: int
) -> None:
    page_file = tmp_path / "report.html"
    page_file.write_text(render_deploy_html(_document(), None), "utf-8")
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(page_file.as_uri())
        headers = page.query_selector_all("th")
        thumbprints = page.query_selector_all("#actions td.thumbprint")
        assert headers and len(thumbprints) == len(SERVERS) * len(USAGES)
        assert_whole(page, [*headers, *thumbprints], width)
        # and the table still fits the window: nothing pushed off to the right
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        page.close()


@pytest.mark.external
@pytest.mark.parametrize("width", [1280, 1920])  # 18 columns: a laptop's width at least
def test_plan_report_keeps_headers_whole_and_fits(browser: Any, tmp_path: Path, width: int) -> None:
    from lyncpki.planning.planner import plan
    from lyncpki.reports.plan_html import render_html
    from lyncpki.topology.loader import load_topology

    example = Path(__file__).resolve().parents[2] / "examples" / "contoso.yaml"
    page_file = tmp_path / "plan.html"
    page_file.write_text(render_html(plan(load_topology(example))), "utf-8")
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(page_file.as_uri())
        cells = page.query_selector_all("thead th")
        assert len(cells) > 20
        assert_whole(page, cells, width)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        page.close()


@pytest.mark.external
@pytest.mark.parametrize("width", [1280, 1024])
def test_check_report_keeps_ids_and_usages_whole(browser: Any, tmp_path: Path, width: int) -> None:
    import datetime as dt

    from lyncpki.checks.finding import Finding
    from lyncpki.checks.report import CheckReport
    from lyncpki.planning.model import Severity
    from lyncpki.reports.findings_html import render_findings_html

    findings = tuple(
        Finding(
            finding_id,
            Severity.WARNING,
            server,
            usage,
            "CN=pool01.contoso.net,OU=IT,O=Contoso Ltd,L=Redmond,ST=WA,C=US",
            "expires on 2028-11-30 (729 days left, within 1000)",
            "renew it now: request, import and assign its replacement",
            "R-GEN-13",
        )
        for server in SERVERS
        for usage in ("Default", "WebServicesInternal", "WebServicesExternal")
        for finding_id in ("cert.expiring", "san.missing")
    )
    report = CheckReport(findings, dt.datetime.now(dt.UTC), checked=tuple(SERVERS))
    page_file = tmp_path / "check.html"
    page_file.write_text(render_findings_html(report), "utf-8")
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(page_file.as_uri())
        cells = page.query_selector_all("#findings td.id") + page.query_selector_all(
            "#findings td.usage"
        )
        assert len(cells) == 2 * len(findings)
        assert_whole(page, [*page.query_selector_all("thead th"), *cells], width)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        page.close()
