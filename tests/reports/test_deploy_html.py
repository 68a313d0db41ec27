"""report.html of `deploy` listed every handshake, one row each, before the findings: 67,081
"accepted" rows (16.8 MB) to scroll past at 400 servers before the first warning. The
findings now come first; the live proof shows the handshakes not as expected in full, every
kind of pair counted, and the accepted ones one by one inside a folded <details>."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from lyncpki.checks.finding import Finding
from lyncpki.checks.report import CheckReport
from lyncpki.planning.model import Severity
from lyncpki.reports.deploy_html import render_deploy_html

FRONT = ["fe01.contoso.net", "fe02.contoso.net"]
EDGE = ["edge01.contoso.net", "edge02.contoso.net"]


def _shake(client: str, server: str, kind: str, **more: Any) -> dict[str, Any]:
    made = {
        "client": client,
        "server": server,
        "sni": server,
        "version": "TLSv1.3",
        "expected": "accepted",
        "result": "accepted",
        "proved": True,
        "detail": "TLSv1.3: both sides verified, names checked",
        "kind": kind,
    }
    return made | more


def _document() -> dict[str, Any]:
    proof = [
        _shake(FRONT[0], FRONT[1], "front_end/front_end"),
        _shake(FRONT[1], FRONT[0], "front_end/front_end"),
        _shake(FRONT[0], FRONT[1], "front_end/front_end", version="TLSv1.2"),
        *(_shake(e, f, "edge/front_end") for e, f in zip(EDGE, FRONT, strict=True)),
        _shake(
            FRONT[0],
            EDGE[1],
            "front_end/edge",
            result="refused",
            proved=False,
            detail="refused by the server: certificate revoked",
        ),
        _shake(FRONT[1], EDGE[0], "front_end/edge"),
        _shake(
            f"{FRONT[0]} (revoked)",
            FRONT[0],
            "revoked/front_end",
            expected="refused",
            result="refused",
            detail="certificate revoked",
        ),
    ]
    return {
        "schema": "lyncpki.deploy/1",
        "topology": "contoso.yaml",
        "home": "demo-data",
        "passed": False,
        "summary": {
            "planned_certificates": 1,
            "kept": 0,
            "actions": {},
            "errors": 0,
            "warnings": 1,
            "handshakes": len(proof),
            "handshakes_proved": len(proof) - 1,
        },
        "phases": {},
        "actions": [],
        "proof": proof,
        "notes": [],
    }


def _check() -> CheckReport:
    finding = Finding(
        "issuer.internal-public-name", Severity.WARNING, EDGE[0], "Default", "s", "m", "f", "r"
    )
    return CheckReport((finding,), dt.datetime.now(dt.UTC), checked=(*FRONT, *EDGE))


def test_the_findings_come_before_the_handshakes() -> None:
    html = render_deploy_html(_document(), _check())
    assert html.index('<section id="findings">') < html.index('<section id="proof">')
    assert "issuer.internal-public-name" in html


def test_what_failed_is_shown_whole_and_the_accepted_ones_are_folded_away() -> None:
    html = render_deploy_html(_document(), _check())
    failed = html[
        html.index('<table id="proof-failed">') : html.index(
            "</table>", html.index('<table id="proof-failed">')
        )
    ]
    assert "refused by the server: certificate revoked" in failed
    assert failed.count("<tr data-proved") == 1
    folded = html[html.index('<details id="proof-all">') : html.index("</details>")]
    assert folded.count('data-proved="true"') == 7  # the revoked one, refused: as expected
    assert html.count("data-proved=") == 8  # each handshake once
    assert "<details open" not in html


def test_every_kind_of_pair_is_counted() -> None:
    html = render_deploy_html(_document(), _check())
    rows = {
        kind: re.findall(r"<td[^>]*>([^<]*)</td>", row)
        for kind, row in re.findall(r'<tr data-kind="([^"]+)">(.*?)</tr>', html)
    }
    # client, server, expected, handshakes, TLS 1.3, TLS 1.2, as expected, clients, servers
    assert rows["front_end/front_end"] == [
        "Front end",
        "Front end",
        "accepted",
        "3",
        "2",
        "1",
        "3",
        "2",
        "2",
    ]
    assert rows["front_end/edge"] == ["Front end", "Edge", "accepted", "2", "2", "0", "1", "2", "2"]
    assert rows["edge/front_end"][3:7] == ["2", "2", "0", "2"]
    assert rows["revoked/front_end"][:4] == ["Revoked", "Front end", "refused", "1"]


def test_a_proof_without_failures_says_so() -> None:
    doc = _document()
    doc["proof"] = [h for h in doc["proof"] if h["proved"]]
    html = render_deploy_html(doc, _check())
    assert 'id="proof-failed"' not in html
    assert "Every handshake went as expected." in html
