"""`deploy --ca URL`: the certificates come from another lyncpki CA service (an enterprise CA
already running), and the check still knows that CA's root for the internal one: a public-facing
certificate it issued is reported (issuer.internal-public-name), as with the home's own CA."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from lab import ACCOUNTS, CONTOSO, lab_env, make_lab, openssl, run_lyncpki

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
