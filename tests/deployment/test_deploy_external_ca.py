"""`deploy --ca URL`: the certificates come from another lyncpki CA service (an enterprise CA
already running), and the check still knows that CA's root for the internal one: a public-facing
certificate it issued is reported (issuer.internal-public-name), as with the home's own CA."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from lab import (
    ACCOUNTS,
    CONTOSO,
    free_port,
    lab_env,
    make_lab,
    ok,
    openssl,
    run_lyncpki,
    start_serve,
)

pytestmark = [pytest.mark.slow, pytest.mark.external]

REQUESTER = "fe-requester"


def test_public_names_from_another_ca_service_are_reported(tmp_path: Path) -> None:
    lab = make_lab(tmp_path / "lab")
    try:
        # the service names its root by the SHA-1 thumbprint openssl computes
        said = httpx.get(f"{lab.url}/health", timeout=30).json()["root_thumbprint"]
        fingerprint = openssl("x509", "-in", lab.home / "ca" / "root.crt", "-noout",
                              "-fingerprint", "-sha1")  # fmt: skip
        assert said == fingerprint.strip().split("=", 1)[1].replace(":", "")

        home = tmp_path / "home"
        env = lab_env(  # the stores' keys under their own passphrase; the CA's account
            LYNCPKI_STORE_PASSPHRASE="store-passphrase-Zr4",
            LYNCPKI_CA_PASSWORD=ACCOUNTS[REQUESTER][1],
        )
        deploy = ["deploy", CONTOSO, "--home", home, "--no-live"]
        done = run_lyncpki(*deploy, "--ca", lab.url, "--ca-account", REQUESTER, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        findings = json.loads((home / "report.json").read_text())["check"]["findings"]
        warned = {(f["server"], f["usage"]) for f in findings
                  if f["id"] == "issuer.internal-public-name"}  # fmt: skip
        assert ("edge01.contoso.net", "AccessEdgeExternal") in warned, findings
        assert ("webext.contoso.com", "ReverseProxy") in warned, findings
        assert not any(server.startswith("fe01") for server, _ in warned), warned
        # a plan longer than the remote CA's template (1095 > 730 days): asked, refused
        # (policy.validity), asked again for the template's; it failed every certificate
        longer = tmp_path / "longer.yaml"
        longer.write_text(CONTOSO.read_text() + "defaults: {validity_days: 1095}\n")
        again = run_lyncpki("deploy", longer, "--home", tmp_path / "home2", "--no-live",
                            "--ca", lab.url, "--ca-account", REQUESTER, env=env)  # fmt: skip
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        lab.stop()


def _default_of(home: Path, server: str = "fe01.contoso.net") -> tuple[str, str]:
    """The thumbprint of the server's Default certificate and its serial (as openssl says)."""
    store = json.loads((home / "servers" / server / "store.json").read_text())
    current = store["assignments"]["Default"]["current"]["thumbprint"]
    cert = home / "servers" / server / "certs" / f"{current}.crt"
    serial = openssl("x509", "-in", cert, "-noout", "-serial").strip().split("=", 1)[1]
    return current, serial


def test_a_certificate_the_ca_service_revoked_is_renewed_with_ca(tmp_path: Path) -> None:
    """`deploy --ca URL` judged nothing revoked: a certificate the CA service had revoked was
    "in place" ("nothing to do"), then the run's check failed over it (NOT DONE), run after
    run. It learns revocation as a Lync server does (the CRL at the CDP, OCSP) and renews it;
    when that cannot be learned, the run says so."""
    lab = make_lab(tmp_path / "lab")
    second = None
    try:
        home = tmp_path / "home"
        env = lab_env(
            LYNCPKI_STORE_PASSPHRASE="store-passphrase-Zr4",
            LYNCPKI_CA_PASSWORD=ACCOUNTS[REQUESTER][1],
        )
        deploy = ["deploy", CONTOSO, "--home", home, "--no-live", "--ca-account", REQUESTER]
        first = run_lyncpki(*deploy, "--ca", lab.url, env=env)
        assert first.returncode == 0, first.stdout + first.stderr
        revoked, serial = _default_of(home)
        ok(lab.cli("ca", "revoke", serial, "--reason", "keyCompromise"))
        ok(lab.cli("ca", "crl"))

        dry = run_lyncpki(*deploy, "--ca", lab.url, "--dry-run", env=env)
        assert dry.returncode == 0, dry.stdout + dry.stderr
        text = " ".join(dry.stdout.split())
        assert "would renew fe01.contoso.net/default" in text and "keyCompromise" in text, text
        renewed = run_lyncpki(*deploy, "--ca", lab.url, env=env)
        assert renewed.returncode == 0, renewed.stdout + renewed.stderr
        assert "nothing to do" not in renewed.stdout
        assert _default_of(home)[0] != revoked

        # the CA's CRL and OCSP URLs unreachable (its first service stopped), enrollment
        # through a second service of the same CA: the run says what it could not learn
        _, serial = _default_of(home)
        ok(lab.cli("ca", "revoke", serial, "--reason", "keyCompromise"))
        lab.stop()
        port = free_port()
        second = start_serve(lab.home, port, tmp_path / "second.log")
        blind = run_lyncpki(*deploy, "--ca", f"http://127.0.0.1:{port}", env=env)
        said = " ".join(blind.stdout.split())
        assert "revocation not learned from the CA service: the CRL at " in said, said
        assert f"{lab.url}/crl/" in said and "a certificate it revoked is kept" in said, said
    finally:
        lab.stop()
        if second is not None:
            second.terminate()
            second.wait(15)


def test_a_ca_service_that_cannot_be_used_is_said_before_anything_is_made(
    tmp_path: Path,
) -> None:
    """A wrong --ca URL or password was found out certificate by certificate: a home of keys
    and pending requests, the causes only in report.json, and a wrong password sent with
    each of 18 enrollments locked the account out for its real users (the service's limit on
    failed sign-ins). The service is asked once, before any key is made."""
    lab = make_lab(tmp_path / "lab")
    try:
        env = lab_env(LYNCPKI_STORE_PASSPHRASE="store-passphrase-Zr4")
        home = tmp_path / "home"
        deploy = ["deploy", CONTOSO, "--home", home, "--no-live", "--ca-account", REQUESTER]
        cases = [
            (lab.url, "a-wrong-password-1", f"does not take account '{REQUESTER}'"),
            (lab.url.removeprefix("http://"), ACCOUNTS[REQUESTER][1], "no http:// or https://"),
            (f"http://127.0.0.1:{free_port()}", ACCOUNTS[REQUESTER][1], "no lyncpki CA service"),
            (f"{lab.url}/certsrv", ACCOUNTS[REQUESTER][1], "no lyncpki CA service"),
        ]
        for url, password, said in cases:
            refused = run_lyncpki(
                *deploy, "--ca", url, env={**env, "LYNCPKI_CA_PASSWORD": password}
            )
            text = " ".join(refused.stderr.split())
            assert refused.returncode == 2 and said in text and "fix:" in text, (url, text)
            assert not home.exists(), url  # no key, no request, no home
        # one failed sign-in, not one per certificate: the account still signs in at once
        answer = httpx.get(
            f"{lab.url}/api/v1/account", auth=(REQUESTER, ACCOUNTS[REQUESTER][1]), timeout=30
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"account": REQUESTER, "role": "requester"}
        failed = [row for row in json.loads(ok(lab.cli("ca", "audit", "--json")).stdout)
                  if row.get("actor") == REQUESTER and row.get("outcome") != "ok"]  # fmt: skip
        assert len(failed) == 1, failed
        # a service that answers but cannot issue (its own certificate held) says why, and
        # how to go on, before anything is made
        issuing = x509.load_pem_x509_certificate((lab.home / "ca" / "issuing.crt").read_bytes())
        serial = f"{issuing.serial_number:x}"
        ok(lab.cli("ca", "revoke", serial, "--reason", "certificateHold"))
        time.sleep(1.2)  # the service reads its CA's status again every second
        refused = run_lyncpki(
            *deploy, "--ca", lab.url, env={**env, "LYNCPKI_CA_PASSWORD": ACCOUNTS[REQUESTER][1]}
        )
        text = " ".join(refused.stderr.split())
        assert refused.returncode == 2 and "HTTP 503" in text, text
        assert "is revoked (certificateHold)" in text and f"ca unrevoke {serial}" in text, text
        assert not home.exists()
        ok(lab.cli("ca", "unrevoke", serial))
    finally:
        lab.stop()
