"""A SIP domain added to a deployment: the CA refused its names and nothing could add the
namespace (the fix said `ca init --domain`, which refuses an existing CA). `ca domains` lists
and changes the namespaces, audited, and a running `ca serve` applies the change to its next
request; `deploy` adds its topology's own."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from lab import ACCOUNTS, CONTOSO, lab_env, make_lab, ok, openssl, openssl_request, run_lyncpki

REQUESTER = "fe-requester"


def _enroll(url: str, request: Path) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/enroll",
        content=request.read_bytes(),
        headers={"Content-Type": "application/pkcs10"},
        auth=(REQUESTER, ACCOUNTS[REQUESTER][1]),
        timeout=30,
    )


def test_a_new_domain_is_signed_once_the_running_ca_takes_its_namespace(tmp_path: Path) -> None:
    lab = make_lab(tmp_path)
    try:
        _, request = openssl_request(
            lab.work, "litware", "sip.litware.com", ["sip.litware.com", "meet.litware.com"]
        )
        refused = _enroll(lab.url, request)
        assert 400 <= refused.status_code < 500, refused.text
        assert "ca domains --add" in refused.text, refused.text
        before = json.loads(ok(lab.cli("ca", "domains", "--json")).stdout)["namespaces"]
        assert "litware.com" not in before

        added = json.loads(ok(lab.cli("ca", "domains", "--add", "litware.com", "--json")).stdout)
        assert added["added"] == ["litware.com"] and "litware.com" in added["namespaces"]
        answer = _enroll(lab.url, request)  # the same running service, no restart
        assert answer.status_code == 200, answer.text
        leaf = lab.work / "litware.pem"
        leaf.write_text(answer.text)
        verified = openssl(
            "verify", "-CAfile", lab.home / "ca" / "root.crt",
            "-untrusted", lab.home / "ca" / "issuing.crt", leaf,
        )  # fmt: skip
        assert verified.strip().endswith(": OK")
        audit = json.loads(ok(lab.cli("ca", "audit", "--json")).stdout)
        assert any(a["action"] == "namespaces" and "litware.com" in a["detail"] for a in audit)

        unknown = lab.cli("ca", "domains", "--remove", "nowhere.example")
        assert unknown.returncode == 2 and "not a namespace of this CA" in unknown.stderr
        audit = json.loads(ok(lab.cli("ca", "audit", "--json")).stdout)
        assert any(
            (a["action"], a["outcome"]) == ("namespaces", "refused")
            and "nowhere.example" in a["detail"]
            for a in audit
        )  # a refused change of the CA's policy is audited as every refusal
        removed = json.loads(
            ok(lab.cli("ca", "domains", "--remove", "litware.com", "--json")).stdout
        )
        assert removed["removed"] == ["litware.com"]
        assert _enroll(lab.url, request).status_code != 200
    finally:
        lab.stop()


def test_deploy_adds_the_namespace_of_a_sip_domain_added_to_its_topology(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = lab_env()
    env.pop("LYNCPKI_CA_PASSPHRASE")  # as make demo: deploy makes and keeps its own
    assert run_lyncpki("deploy", CONTOSO, "--home", home, "--no-live", env=env).returncode == 0
    grown = tmp_path / "grown.yaml"
    text = CONTOSO.read_text()
    assert "sip_domains: [contoso.com, fabrikam.com]" in text
    domains = "[contoso.com, fabrikam.com]"
    grown.write_text(text.replace(domains, domains.replace("]", ", litware.com]")))

    dry = ok(run_lyncpki("deploy", grown, "--home", home, "--dry-run", env=env))
    assert "would add litware.com to the CA's namespaces" in dry.stdout, dry.stdout
    process = run_lyncpki("deploy", grown, "--home", home, "--no-live", env=env)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "added litware.com to the CA's namespaces" in process.stdout
    store = json.loads((home / "servers" / "fe01.contoso.net" / "store.json").read_text())
    current = store["assignments"]["Default"]["current"]["thumbprint"]
    cert = home / "servers" / "fe01.contoso.net" / "certs" / f"{current}.crt"
    text = openssl("x509", "-in", cert, "-noout", "-ext", "subjectAltName")
    assert "sip.litware.com" in text
