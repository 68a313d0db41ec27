"""A SIP domain added to a deployment: the CA refused its names and nothing could add the
namespace (the fix said `ca init --domain`, which refuses an existing CA). `ca domains` lists
and changes the namespaces, audited, and a running `ca serve` applies the change to its next
request; `deploy` adds its topology's own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from lab import ACCOUNTS, CONTOSO, lab_env, make_lab, ok, openssl, openssl_request, run_lyncpki
from lyncpki.ca.authority import CREATION_LOCK
from lyncpki.file_lock import exclusive

REQUESTER = "fe-requester"
LYNCPKI = (sys.executable, "-m", "lyncpki")


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


def _waiting_on(lock: Path) -> int:
    """How many processes wait for the flock on `lock` (/proc/locks lists them with ->)."""
    inode = f":{lock.stat().st_ino} "
    lines = Path("/proc/locks").read_text().splitlines()
    return sum(1 for line in lines if "->" in line and inode in line)


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="Linux only")
def test_two_domain_additions_at_once_both_stay(tmp_path: Path) -> None:
    """Two `ca domains --add` at once, made to meet: each has opened the CA (and read its
    namespaces) and waits for config.json's lock, held here; released, each adds its domain to
    the set as the other left it. Each used to write the set it had read, with its domain:
    the first's was lost, though both said "added"."""
    lab = make_lab(tmp_path, serve=False)
    lock = lab.home / CREATION_LOCK
    lock.touch()
    adding = ("adatum.com", "litware.com")
    with exclusive(lock):
        processes = [
            subprocess.Popen(
                [*LYNCPKI, "ca", "domains", "--add", domain, "--home", str(lab.home)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=lab_env(),
            )
            for domain in adding
        ]
        deadline = time.monotonic() + 60
        while _waiting_on(lock) < len(processes):
            assert time.monotonic() < deadline, "the two changes never met at the lock"
            assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
            time.sleep(0.05)
    outputs = [p.communicate(timeout=60) for p in processes]
    for process, (out, err), domain in zip(processes, outputs, adding, strict=True):
        assert process.returncode == 0, err
        assert f"added {domain}" in out
    namespaces = json.loads(ok(lab.cli("ca", "domains", "--json")).stdout)["namespaces"]
    assert set(adding) <= set(namespaces), namespaces
    audit = json.loads(ok(lab.cli("ca", "audit", "--json")).stdout)
    changes = [a["detail"] for a in audit if a["action"] == "namespaces" and a["outcome"] == "ok"]
    assert len(changes) == 2, changes
    first, second = sorted(changes, key=lambda d: len(d.partition(" -> ")[0]))
    added_first = next(d for d in adding if d in first.partition(" -> ")[2])
    # the audit says the real change: the second one started from the first one's set
    assert added_first in second.partition(" -> ")[0], changes
    assert set(adding) <= set(second.partition(" -> ")[2].split(", ")), changes
