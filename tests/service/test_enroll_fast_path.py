"""The usual enrollment answered before the web framework (service/enroll_fast_path.py): the
same answers as the route — status, headers, body, audit — for an issued certificate in each
of its three forms and for a refusal; everything the fast path does not take still reaches the
route and is answered there. The application runs in this process (Starlette's TestClient),
so that which of the two answered can be counted; the certificates are judged by `openssl`."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from fastapi.testclient import TestClient
from service_tools import DOMAIN, in_process_ca, openssl, openssl_req

from lyncpki.ca.accounts import Accounts, Role
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.service.app import ServiceApp, create_app

PASSWORD = "fast-path-password-1"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"fe01:{PASSWORD}".encode()).decode()}
VARIABLE = ("x-request-id", "x-serial", "content-length")  # differ from one answer to the next


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    authority: CertificateAuthority = in_process_ca(
        tmp_path / "home", b"fast-path-passphrase", "Fast Path Issuing CA"
    )
    Accounts(authority.engine).add("fe01", Role.REQUESTER, PASSWORD)
    return authority


@pytest.fixture
def app(ca: CertificateAuthority) -> ServiceApp:
    return create_app(ca)


@pytest.fixture
def client(app: ServiceApp) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


def _answered(app: ServiceApp) -> int:
    assert app.enroll_fast_path is not None
    return app.enroll_fast_path.answered


def _csr(tmp_path: Path, host: str) -> bytes:
    return openssl_req(tmp_path, f"/CN={host}", (host,), key="ec:P-256").read_bytes()


def _verify(ca: CertificateAuthority, tmp_path: Path, leaf: x509.Certificate) -> None:
    path = tmp_path / "leaf.pem"
    path.write_bytes(leaf.public_bytes(Encoding.PEM))
    out = openssl(
        "verify", "-CAfile", ca.home.cert_file("root"), "-untrusted",
        ca.home.cert_file("issuing"), path,
    )  # fmt: skip
    assert out.strip().endswith(": OK")


def _leaf(answer_body: bytes, content_type: str) -> x509.Certificate:
    if content_type.startswith("application/pkcs7-mime"):  # a set: in no particular order
        certificates = pkcs7.load_der_pkcs7_certificates(answer_body)
        assert len(certificates) == 3
        (leaf,) = [
            c
            for c in certificates
            if not c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        ]
        return leaf
    if content_type.startswith("application/json"):
        return x509.load_pem_x509_certificate(json.loads(answer_body)["certificate"].encode())
    return x509.load_pem_x509_certificates(answer_body)[0]


@pytest.mark.parametrize("accept", ["", "application/pkcs7-mime", "application/json"])
def test_an_issued_certificate_is_answered_as_the_route_answers_it(
    ca: CertificateAuthority, app: ServiceApp, client: TestClient, tmp_path: Path, accept: str
) -> None:
    headers = {**AUTH, "Content-Type": "application/pkcs10", "Accept": accept}
    # the first: credentials not yet remembered, so the route checks them (scrypt) and answers
    by_route = client.post("/api/v1/enroll", content=_csr(tmp_path, f"a.{DOMAIN}"), headers=headers)
    assert _answered(app) == 0
    fast = client.post("/api/v1/enroll", content=_csr(tmp_path, f"b.{DOMAIN}"), headers=headers)
    assert _answered(app) == 1, "the remembered credentials' request went to the route"
    assert by_route.status_code == fast.status_code == 200, fast.text
    same = [
        {k: v for k, v in answer.headers.items() if k not in VARIABLE}
        for answer in (by_route, fast)
    ]
    assert same[0] == same[1]
    assert int(fast.headers["x-request-id"]) == int(by_route.headers["x-request-id"]) + 1
    leaves = [_leaf(a.content, a.headers["content-type"]) for a in (by_route, fast)]
    assert int(fast.headers["x-serial"], 16) == leaves[1].serial_number
    for leaf, host in zip(leaves, ("a", "b"), strict=True):
        assert leaf.subject.rfc4514_string() == f"CN={host}.{DOMAIN}"
        _verify(ca, tmp_path, leaf)
    if accept == "application/json":
        route_keys, fast_keys = (set(json.loads(a.content)) for a in (by_route, fast))
        assert route_keys == fast_keys


def test_a_refusal_is_answered_and_audited_as_the_route_does(
    ca: CertificateAuthority, app: ServiceApp, client: TestClient, tmp_path: Path
) -> None:
    headers = {**AUTH, "Content-Type": "application/pkcs10"}
    client.post("/api/v1/enroll", content=_csr(tmp_path, f"a.{DOMAIN}"), headers=headers)
    foreign = _csr(tmp_path, "fe01.fabrikam.example")
    fast = client.post("/api/v1/enroll", content=foreign, headers=headers)
    assert _answered(app) == 1
    # a query parameter the fast path leaves to the route (validity_days) sends it there
    by_route = client.post("/api/v1/enroll?validity_days=30", content=foreign, headers=headers)
    assert _answered(app) == 1
    assert fast.status_code == by_route.status_code == 422
    assert fast.json() == by_route.json()
    assert "fabrikam.example" in fast.json()["message"]
    assert fast.headers["content-type"] == by_route.headers["content-type"]
    refused = [
        row for row in ca.audit_log(50) if row["action"] == "submit" and row["outcome"] == "refused"
    ]
    assert len(refused) == 2
    assert refused[0]["detail"] == refused[1]["detail"]


def test_what_the_fast_path_does_not_take_reaches_the_route(
    ca: CertificateAuthority, app: ServiceApp, client: TestClient, tmp_path: Path
) -> None:
    csr = _csr(tmp_path, f"a.{DOMAIN}")
    pem = {**AUTH, "Content-Type": "application/pkcs10"}
    assert client.post("/api/v1/enroll", content=csr, headers=pem).status_code == 200
    assert _answered(app) == 0
    wrong = {
        "Authorization": "Basic " + base64.b64encode(b"fe01:not-the-password").decode(),
        "Content-Type": "application/pkcs10",
    }
    answers = {
        "wrong password": client.post("/api/v1/enroll", content=csr, headers=wrong),
        "no credentials": client.post(
            "/api/v1/enroll", content=csr, headers={"Content-Type": "application/pkcs10"}
        ),
        "a JSON body": client.post(
            "/api/v1/enroll",
            json={"csr": csr.decode(), "template": "WebServer"},
            headers=AUTH,
        ),
        "a template name the route refuses": client.post(
            "/api/v1/enroll?template=" + "W" * 65, content=csr, headers=pem
        ),
        "a body over the limit": client.post(
            "/api/v1/enroll", content=b"x" * (1024 * 1024 + 1), headers=pem
        ),
    }
    assert _answered(app) == 0
    status = {what: answer.status_code for what, answer in answers.items()}
    assert status == {
        "wrong password": 401,
        "no credentials": 401,
        "a JSON body": 200,
        "a template name the route refuses": 422,
        "a body over the limit": 413,
    }
    for answer in answers.values():
        assert answer.headers["content-type"].startswith(("application/json", "application/pem"))
    outcomes = [(row["action"], row["outcome"], row["detail"]) for row in ca.audit_log(50)]
    assert ("login", "refused", "wrong name or password") in outcomes
    assert any(a == "enroll" and o == "refused" and "413" in d for a, o, d in outcomes)
    # and the usual request is answered here again afterwards
    assert client.post("/api/v1/enroll", content=csr, headers=pem).status_code == 200
    assert _answered(app) == 1


def test_an_account_removed_is_refused_at_once_and_one_added_changes_nothing(
    ca: CertificateAuthority, app: ServiceApp, client: TestClient, tmp_path: Path
) -> None:
    """The fast path goes by credentials remembered without asking the database; the accounts'
    generation is read by the submitting thread before each batch, and a request checked in an
    older one is sent to the route, which checks its credentials again."""
    headers = {**AUTH, "Content-Type": "application/pkcs10"}
    csr = _csr(tmp_path, f"a.{DOMAIN}")
    for _ in range(2):
        assert client.post("/api/v1/enroll", content=csr, headers=headers).status_code == 200
    assert _answered(app) == 1
    accounts = Accounts(ca.engine)
    accounts.add("fe02", Role.REQUESTER, "another-password-2")  # the generation moves
    again = client.post("/api/v1/enroll", content=csr, headers=headers)
    assert again.status_code == 200, again.text  # checked again by the route, and remembered
    assert _answered(app) == 1
    assert client.post("/api/v1/enroll", content=csr, headers=headers).status_code == 200
    assert _answered(app) == 2
    accounts.remove("fe01")
    refused = client.post("/api/v1/enroll", content=csr, headers=headers)
    assert refused.status_code == 401
    assert refused.json()["error"] == "auth.failed"
    assert _answered(app) == 2
    last = ca.audit_log(1)[0]
    assert (last["actor"], last["action"], last["outcome"]) == ("fe01", "login", "refused")
