"""A CA whose own certificate its root revoked (on the CA's machine, `lyncpki ca revoke`):
/health said "ok" while every enrollment failed, so a load balancer kept sending requests to
it. It now answers 503 with why and what to do (release a hold), its CRLs are still served,
and once the hold is released it is healthy and issues again."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from service_tools import Service, enroll_pem, make_service, openssl_req, serial_of

pytestmark = pytest.mark.external


def _health(service: Service, status: int) -> httpx.Response:
    """/health once it answers `status` (a service reads its CA's status again every second)."""
    deadline = time.monotonic() + 10
    with service.client() as http:
        while True:
            answer = http.get("/health")
            if answer.status_code == status or time.monotonic() > deadline:
                return answer
            time.sleep(0.2)


def test_health_says_the_issuing_ca_is_held_until_it_is_released(tmp_path: Path) -> None:
    service = make_service(tmp_path, accounts=("fe01",))
    try:
        issuing = serial_of(service.issuing_crt)
        service.cli("ca", "revoke", issuing, "--reason", "certificateHold")
        answer = _health(service, 503)
        assert answer.status_code == 503, answer.text
        said = answer.json()
        assert said["error"] == "ca.revoked"
        assert "certificateHold" in said["message"]
        assert f"lyncpki ca unrevoke {issuing}" in said["fix"]
        with service.client() as http:  # relying parties still fetch the CRLs
            assert http.get(f"/crl/{service.slug}.crl").status_code == 200
        with service.client("fe01") as http:
            refused = http.post(
                "/api/v1/enroll",
                content=openssl_req(tmp_path).read_bytes(),
                headers={"Content-Type": "application/pkcs10"},
            )
        assert refused.status_code == 409 and "unrevoke" in refused.json()["fix"]

        service.cli("ca", "unrevoke", issuing)
        assert _health(service, 200).status_code == 200
        enroll_pem(service, openssl_req(tmp_path))
    finally:
        service.stop()
