"""Immediate requests against a real `lyncpki ca serve`: request -> issued -> installed ->
assigned for every usage of a Front End server of the example topology, judged by openssl;
a request held for approval, approved by a CA manager, then retrieved."""

from __future__ import annotations

import json
from pathlib import Path

from lab import ACCOUNTS, APPROVAL_TEMPLATE, CONTOSO, Lab, ok, openssl, sans_of

REQUESTER, (_, REQUESTER_PASSWORD) = "fe-requester", ACCOUNTS["fe-requester"]
MANAGER_PASSWORD = ACCOUNTS["ca-boss"][1]

# What REQUIREMENTS.md asks of fe01 in examples/contoso.yaml, written out by hand:
# R-FE-01 (+ automatic sign-in), R-FE-02 + R-MOB-01, R-FE-03 + R-MOB-02.
FE01 = {
    "Default": {"pool01.contoso.net", "fe01.contoso.net", "sip.contoso.com", "sip.fabrikam.com"},
    "WebServicesInternal": {
        "pool01.contoso.net",
        "fe01.contoso.net",
        "meet.contoso.com",
        "dialin.contoso.com",
        "admin.contoso.com",
        "lyncdiscoverinternal.contoso.com",
        "lyncdiscoverinternal.fabrikam.com",
    },
    "WebServicesExternal": {
        "webext.contoso.com",
        "meet.contoso.com",
        "dialin.contoso.com",
        "lyncdiscover.contoso.com",
        "lyncdiscover.fabrikam.com",
    },
}


def request(lab: Lab, *args: str) -> dict:  # type: ignore[type-arg]
    process = lab.cli(
        "request",
        "--topology",
        CONTOSO,
        "--ca",
        lab.url,
        "--ca-account",
        REQUESTER,
        "--json",
        *args,
        LYNCPKI_CA_PASSWORD=REQUESTER_PASSWORD,
    )
    return json.loads(ok(process).stdout)


def certs(lab: Lab, server: str) -> list[dict]:  # type: ignore[type-arg]
    document = json.loads(ok(lab.cli("certs", "--server", server, "--json")).stdout)
    return list(document["certificates"])


def test_every_front_end_usage_is_issued_installed_and_assigned(lab: Lab) -> None:
    result = request(lab, "--server", "fe01.contoso.net", "--assign")
    outcomes = {r["types"][0]: r for r in result["requests"]}
    assert set(outcomes) == set(FE01)
    for outcome in outcomes.values():
        assert outcome["status"] == "installed", outcome
        assert outcome["assignment"]["assigned"], outcome["assignment"]["findings"]
        assert outcome["assignment"]["planned_sans_checked"]
    rows = certs(lab, "fe01.contoso.net")
    assigned = {r["type"]: r for r in rows if r["state"] == "assigned"}
    assert set(assigned) == set(FE01)
    store = lab.home / "servers" / "fe01.contoso.net"
    root = lab.home / "ca" / "root.crt"
    issuing = lab.home / "ca" / "issuing.crt"
    for usage, names in FE01.items():
        cert = store / "certs" / f"{assigned[usage]['thumbprint']}.crt"
        assert "OK" in openssl("verify", "-CAfile", root, "-untrusted", issuing, cert)
        assert names <= sans_of(cert), f"{usage}: missing {names - sans_of(cert)}"
        purpose = openssl("x509", "-in", cert, "-noout", "-ext", "extendedKeyUsage")
        assert "TLS Web Server Authentication" in purpose
        # the private key in the store is the certificate's, and opens only with the passphrase
        key = store / "keys"
        modulus = openssl("x509", "-in", cert, "-noout", "-pubkey")
        matching = [
            k
            for k in key.iterdir()
            if openssl("pkey", "-in", k, "-passin", "pass:lab-passphrase-Qx7", "-pubout") == modulus
        ]
        assert len(matching) == 1
        assert (matching[0].stat().st_mode & 0o777) == 0o600
        refused = openssl("pkey", "-in", matching[0], "-passin", "pass:wrong", check=False)
        assert "PRIVATE KEY" not in refused.split("\n", 1)[0]
    # the chain became trusted in the server's store
    trusted = list((store / "trusted").iterdir())
    assert len(trusted) == 2


def test_a_request_held_for_approval_is_retrieved_once_approved(lab: Lab) -> None:
    request(lab, "--server", "med01.contoso.net")  # the CA's request ids run ahead of dir01's
    result = request(
        lab, "--server", "dir01.contoso.net", "--type", "Default", "--template", APPROVAL_TEMPLATE
    )
    (outcome,) = result["requests"]
    assert outcome["status"] == "pending"
    ca_id = outcome["ca_request_id"]
    rows = certs(lab, "dir01.contoso.net")
    assert [r["state"] for r in rows] == ["pending request"]
    # two numbers for one request: --retrieve takes the CA's, --clear the store's; the table
    # shows both, and each refusal says which is which
    local_id = rows[0]["request_id"]
    assert ca_id != local_id  # the CA issued others before
    table = lab.cli("certs", "--server", "dir01.contoso.net", COLUMNS="200")
    assert f"request {local_id}, CA request {ca_id}" in ok(table).stdout
    wrong = lab.cli("request", "--server", "dir01.contoso.net", "--retrieve", str(local_id))
    assert wrong.returncode == 2 and f"CA request {ca_id} (request {local_id} here)" in wrong.stderr
    wrong = lab.cli("request", "--server", "dir01.contoso.net", "--clear", str(ca_id))
    assert wrong.returncode == 2 and f"CA's id of its request {local_id}" in wrong.stderr
    ok(lab.cli("ca", "approve", str(ca_id)))
    fetched = lab.cli(
        "request",
        "--server",
        "dir01.contoso.net",
        "--retrieve",
        str(ca_id),
        "--json",
        LYNCPKI_CA_PASSWORD=REQUESTER_PASSWORD,
    )
    (got,) = json.loads(ok(fetched).stdout)["requests"]
    assert got["status"] == "installed"
    rows = certs(lab, "dir01.contoso.net")
    assert [r["state"] for r in rows] == ["unassigned"]
    assert rows[0]["thumbprint"] == got["thumbprint"]
    again = lab.cli("request", "--server", "dir01.contoso.net", "--retrieve", str(ca_id))
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert f"no pending request with CA request id {ca_id}" in again.stderr


def test_a_refused_request_leaves_nothing_pending(lab: Lab, tmp_path: Path) -> None:
    process = lab.cli(
        "request",
        "--topology",
        CONTOSO,
        "--server",
        "fe02.contoso.net",
        "--ca",
        lab.url,
        "--ca-account",
        REQUESTER,
        "--additional-san",
        "www.not-ours.example",
        LYNCPKI_CA_PASSWORD=REQUESTER_PASSWORD,
    )
    assert process.returncode == 2, process.stdout + process.stderr
    assert "not-ours.example" in process.stderr
    assert "Traceback" not in process.stderr
    assert certs(lab, "fe02.contoso.net") == []


def test_a_wrong_ca_password_is_a_clear_error(lab: Lab) -> None:
    process = lab.cli(
        "request",
        "--topology",
        CONTOSO,
        "--server",
        "edge02.contoso.net",
        "--ca",
        lab.url,
        "--ca-account",
        REQUESTER,
        LYNCPKI_CA_PASSWORD="not-the-password",
    )
    assert process.returncode == 2
    assert "refused" in process.stderr.lower() or "401" in process.stderr
    assert "not-the-password" not in process.stdout + process.stderr


def test_retrieve_with_assign_judges_against_the_topology_given(lab: Lab, tmp_path: Path) -> None:
    """`request --retrieve ID --assign -t FILE` passed the topology over ("no topology given,
    the planned SANs were not checked") and assigned a certificate missing planned SANs."""
    result = request(
        lab, "--server", "dir01.contoso.net", "--type", "Default", "--template", APPROVAL_TEMPLATE
    )
    (outcome,) = result["requests"]
    ca_id = outcome["ca_request_id"]
    ok(lab.cli("ca", "approve", str(ca_id)))
    grown = tmp_path / "grown.yaml"  # a SIP domain more: its lyncdiscoverinternal name is planned
    text = CONTOSO.read_text()
    assert "sip_domains: [contoso.com, fabrikam.com]" in text
    grown.write_text(
        text.replace("sip_domains: [contoso.com, fabrikam.com]",
                     "sip_domains: [contoso.com, fabrikam.com, contoso.net]")
    )  # fmt: skip
    fetched = lab.cli("request", "--server", "dir01.contoso.net", "--retrieve", str(ca_id),
                      "--assign", "-t", grown, "--json",
                      LYNCPKI_CA_PASSWORD=REQUESTER_PASSWORD)  # fmt: skip
    assert fetched.returncode == 1, fetched.stdout + fetched.stderr
    (got,) = json.loads(fetched.stdout)["requests"]
    assert got["status"] == "installed"
    assert got["assignment"]["planned_sans_checked"] and not got["assignment"]["assigned"]
    ids = {f["id"] for f in got["assignment"]["findings"]}
    assert "san.missing" in ids
    rows = certs(lab, "dir01.contoso.net")
    assert got["thumbprint"] in {r["thumbprint"] for r in rows if r["state"] == "unassigned"}


def test_what_was_issued_before_a_refusal_is_reported_and_assigned(
    lab: Lab, tmp_path: Path
) -> None:
    """The third certificate refused: the first two were issued and installed, yet never
    assigned (--assign) nor mentioned, text or JSON; each run left two more unassigned."""
    other = tmp_path / "other.yaml"
    other.write_text(CONTOSO.read_text().replace("webse.contoso.com", "webse.other.org"))
    process = lab.cli(
        "request", "--topology", other, "--server", "se01.contoso.net", "--ca", lab.url,
        "--ca-account", REQUESTER, "--assign", "--json",
        LYNCPKI_CA_PASSWORD=REQUESTER_PASSWORD,
    )  # fmt: skip
    assert process.returncode == 2, process.stdout + process.stderr
    document = json.loads(process.stdout)  # one document: what was done, and what stopped it
    assert "webse.other.org" in document["message"] and document["fix"]
    done = {tuple(r["types"]): r for r in document["requests"]}
    assert set(done) == {("Default",), ("WebServicesInternal",)}, done
    assert all(r["status"] == "installed" and r["assignment"]["assigned"] for r in done.values())
    rows = certs(lab, "se01.contoso.net")  # other tests of the lab may use se01 too
    states = {(r["type"], r["thumbprint"]): r["state"] for r in rows}
    for usage, made in done.items():
        assert states[usage[0], made["thumbprint"]] == "assigned", states
