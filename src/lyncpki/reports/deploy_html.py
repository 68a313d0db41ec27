"""The deployment's report as one self-contained HTML file: verdict, what the run did, the
check's findings by server, then the live proof: the handshakes not as expected in full, every
kind of pair counted, and the handshakes as expected one by one, folded away (thousands at a
few hundred servers; report.json keeps each of them for scripts)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lyncpki.checks.report import CheckReport
from lyncpki.reports.plan_html import environment, moment


@dataclass
class _Kind:
    """The handshakes of one kind of pair ("edge/front_end"; "revoked/front_end"), counted."""

    kind: str
    expected: str
    count: int = 0
    proved: int = 0
    versions: Counter[str] = field(default_factory=Counter)
    client_names: set[str] = field(default_factory=set)
    server_names: set[str] = field(default_factory=set)

    @property
    def client(self) -> str:
        return _role(self.kind.partition("/")[0])

    @property
    def server(self) -> str:
        return _role(self.kind.partition("/")[2])

    @property
    def clients(self) -> int:
        return len(self.client_names)

    @property
    def servers(self) -> int:
        return len(self.server_names)


def _role(role: str) -> str:
    return role.replace("_", " ").capitalize() if role else "?"


def proof_kinds(proof: list[dict[str, Any]]) -> list[_Kind]:
    """The handshakes by kind of pair and expectation, in the order they first come."""
    kinds: dict[tuple[str, str], _Kind] = {}
    for h in proof:
        key = (h.get("kind") or "", h["expected"])
        kind = kinds.setdefault(key, _Kind(*key))
        kind.count += 1
        kind.proved += bool(h["proved"])
        kind.versions[h["version"]] += 1
        kind.client_names.add(h["client"])
        kind.server_names.add(h["server"])
    return list(kinds.values())


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
            unexpected=[h for h in document["proof"] if not h["proved"]],
            expected=[h for h in document["proof"] if h["proved"]],
            kinds=proof_kinds(document["proof"]),
        )
    )
