"""`lyncpki check` on a whole deployment made through the command line against a live CA
service: a clean deployment yields no finding, and openssl agrees certificate by certificate;
then each deployment-level problem is made and found; then a revocation is found by CRL and
OCSP, and openssl agrees again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lab import ACCOUNTS, Lab, ok, openssl, run_lyncpki

PASSWORD = ACCOUNTS["fe-requester"][1]
SERVERS = ("fe01.contoso.net", "fe02.contoso.net", "se01.contoso.net", "dir01.contoso.net",
           "med01.contoso.net", "pchat01.contoso.net", "edge01.contoso.net",
           "webext.contoso.com", "global")  # fmt: skip
EDGE_SHARED = ("AccessEdgeExternal", "DataEdgeExternal", "AudioVideoAuthentication", "Internal")


def request(lab: Lab, topology: Path, server: str, *more: str) -> list[dict]:  # type: ignore[type-arg]
    process = lab.cli(
        "request",
        "--topology",
        topology,
        "--server",
        server,
        "--ca",
        lab.url,
        "--ca-account",
        "fe-requester",
        "--assign",
        "--json",
        *more,
        LYNCPKI_CA_PASSWORD=PASSWORD,
    )
    return list(json.loads(ok(process).stdout)["requests"])


def check(lab: Lab, topology: Path, *more: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    process = lab.cli("check", "--topology", topology, "--format", "json", *more)
    assert process.returncode in (0, 1), process.stderr
    assert "Traceback" not in process.stderr
    return process.returncode, json.loads(process.stdout)


def assigned(lab: Lab, server: str) -> dict[str, str]:
    rows = json.loads(ok(lab.cli("certs", "--server", server, "--json")).stdout)
    return {r["type"]: r["thumbprint"] for r in rows["certificates"] if r["state"] == "assigned"}


def openssl_verify(lab: Lab, cert: Path, crl: Path) -> str:
    return openssl(
        "verify",
        "-crl_check",
        "-CAfile",
        lab.home / "ca" / "root.crt",
        "-untrusted",
        lab.home / "ca" / "issuing.crt",
        "-CRLfile",
        crl,
        cert,
        check=False,
    )


@pytest.fixture(scope="module")
def deployed(check_lab: Lab, internal_topology: Path) -> Lab:
    """Every planned certificate requested, issued, installed and assigned; the Edge pool's
    certificates exported from edge01 and imported and assigned on edge02."""
    lab = check_lab
    for server in SERVERS:
        request(lab, internal_topology, server)
    pfx_env = {"LYNCPKI_PFX_PASSWORD": "pool-pfx-password"}
    for usage, thumbprint in assigned(lab, "edge01.contoso.net").items():
        if usage == "DataEdgeExternal" or usage == "AudioVideoAuthentication":
            continue  # the same certificate as AccessEdgeExternal
        pfx = lab.work / f"edge-{usage}.pfx"
        ok(
            lab.cli(
                "export",
                "--server",
                "edge01.contoso.net",
                "--thumbprint",
                thumbprint,
                "--pfx",
                pfx,
                **pfx_env,
            )
        )
        ok(lab.cli("import", "--server", "edge02.contoso.net", pfx, **pfx_env))
        types = (
            "AccessEdgeExternal,DataEdgeExternal,AudioVideoAuthentication"
            if (usage == "AccessEdgeExternal")
            else usage
        )
        ok(
            lab.cli(
                "assign",
                "--server",
                "edge02.contoso.net",
                "--type",
                types,
                "--thumbprint",
                thumbprint,
                "--topology",
                internal_topology,
            )
        )
    ok(lab.cli("ca", "crl"))
    return lab


def test_a_clean_deployment_has_no_finding_and_openssl_agrees(
    deployed: Lab, internal_topology: Path
) -> None:
    code, report = check(deployed, internal_topology)
    assert report["schema"] == "lyncpki.findings/1"
    assert report["findings"] == [], report["findings"]
    assert code == 0 and report["summary"]["passed"] and not report["offline"]
    assert set(SERVERS) | {"edge02.contoso.net"} <= set(report["checked"])
    # every certificate our check passes, openssl verify -crl_check passes too
    crl = deployed.home / "publish" / "crl" / "lyncpki-issuing-ca.crl.pem"
    count = 0
    for server in (*SERVERS, "edge02.contoso.net"):
        for thumbprint in set(assigned(deployed, server).values()):
            cert = deployed.home / "servers" / server / "certs" / f"{thumbprint}.crt"
            assert openssl_verify(deployed, cert, crl).strip().endswith("OK"), cert
            count += 1
    assert count >= 16


def test_a_store_whose_trusted_files_are_gone_fails_the_full_check(
    deployed: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    """The trusted CA certificates, the same in most stores, were read from the first store
    only: another store's removed files passed the full check and failed `check -s` alone."""
    server = SERVERS[-1]
    trusted = deployed.home / "servers" / server / "trusted"
    aside = tmp_path / "aside"
    shutil.move(trusted, aside)
    trusted.mkdir()
    try:
        code, report = check(deployed, internal_topology)
    finally:
        shutil.rmtree(trusted)
        shutil.move(aside, trusted)
    found = [f for f in report["findings"] if f["server"] == server]
    assert code == 1 and [f["id"] for f in found] == ["store.unreadable"], found
    assert not [f for f in report["findings"] if f["server"] != server]


def test_pool_and_oauth_consistency_are_checked(deployed: Lab, internal_topology: Path) -> None:
    # edge02 gets an A/V certificate of its own; fe01 assigns a local OAuthTokenIssuer
    request(deployed, internal_topology, "edge02.contoso.net", "--type", "AudioVideoAuthentication")
    request(
        deployed,
        internal_topology,
        "fe01.contoso.net",
        "--type",
        "Default",
        "--friendly-name",
        "spare",
    )
    spare = assigned(deployed, "fe01.contoso.net")["Default"]
    ok(
        deployed.cli(
            "assign",
            "--server",
            "fe01.contoso.net",
            "--type",
            "OAuthTokenIssuer",
            "--thumbprint",
            spare,
            "--force",
        )
    )
    code, report = check(deployed, internal_topology, "--offline")
    ids = {(f["id"], f["server"]) for f in report["findings"]}
    assert code == 1
    assert ("av.not-identical", "edge01.contoso.net") in ids
    assert ("av.not-identical", "edge02.contoso.net") in ids
    assert ("oauth.not-global", "fe01.contoso.net") in ids
    assert {i for i, _ in ids} == {"av.not-identical", "oauth.not-global"}
    # one member checked alone is still compared with the others of its pool (it passed)
    code, alone = check(deployed, internal_topology, "--offline", "--server", "edge01.contoso.net")
    assert code == 1
    assert {(f["id"], f["server"]) for f in alone["findings"]} == {
        ("av.not-identical", "edge01.contoso.net")
    }
    # put things back, and an unassigned usage is an error with its own id
    ok(deployed.cli("remove", "--server", "fe01.contoso.net", "--type", "OAuthTokenIssuer"))
    ok(
        deployed.cli(
            "remove", "--server", "edge02.contoso.net", "--type", "AudioVideoAuthentication"
        )
    )
    code, report = check(deployed, internal_topology, "--offline")
    assert [(f["id"], f["server"], f["usage"]) for f in report["findings"]] == [
        ("cert.unassigned", "edge02.contoso.net", "AudioVideoAuthentication")
    ]
    edge01 = assigned(deployed, "edge01.contoso.net")["AudioVideoAuthentication"]
    ok(
        deployed.cli(
            "assign",
            "--server",
            "edge02.contoso.net",
            "--type",
            "AudioVideoAuthentication",
            "--thumbprint",
            edge01,
        )
    )


def test_a_revocation_is_found_by_crl_and_ocsp_and_openssl_agrees(
    deployed: Lab, internal_topology: Path
) -> None:
    thumbprint = assigned(deployed, "med01.contoso.net")["Default"]
    cert = deployed.home / "servers" / "med01.contoso.net" / "certs" / f"{thumbprint}.crt"
    serial = openssl("x509", "-in", cert, "-noout", "-serial").strip().split("=", 1)[1]
    ok(deployed.cli("ca", "revoke", serial, "--reason", "keyCompromise"))
    ok(deployed.cli("ca", "crl"))
    code, report = check(deployed, internal_topology, "--server", "med01.contoso.net")
    assert code == 1
    found = {f["id"]: f["message"] for f in report["findings"]}
    assert set(found) == {"cert.revoked", "ocsp.revoked"}, found
    assert "keyCompromise" in found["ocsp.revoked"]
    crl = deployed.home / "publish" / "crl" / "lyncpki-issuing-ca.crl.pem"
    assert "certificate revoked" in openssl_verify(deployed, cert, crl)
    # offline, the revocation is not seen (and the report says it was offline)
    code, report = check(deployed, internal_topology, "--server", "med01.contoso.net", "--offline")
    assert code == 0 and report["offline"]


def test_reports_in_html_and_the_rule_list(deployed: Lab, internal_topology: Path) -> None:
    from html.parser import HTMLParser

    out = deployed.work / "check.html"
    process = deployed.cli(
        "check",
        "--topology",
        internal_topology,
        "--offline",
        "--format",
        "html",
        "--output",
        out,
        "--server",
        "fe01.contoso.net",
        "--server",
        "med01.contoso.net",
    )
    assert process.returncode == 0, process.stderr

    class Rows(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.verdict: str | None = None
            self.tables: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            values = dict(attrs)
            if "data-verdict" in values:
                self.verdict = values["data-verdict"]
            if tag == "table" and "data-server" in values:
                self.tables.append(str(values["data-server"]))

    rows = Rows()
    rows.feed(out.read_text())
    assert rows.verdict == "passed"
    listing = ok(deployed.cli("check", "--list-rules", "--json"))
    ids = {r["id"] for r in json.loads(listing.stdout)}
    assert {
        "san.missing",
        "cert.revoked",
        "ocsp.revoked",
        "av.not-identical",
        "oauth.not-global",
        "tls.name-mismatch",
        "mtls.refused",
        "input.unreadable",
        "chain.incomplete",
        "crl.expired",
        "cdp.unreachable",
    } <= ids


def test_the_report_never_replaces_what_it_judged_and_json_stays_json(
    deployed: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    """`check -o topology.yaml` wrote the findings over the topology (and `-o X.crt` over the
    --cert file), exit 0; with --json, errors went to stderr with nothing on stdout, and `-o`
    said what it wrote in plain text (found by an exploratory test)."""
    topology = tmp_path / "topology.yaml"
    topology.write_bytes(internal_topology.read_bytes())
    cert = tmp_path / "issuing.crt"
    cert.write_bytes((deployed.home / "ca" / "issuing.crt").read_bytes())
    kept = {topology: topology.read_bytes(), cert: cert.read_bytes()}
    asked = ("check", "--topology", topology, "--offline", "--server", "med01.contoso.net")
    for output, label in ((topology, "the topology file"), (cert, "a --cert file")):
        refused = deployed.cli(*asked, "--cert", cert, "--output", output, "--json")
        assert refused.returncode == 2, refused.stderr
        assert label in json.loads(refused.stdout)["message"]
    assert {path: path.read_bytes() for path in kept} == kept
    unknown = deployed.cli(*asked[:-1], "nosuch.contoso.net", "--json")
    assert unknown.returncode == 2 and "nosuch.contoso.net" in json.loads(unknown.stdout)["message"]
    written = deployed.cli(*asked, "--json", "--output", tmp_path / "r.json")
    said = json.loads(ok(written).stdout)
    assert said["written"] == str(tmp_path / "r.json") and said["passed"] is True
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["schema"] == "lyncpki.findings/1"
    # a revoked certificate passes an offline check: the report says revocation was not checked
    assert any(n.startswith("revocation was not checked") for n in report["notes"])


def test_a_damaged_home_root_is_named_not_an_internal_error(
    deployed: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / "ca").mkdir(parents=True)
    (home / "ca" / "root.crt").write_text("garbage\n")
    process = run_lyncpki("check", "--cert", deployed.home / "ca" / "issuing.crt", "--offline",
                          "--json", "--home", home)  # fmt: skip
    assert process.returncode == 2, process.stderr
    said = json.loads(process.stdout)
    assert "root certificate" in said["message"] and "root.crt" in said["message"]
    assert "internal error" not in process.stderr


def test_broken_files_are_findings(deployed: Lab, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.pem"
    good = deployed.home / "ca" / "issuing.crt"
    truncated.write_text(good.read_text()[:300])
    text = tmp_path / "notes.txt"
    text.write_text("this is not a certificate\n")
    process = deployed.cli(
        "check",
        "--cert",
        truncated,
        "--cert",
        text,
        "--cert",
        tmp_path / "missing.cer",
        "--format",
        "json",
        "--offline",
    )
    assert process.returncode == 1 and "Traceback" not in process.stderr
    report = json.loads(process.stdout)
    assert [f["id"] for f in report["findings"]] == ["input.unreadable"] * 3
    # each under its own file, as the file's other findings would be (they were under no
    # server: the table said "✓ <file>: no finding", then listed the error elsewhere)
    assert [f["server"] for f in report["findings"]] == [
        str(truncated),
        str(text),
        str(tmp_path / "missing.cer"),
    ]
    table = deployed.cli("check", "--cert", text, "--offline", COLUMNS="200")
    assert table.returncode == 1
    assert "no finding" not in table.stdout and str(text) in table.stdout


def test_a_root_inside_the_checked_file_is_not_trusted_on_its_word(
    deployed: Lab, tmp_path: Path
) -> None:
    """A .p7b carrying its own self-signed root passed `check --cert` (the root was taken as a
    trust anchor): any file could vouch for itself. Only --trust and the home's CA are anchors;
    with the root given by --trust the same file passes."""
    root_key, root = tmp_path / "r.key", tmp_path / "r.crt"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", root_key, "-out", root,
            "-subj", "/CN=Evil Root", "-days", "30",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    csr = tmp_path / "l.csr"
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", tmp_path / "l.key",
            "-out", csr, "-subj", "/CN=pool01.contoso.net")  # fmt: skip
    ext = tmp_path / "e.cnf"
    ext.write_text(
        "subjectAltName=DNS:pool01.contoso.net\nextendedKeyUsage=serverAuth\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "crlDistributionPoints=URI:http://pki.contoso.com/evil.crl\n"
    )
    leaf = tmp_path / "l.crt"
    openssl("x509", "-req", "-in", csr, "-CA", root, "-CAkey", root_key, "-CAcreateserial",
            "-out", leaf, "-days", "20", "-extfile", ext)  # fmt: skip
    bundle = tmp_path / "l.p7b"
    openssl("crl2pkcs7", "-nocrl", "-certfile", leaf, "-certfile", root, "-outform", "DER",
            "-out", bundle)  # fmt: skip

    alone = deployed.cli("check", "--cert", bundle, "--offline", "--json")
    assert alone.returncode == 1, alone.stdout + alone.stderr
    chain = [f for f in json.loads(alone.stdout)["findings"] if f["id"].startswith("chain.")]
    assert [f["id"] for f in chain] == ["chain.untrusted"], chain
    assert "--trust" in chain[0]["fix"]

    trusted = deployed.cli("check", "--cert", bundle, "--trust", root, "--offline", "--json")
    document = json.loads(trusted.stdout)
    ids = [f["id"] for f in document["findings"]]
    assert not [i for i in ids if i.startswith("chain.")], ids
    # the document names what the file held (a clean file has no finding to say it)
    (held,) = document["certificates"]
    fingerprint = openssl("x509", "-in", leaf, "-noout", "-fingerprint", "-sha1")
    assert held["thumbprint"] == fingerprint.split("=", 1)[1].strip().replace(":", "")
    assert held["file"] == str(bundle) and held["subject"] == "CN=pool01.contoso.net"


def test_a_pool_member_without_the_pools_certificate_is_told_to_copy_it(
    internal_topology: Path,
) -> None:
    """A third Edge server without the pool's certificates was told to request them there,
    which makes a second certificate that pool.not-identical then reports."""
    from lyncpki.checks.deployment import _unassigned
    from lyncpki.planning import Usage, plan_file

    plan = plan_file(internal_topology)
    shared = next(c for c in plan.certificates if Usage.ACCESS_EDGE_EXTERNAL in c.usages)
    first, second = shared.servers[:2]
    on_second = _unassigned(shared, second, Usage.ACCESS_EDGE_EXTERNAL, None)
    assert f"copy the pool's certificate from {first}" in on_second.fix
    assert f"lyncpki export --server {first}" in on_second.fix
    on_first = _unassigned(shared, first, Usage.ACCESS_EDGE_EXTERNAL, None)
    assert on_first.fix.startswith(f"request it (lyncpki request --server {first}")
