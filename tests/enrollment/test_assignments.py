"""Assignments through the command line: a staged A/V roll (Set-CsCertificate -Roll
-EffectiveDate) with its lead-time check, Get-CsCertificate's view, Remove-CsCertificate, and
refusals that are messages, never tracebacks."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

from lab import ACCOUNTS, CONTOSO, Lab, ok, openssl

EDGE = "edge01.contoso.net"
AV = "AudioVideoAuthentication"
PASSWORD = ACCOUNTS["fe-requester"][1]


def issue_av(lab: Lab, *more: str) -> str:
    process = lab.cli(
        "request",
        "--topology",
        CONTOSO,
        "--server",
        EDGE,
        "--type",
        AV,
        "--ca",
        lab.url,
        "--ca-account",
        "fe-requester",
        "--json",
        *more,
        LYNCPKI_CA_PASSWORD=PASSWORD,
    )
    (outcome,) = json.loads(ok(process).stdout)["requests"]
    assert outcome["status"] == "installed"
    return str(outcome["thumbprint"])


def rows(lab: Lab) -> list[dict]:  # type: ignore[type-arg]
    document = json.loads(ok(lab.cli("certs", "--server", EDGE, "--json")).stdout)
    return [r for r in document["certificates"] if r["type"] == AV]


def roll(lab: Lab, thumbprint: str, when: str, *more: str) -> subprocess.CompletedProcess[str]:
    return lab.cli(
        "assign",
        "--server",
        EDGE,
        "--type",
        AV,
        "--thumbprint",
        thumbprint,
        "--roll",
        "--effective-date",
        when,
        "--topology",
        CONTOSO,
        *more,
    )


def test_av_roll_is_staged_with_its_lead_time_checked(lab: Lab, tmp_path: Path) -> None:
    old = issue_av(lab, "--assign")
    new = issue_av(lab)
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(microsecond=0)
    ok(roll(lab, new, tomorrow.isoformat()))
    states = {r["state"]: r for r in rows(lab)}
    assert states["assigned"]["thumbprint"] == old
    assert states["staged"]["thumbprint"] == new
    assert dt.datetime.fromisoformat(states["staged"]["effective_date"]) == tomorrow
    # a roll whose effective date leaves under 8 hours before the old one expires is refused
    cert = lab.home / "servers" / EDGE / "certs" / f"{old}.crt"
    end = openssl("x509", "-in", cert, "-noout", "-enddate").strip().split("=", 1)[1]
    expiry = dt.datetime.strptime(end, "%b %d %H:%M:%S %Y GMT").replace(tzinfo=dt.UTC)
    late = (expiry - dt.timedelta(hours=2)).isoformat()
    process = roll(lab, new, late, "--json")
    assert process.returncode == 1
    result = json.loads(process.stdout)
    assert [f["id"] for f in result["findings"] if f["severity"] == "error"] == ["roll.late"]
    # a usage that does not roll is refused too
    process = lab.cli(
        "assign",
        "--server",
        EDGE,
        "--type",
        "Internal",
        "--thumbprint",
        new,
        "--roll",
        "--effective-date",
        tomorrow.isoformat(),
        "--json",
    )
    assert process.returncode == 1
    assert "roll.usage" in {f["id"] for f in json.loads(process.stdout)["findings"]}
    # Remove-CsCertificate: the current and staged assignment go, the certificates stay; the
    # staged one is said too (it went silently, reported as if only the current had gone)
    said = ok(lab.cli("remove", "--server", EDGE, "--type", AV)).stdout
    assert old in said and f"and the staged {new}" in said, said
    assert rows(lab) == []
    everything = json.loads(ok(lab.cli("certs", "--server", EDGE, "--json")).stdout)
    states = {r["thumbprint"]: r["state"] for r in everything["certificates"]}
    assert states[old] == states[new] == "unassigned"


def test_a_repeated_type_takes_every_usage_named(lab: Lab) -> None:
    """`assign`/`remove --type A --type B` kept only B (the help and the fixes say "comma-
    separated or repeated")."""
    thumb = issue_av(lab)
    both = ("--type", "AccessEdgeExternal", "--type", "DataEdgeExternal")
    ok(lab.cli("assign", "--server", EDGE, *both, "--thumbprint", thumb, "--force"))
    listed = json.loads(ok(lab.cli("certs", "--server", EDGE, "--json")).stdout)
    assigned = {r["type"] for r in listed["certificates"] if r["thumbprint"] == thumb}
    assert {"AccessEdgeExternal", "DataEdgeExternal"} <= assigned, assigned
    removed = json.loads(ok(lab.cli("remove", "--server", EDGE, *both, "--json")).stdout)
    assert [r["type"] for r in removed["removed"]] == ["AccessEdgeExternal", "DataEdgeExternal"]


def test_a_certificate_the_homes_ca_revoked_is_refused(lab: Lab) -> None:
    """`assign` took a certificate the home's own CA had revoked for key compromise; `check`
    then reported it revoked. The CA's database is at hand: the assignment says so first."""
    thumb = issue_av(lab)
    cert = lab.home / "servers" / EDGE / "certs" / f"{thumb}.crt"
    serial = openssl("x509", "-in", cert, "-noout", "-serial").strip().split("=")[1]
    ok(lab.cli("ca", "revoke", serial, "--reason", "keyCompromise"))
    refused = lab.cli("assign", "--server", EDGE, "--type", AV, "--thumbprint", thumb, "--json")
    assert refused.returncode == 1, refused.stderr
    result = json.loads(refused.stdout)
    (found,) = [f for f in result["findings"] if f["id"] == "cert.revoked"]
    assert "keyCompromise" in found["message"] and not result["assigned"]


def test_a_usage_the_topology_does_not_plan_there_is_refused_unless_forced(lab: Lab) -> None:
    """`assign --topology` put an Edge's A/V certificate on OAuthTokenIssuer (planned only in
    the global store) and said the planned SANs were checked; it is now an error naming what
    the server holds, which --force may override (the topology may lag the servers)."""
    thumb = issue_av(lab)
    args = ("assign", "--server", EDGE, "--type", "OAuthTokenIssuer", "--thumbprint", thumb,
            "--topology", CONTOSO, "--json")  # fmt: skip
    refused = lab.cli(*args)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    result = json.loads(refused.stdout)
    (unplanned,) = [f for f in result["findings"] if f["id"] == "usage.not-planned"]
    assert unplanned["severity"] == "error" and AV in unplanned["message"]
    assert not result["assigned"] and not result["planned_sans_checked"]
    forced = json.loads(ok(lab.cli(*args, "--force")).stdout)
    assert forced["assigned"] and forced["forced"]
    ok(lab.cli("remove", "--server", EDGE, "--type", "OAuthTokenIssuer"))


def test_force_does_not_stage_what_lync_cannot_roll(lab: Lab) -> None:
    """--force made a staged Internal (Edge) certificate, a state Lync has no such thing as: a
    roll of a usage that does not roll, or to a moment the certificate is not valid, stays
    refused. A roll where nothing is current is staged with a warning (the usage stays empty
    until then)."""
    thumb = issue_av(lab)
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(microsecond=0)
    process = lab.cli("assign", "--server", EDGE, "--type", "Internal", "--thumbprint", thumb,
                      "--roll", "--effective-date", tomorrow.isoformat(), "--force")  # fmt: skip
    assert process.returncode == 1, process.stdout + process.stderr
    assert "--force does not override roll.usage" in process.stdout
    far = (dt.datetime.now(dt.UTC) + dt.timedelta(days=4000)).isoformat()
    process = roll(lab, thumb, far, "--force", "--json")
    assert process.returncode == 1 and not json.loads(process.stdout)["assigned"]
    assert "roll.not-valid-then" in {f["id"] for f in json.loads(process.stdout)["findings"]}

    lab.cli("remove", "--server", EDGE, "--type", AV)  # nothing current (may be so already)
    staged = json.loads(ok(roll(lab, thumb, tomorrow.isoformat(), "--json")).stdout)
    assert staged["assigned"]
    warned = {f["id"]: f["severity"] for f in staged["findings"]}
    assert warned.get("roll.nothing-current") == "warning", warned
    ok(lab.cli("remove", "--server", EDGE, "--type", AV))


def test_mistakes_are_messages_not_tracebacks(lab: Lab, tmp_path: Path) -> None:
    cases = [
        (["request", "--topology", CONTOSO, "--server", "../../etc", "--offline"], "server"),
        (["request", "--topology", CONTOSO, "--server", "fe01.contoso.net"], "--ca URL"),
        (
            ["request", "--topology", CONTOSO, "--server", "nope.contoso.net", "--offline"],
            "no certificate",
        ),
        (
            [
                "request",
                "--topology",
                CONTOSO,
                "--server",
                "fe01.contoso.net",
                "--type",
                "Edgy",
                "--offline",
            ],
            "unknown certificate type",
        ),
        (
            [
                "request",
                "--topology",
                CONTOSO,
                "--server",
                "fe01.contoso.net",
                "--type",
                "AccessEdgeExternal",
                "--offline",
            ],
            "not planned for fe01.contoso.net",
        ),
        (  # no account: the fix names lyncpki's options, not "HTTP basic credentials"
            ["request", "--topology", CONTOSO, "--server", "med01.contoso.net", "--ca", lab.url],
            "--ca-account NAME",
        ),
        (
            [
                "export",
                "--server",
                EDGE,
                "--type",
                AV,
                "--thumbprint",
                "AB" * 20,
                "--pfx",
                tmp_path / "both.pfx",
            ],
            "not both",
        ),
        (["assign", "--server", EDGE, "--type", AV, "--thumbprint", "xyz"], "thumbprint"),
        (
            ["assign", "--server", EDGE, "--type", AV, "--thumbprint", "AB" * 20, "--roll"],
            "--effective-date",
        ),
        (["import", "--server", EDGE, tmp_path / "missing.cer"], "cannot read"),
        # an empty --type assigned to nothing, removed nothing, and said it had (exit 0)
        (["remove", "--server", EDGE, "--type", ""], "names no certificate type"),
        (["remove", "--server", EDGE, "--type", " , "], "names no certificate type"),
        (["assign", "--server", EDGE, "--type", ",", "--thumbprint", "AB" * 20], "names no"),
        # a usage the plan does not give the server and a thumbprint the store does not hold:
        # it said the store had lost or damaged that certificate's file
        (
            [
                "assign",
                "--server",
                EDGE,
                "--type",
                "WebServicesInternal",
                "--thumbprint",
                "11" * 20,
                "--topology",
                CONTOSO,
            ],
            "is not in the store of",
        ),
        (
            ["export", "--server", "never.contoso.net", "--type", AV, "--pfx", tmp_path / "x"],
            "no store",
        ),
    ]
    garbage = tmp_path / "garbage.cer"
    garbage.write_text(
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"
    )
    cases.append((["import", "--server", EDGE, garbage], "damaged"))
    for args, words in cases:
        process = lab.cli(*args)
        assert process.returncode == 2, (args, process.stdout, process.stderr)
        assert words in process.stderr, (args, process.stderr)
        assert "Traceback" not in process.stderr and "fix:" in process.stderr, process.stderr
    assert not (lab.home.parent / "etc").exists()
    assert sorted(p.name for p in (lab.home / "servers").iterdir() if ".." in p.name) == []


def test_help_explains_every_store_command(lab: Lab) -> None:
    for command, words in {
        "request": "Request-CsCertificate",
        "import": "Import-CsCertificate",
        "assign": "Set-CsCertificate",
        "certs": "Get-CsCertificate",
        "remove": "Remove-CsCertificate",
        "export": "PKCS#12",
    }.items():
        process = lab.cli(command, "--help")
        assert process.returncode == 0 and words in process.stdout, process.stdout
