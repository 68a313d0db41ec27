"""The deploy's summary table scanned every handshake again for each server (and every action
and finding): 421 servers x 67,087 handshakes at 400 servers, seconds after the last bar. It
now indexes each list once; the table says the same."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from lyncpki.checks.finding import Finding
from lyncpki.checks.report import CheckReport
from lyncpki.cli import deploy_command
from lyncpki.deployment.deploy import DeployResult
from lyncpki.deployment.needs import Assessment
from lyncpki.deployment.proof import ProofHandshake
from lyncpki.deployment.runner import Done
from lyncpki.planning import plan
from lyncpki.planning.model import Severity
from lyncpki.topology import load_topology

SERVERS = ["fe01.contoso.net", "fe02.contoso.net", "se01.contoso.net", "dir01.contoso.net"]


class Counted(list[ProofHandshake]):
    """The proof's handshakes, counting how often they are gone through."""

    walks = 0

    def __iter__(self) -> Iterator[ProofHandshake]:
        Counted.walks += 1
        return super().__iter__()


def _result(contoso_yaml: Path) -> DeployResult:
    shakes = Counted(
        ProofHandshake(c, s, s, "TLSv1.3", True, ok=(c, s) != (SERVERS[2], SERVERS[3]))
        for c in SERVERS
        for s in SERVERS
        if c != s
    )
    shakes.append(
        ProofHandshake(f"{SERVERS[0]} (revoked)", SERVERS[1], SERVERS[1], "TLSv1.2", False)
    )
    finding = Finding("cert.expiring", Severity.WARNING, SERVERS[0], "Default", "", "", "", "")
    error = Finding("san.missing", Severity.ERROR, SERVERS[3], "Default", "", "", "", "")
    check = CheckReport((finding, error), dt.datetime.now(dt.UTC), checked=tuple(SERVERS))
    done = [Done(SERVERS[0], "fe01.contoso.net/default", "issued")]
    return DeployResult(
        "contoso.yaml",
        Path("home"),
        plan(load_topology(contoso_yaml)),
        Assessment((), ()),
        done,
        check,
        shakes,
    )


def test_the_summary_goes_through_the_handshakes_once_and_counts_each_server(
    contoso_yaml: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _result(contoso_yaml)
    monkeypatch.setattr(deploy_command.stdout, "width", 200)
    Counted.walks = 0
    deploy_command._print_summary(result, {}, Path("home"))
    assert Counted.walks <= 2  # the index, and the total on the last line (it was 1 + 2/server)
    rows = {
        line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("│")
    }
    # certs, done now, errors, warnings, handshakes (the revoked client counts for its server)
    assert rows[SERVERS[0]] == ["3", "1 issued", "0", "1", "6/6"]
    assert rows[SERVERS[1]] == ["3", "-", "0", "0", "7/7"]  # the revoked one refused: proved
    assert rows[SERVERS[2]] == ["3", "-", "0", "0", "5/6"]
    assert rows[SERVERS[3]] == ["3", "-", "1", "0", "5/6"]
