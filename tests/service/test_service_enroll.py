"""Enrollment over HTTP, the way a Lync server's administrator (or a script) does it: a request
made by `openssl req`, POSTed by curl with a CA account, the answer judged by openssl."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest
from service_tools import (
    DOMAIN,
    PASSWORDS,
    Service,
    curl,
    openssl,
    openssl_req,
    pem_blocks,
    same_serial,
    serial_of,
    verify,
    write_leaf,
)

pytestmark = pytest.mark.external

FE01 = f"fe01:{PASSWORDS['fe01']}"


def _post(service: Service, work: Path, csr: Path, *headers: str) -> tuple[int, dict, bytes]:
    args: list[str | Path] = ["-u", FE01, "--data-binary", f"@{csr}"]
    args += ["-H", "Content-Type: application/pkcs10"]
    for header in headers:
        args += ["-H", header]
    answer = curl(work, f"{service.url}/api/v1/enroll", *args)
    return answer.status, answer.headers, answer.body


def test_curl_enroll_returns_a_pem_chain_openssl_verifies(service: Service, work: Path) -> None:
    csr = openssl_req(work, f"/CN=pool01.{DOMAIN}", [f"pool01.{DOMAIN}", f"sip.{DOMAIN}"])
    status, headers, body = _post(service, work, csr)
    assert status == 200, body
    assert headers["content-type"] == "application/pem-certificate-chain"
    blocks = pem_blocks(body.decode())
    assert len(blocks) == 3, body
    leaf = write_leaf(work, blocks[0], "leaf.pem")
    issuing = write_leaf(work, blocks[1], "issuing-from-chain.pem")
    root = write_leaf(work, blocks[2], "root-from-chain.pem")

    process = verify(service, leaf)
    assert process.returncode == 0 and process.stdout.strip() == f"{leaf}: OK", (
        process.stdout + process.stderr
    )
    # the chain is the CA's own issuing and root certificates, in that order
    fingerprint = ("x509", "-noout", "-fingerprint", "-sha256", "-in")
    assert openssl(*fingerprint, issuing) == openssl(*fingerprint, service.issuing_crt)
    assert openssl(*fingerprint, root) == openssl(*fingerprint, service.root_crt)
    # the certificate certifies the request's key, for the names it asked
    assert openssl("x509", "-in", leaf, "-noout", "-pubkey") == openssl(
        "req", "-in", csr, "-noout", "-pubkey"
    )
    text = openssl("x509", "-in", leaf, "-noout", "-text")
    assert f"DNS:pool01.{DOMAIN}, DNS:sip.{DOMAIN}" in text
    assert "TLS Web Server Authentication" in text
    assert same_serial(headers["x-serial"], serial_of(leaf))


def test_der_request_is_accepted(service: Service, work: Path) -> None:
    csr = openssl_req(work, der=True)
    status, _, body = _post(service, work, csr)
    assert status == 200, body
    leaf = write_leaf(work, pem_blocks(body.decode())[0])
    assert verify(service, leaf).returncode == 0


def test_pkcs7_answer_holds_the_three_certificates(service: Service, work: Path) -> None:
    csr = openssl_req(work)
    status, headers, body = _post(service, work, csr, "Accept: application/pkcs7-mime")
    assert status == 200, body
    assert headers["content-type"] == "application/pkcs7-mime"
    p7b = work / "answer.p7b"
    p7b.write_bytes(body)
    printed = openssl("pkcs7", "-inform", "DER", "-in", p7b, "-print_certs")
    subjects = [line for line in printed.splitlines() if line.startswith("subject=")]
    # a SignedData's certificates are a SET (DER sorts it): any order
    assert len(subjects) == 3, printed
    names = {s.removeprefix("subject=CN = ") for s in subjects}
    assert names == {f"fe01.{DOMAIN}", service.config["name"], service.config["root_name"]}
    files = [write_leaf(work, block) for block in pem_blocks(printed)]
    (leaf,) = [
        f for f in files if f"fe01.{DOMAIN}" in openssl("x509", "-in", f, "-noout", "-subject")
    ]
    assert verify(service, leaf).returncode == 0


@pytest.mark.parametrize(
    ("accept", "answered"),
    [
        ("application/pkcs7-mime;q=0", "application/pem-certificate-chain"),
        ("application/json, application/pkcs7-mime", "application/json"),
        ("application/pkcs7-mime;q=0.5, application/json;q=0.9", "application/json"),
        ("text/html, */*;q=0.8", "application/pem-certificate-chain"),
        ("Application/PKCS7-MIME; q=1.0", "application/pkcs7-mime"),
    ],
)
def test_the_accept_header_is_read_with_its_qualities(
    service: Service, work: Path, accept: str, answered: str
) -> None:
    """`application/pkcs7-mime;q=0` (the client refuses PKCS#7) was answered PKCS#7, and so
    was a header listing JSON first: the text was searched, not read. Each answer is what
    openssl reads as the certificate issued."""
    status, headers, body = _post(service, work, openssl_req(work), f"Accept: {accept}")
    assert status == 200, body
    assert headers["content-type"] == answered
    if answered == "application/pkcs7-mime":  # a SET: the leaf is among the three
        p7b = work / "answer.p7b"
        p7b.write_bytes(body)
        blocks = pem_blocks(openssl("pkcs7", "-inform", "DER", "-in", p7b, "-print_certs"))
    else:
        pem = json.loads(body)["certificate"] if answered == "application/json" else body.decode()
        blocks = pem_blocks(pem)[:1]
    serials = [serial_of(write_leaf(work, block)) for block in blocks]
    assert any(same_serial(headers["x-serial"], serial) for serial in serials), serials


def test_json_enrollment_with_httpx(service: Service, work: Path) -> None:
    csr = openssl_req(work, f"/CN=edge01.{DOMAIN}", [f"edge01.{DOMAIN}"])
    with service.client("fe01") as http:
        answer = http.post(
            "/api/v1/enroll",
            json={"csr": csr.read_text(), "template": "LyncServer"},
            headers={"Accept": "application/json"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    data = answer.json()
    assert data["status"] == "issued"
    assert data["template"] == "LyncServer"
    assert isinstance(data["request_id"], int)
    assert answer.headers["x-request-id"] == str(data["request_id"])
    assert len(data["chain"]) == 2
    leaf = write_leaf(work, data["certificate"])
    assert same_serial(data["serial"], serial_of(leaf))
    assert verify(service, leaf).returncode == 0
    text = openssl("x509", "-in", leaf, "-noout", "-text")
    assert "TLS Web Server Authentication, TLS Web Client Authentication" in text
    # the requester sees its request, with the certificate
    with service.client("fe01") as http:
        status = http.get(f"/api/v1/requests/{data['request_id']}")
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "issued"
    assert status.json()["certificate"] == data["certificate"]


def test_json_template_and_the_query_must_agree(service: Service, work: Path) -> None:
    """The body's template is used when ?template= names none; both given must name the same
    one — two different ones are refused (400), never settled by picking one."""
    csr = openssl_req(work).read_text()
    with service.client("fe01") as http:
        alone = http.post(
            "/api/v1/enroll",
            json={"csr": csr, "template": "LyncServer"},
            headers={"Accept": "application/json"},
        )
        conflict = http.post(
            "/api/v1/enroll",
            params={"template": "SubCA"},
            json={"csr": csr, "template": "WebServer"},
            headers={"Accept": "application/json"},
        )
    assert alone.status_code == 200, alone.text
    assert alone.json()["template"] == "LyncServer"
    assert conflict.status_code == 400, conflict.text
    assert conflict.json()["error"] == "request.template_conflict"


def test_health(service: Service) -> None:
    answer = httpx.get(f"{service.url}/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.json()["ca"] == service.config["name"]


def test_a_shorter_validity_is_asked_in_the_query(service: Service, work: Path) -> None:
    """deploy asks the plan's validity (a public CA's 200 days, a topology's 90): it was
    issued for the template's 730 days, whatever the plan said."""
    csr = openssl_req(work, f"/CN=fe01.{DOMAIN}", [f"fe01.{DOMAIN}"])
    with service.client("fe01") as http:
        answer = http.post(
            "/api/v1/enroll?template=WebServer&validity_days=90",
            content=csr.read_bytes(),
            headers={"Content-Type": "application/pkcs10", "Accept": "application/json"},
        )
        longer = http.post(
            "/api/v1/enroll?validity_days=5000",
            content=csr.read_bytes(),
            headers={"Content-Type": "application/pkcs10"},
        )
    assert answer.status_code == 200, answer.text
    leaf = write_leaf(work, answer.json()["certificate"])
    dates = openssl("x509", "-in", leaf, "-noout", "-startdate", "-enddate").splitlines()
    start, end = (
        dt.datetime.strptime(line.split("=", 1)[1], "%b %d %H:%M:%S %Y %Z") for line in dates
    )
    assert (end - start).days == 90, dates  # as openssl reads it
    assert longer.status_code == 422 and longer.json()["error"] == "policy.validity", longer.text
