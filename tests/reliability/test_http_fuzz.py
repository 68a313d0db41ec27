"""Every HTTP endpoint of the CA service fuzzed from its own OpenAPI description
(schemathesis): whatever the path, query, headers and body, never a 5xx, and the service still
healthy afterwards. As a requester and as a manager, so that the managers' endpoints are
reached too."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fuzz_inputs import EXAMPLES
from hypothesis import HealthCheck, settings
from scoreboard import Scoreboard
from starlette.testclient import TestClient

from lyncpki.ca.accounts import Accounts, Role
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.keyspec import KeySpec
from lyncpki.service.app import create_app, ocsp_responder

pytestmark = pytest.mark.reliability
PASSPHRASE = b"http-fuzz-passphrase"


def _app(home: CaHome) -> Any:
    ca = CertificateAuthority.create(
        home,
        passphrase=PASSPHRASE,
        namespaces=("contoso.net",),
        root_key=KeySpec("ec", 256),
        key=KeySpec("ec", 256),
    )
    accounts = Accounts(ca.engine)
    accounts.add("fuzz-requester", Role.REQUESTER, "fuzz-requester-password")
    accounts.add("fuzz-manager", Role.MANAGER, "fuzz-manager-password")
    return create_app(ca, ocsp=ocsp_responder(ca, PASSPHRASE))


APP = _app(CaHome(__import__("tempfile").mkdtemp(prefix="lyncpki-http-fuzz-")))
# A raw PKCS#10 body (what certreq and curl send to /api/v1/enroll) is bytes like any
# octet stream: without this, schemathesis skipped that form of the enrollment endpoint.
schemathesis.serializer.alias("application/pkcs10", "application/octet-stream")
# so is an OCSP request, now that /openapi.json describes the body of POST /ocsp
schemathesis.serializer.alias("application/ocsp-request", "application/octet-stream")
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
COUNTED: dict[str, int] = {}


@schema.parametrize()
@settings(
    max_examples=max(EXAMPLES // 10, 20),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.parametrize("account", ["fuzz-requester", "fuzz-manager"])
def test_no_endpoint_answers_5xx(case: Any, account: str, scoreboard: Scoreboard) -> None:
    response = case.call(auth=(account, f"{account}-password"))
    scoreboard.count("fuzz: every HTTP endpoint (OpenAPI)", "requests", response.status_code >= 500)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])


def test_still_healthy_after_the_fuzzing() -> None:
    with TestClient(APP) as client:
        assert client.get("/health").status_code == 200
