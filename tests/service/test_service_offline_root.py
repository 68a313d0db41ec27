"""`ca serve` without --root-key holds the issuing CA's key only, as an AD CS administrator keeps
the root offline: it issues, answers OCSP and revokes; a subordinate CA (signed by the root)
waits for an approval on the CA's machine, and the service says so instead of failing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_tools import (
    PASSWORDS,
    CurlAnswer,
    Service,
    curl,
    make_service,
    openssl,
    openssl_req,
    verify,
    write_leaf,
)

pytestmark = pytest.mark.external


@pytest.fixture(scope="module")
def offline_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    served = make_service(tmp_path_factory.mktemp("offline-root"), root_key=False)
    try:
        yield served
    finally:
        served.stop()


def _enroll(
    service: Service, work: Path, template: str, subject: str, sans: list[str] | None
) -> CurlAnswer:
    return curl(
        work,
        f"{service.url}/api/v1/enroll?template={template}",
        "-u",
        f"fe01:{PASSWORDS['fe01']}",
        "--data-binary",
        f"@{openssl_req(work, subject, sans)}",
        "-H",
        "Content-Type: application/pkcs10",
    )


def test_the_service_issues_with_the_issuing_key_alone(offline_root: Service, work: Path) -> None:
    answer = _enroll(
        offline_root, work, "WebServer", "/CN=fe01.corp-test.se", ["fe01.corp-test.se"]
    )
    assert answer.status == 200, answer
    leaf = write_leaf(work, answer.body.decode(), "fe01.pem")
    process = verify(offline_root, leaf)
    assert process.returncode == 0, process.stdout + process.stderr


def test_a_subordinate_ca_is_approved_on_the_cas_machine(offline_root: Service, work: Path) -> None:
    answer = _enroll(offline_root, work, "SubCA", "/CN=Offline Sub CA", None)
    assert answer.status == 202, answer
    request_id = answer.json()["request_id"]

    with offline_root.client("boss") as http:
        refused = http.post(f"/api/v1/requests/{request_id}/approve")
    assert refused.status_code == 409, refused.text
    error = refused.json()
    assert "root CA, whose key this service does not hold" in error["message"]
    assert f"request {request_id} stays pending" in error["message"]
    assert f"lyncpki ca approve {request_id}" in error["fix"]
    with offline_root.client("fe01") as http:
        assert http.get(f"/api/v1/requests/{request_id}").json()["status"] == "pending"
    refusals = [
        r
        for r in offline_root.audit()
        if r["action"] == "approve" and r["target"] == f"request {request_id}"
    ]
    assert refusals and refusals[0]["outcome"] == "refused", refusals

    # on the CA's machine, with the passphrase: the root signs it
    out = offline_root.cli("ca", "approve", str(request_id), "--json").stdout
    approved = json.loads(out)
    assert approved["status"] == "issued"
    with offline_root.client("fe01") as http:
        status = http.get(f"/api/v1/requests/{request_id}").json()
    assert status["status"] == "issued"
    sub_ca = write_leaf(work, status["certificate"], "sub-ca.pem")
    assert "CA:TRUE, pathlen:0" in openssl("x509", "-in", sub_ca, "-noout", "-text")
    process = verify(offline_root, sub_ca)  # signed by the root
    assert process.returncode == 0, process.stdout + process.stderr
