"""OCSP at /ocsp of the running service, asked by `openssl ocsp` with the URL the certificate
carries: openssl verifies every answer (the delegated responder certificate up to the root:
-CAfile root, -verify_other issuing) and prints the status. A revocation through the API is
answered at once, without a CRL being published."""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import importlib.util
import re
import socket
import urllib.parse
from pathlib import Path

import httpx
import pytest
from service_tools import Service, enroll_pem, openssl, openssl_req, revoke, run_tool

pytestmark = [
    pytest.mark.external,
    pytest.mark.skipif(
        importlib.util.find_spec("lyncpki.ca.ocsp") is None,
        reason="lyncpki.ca.ocsp (the OCSP responder) is not there yet: /ocsp is not served",
    ),
]


def _ocsp(service: Service, leaf: Path, *extra: str | Path) -> str:
    """`openssl ocsp` against the URL in the certificate; its stdout and stderr, exit 0."""
    text = openssl("x509", "-in", leaf, "-noout", "-ocsp_uri").strip()
    assert text == f"{service.url}/ocsp", text
    process = run_tool(
        "openssl",
        "ocsp",
        "-issuer",
        service.issuing_crt,
        "-cert",
        leaf,
        "-url",
        text,
        "-CAfile",
        service.root_crt,
        "-verify_other",
        service.issuing_crt,
        *extra,
    )
    output = process.stdout + process.stderr
    assert process.returncode == 0, output
    assert "Response verify OK" in output, output
    return output


def test_health_says_ocsp(service: Service) -> None:
    assert httpx.get(f"{service.url}/health").json()["ocsp"] is True


def test_good_then_revoked_without_a_crl(service: Service, work: Path) -> None:
    leaf = enroll_pem(service, openssl_req(work))
    assert f"{leaf}: good" in _ocsp(service, leaf)
    revoke(service, leaf)
    output = _ocsp(service, leaf)
    assert f"{leaf}: revoked" in output, output
    assert "Reason: keyCompromise" in output, output


def test_nonceless_answers_are_not_served_stale_after_a_revocation(
    service: Service, work: Path
) -> None:
    """Answers without a nonce are cached by the responder: a revocation must drop them."""
    leaf = enroll_pem(service, openssl_req(work))
    for _ in range(2):  # the second from the cache
        assert f"{leaf}: good" in _ocsp(service, leaf, "-no_nonce")
    revoke(service, leaf, "superseded")
    output = _ocsp(service, leaf, "-no_nonce")
    assert f"{leaf}: revoked" in output, output
    assert "Reason: superseded" in output, output


def test_nonce_is_echoed(service: Service, work: Path) -> None:
    leaf = enroll_pem(service, openssl_req(work))
    output = _ocsp(service, leaf, "-resp_text")
    assert "OCSP Nonce" in output, output
    assert "WARNING: no nonce in response" not in output
    # signed by the delegated responder (its certificate in the answer), not the issuing CA
    subjects = re.findall(r"Subject: (.+)", output)
    assert subjects == [f"CN={service.config['name']} OCSP Responder"], subjects
    assert "OCSP Signing" in output and "OCSP No Check" in output, output


def test_get_with_the_request_in_the_url(service: Service, work: Path) -> None:
    leaf = enroll_pem(service, openssl_req(work))
    request = work / "request.der"
    openssl("ocsp", "-issuer", service.issuing_crt, "-cert", leaf, "-no_nonce", "-reqout", request)
    encoded = urllib.parse.quote(base64.b64encode(request.read_bytes()).decode(), safe="")
    answer = httpx.get(f"{service.url}/ocsp/{encoded}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/ocsp-response"
    assert "max-age" in answer.headers["cache-control"]
    output = _verify(service, work, leaf, answer.content, "response")
    assert f"{leaf}: good" in output, output


def test_head_of_a_get_url_gives_its_headers(service: Service, work: Path) -> None:
    """HEAD /ocsp/{base64} was 405, though GET answered and HTTP caches ask with HEAD (RFC 9110
    9.1, 9.3.2): the GET's headers now, without a body."""
    leaf = enroll_pem(service, openssl_req(work))
    request = work / "head.der"
    openssl("ocsp", "-issuer", service.issuing_crt, "-cert", leaf, "-no_nonce", "-reqout", request)
    encoded = urllib.parse.quote(base64.b64encode(request.read_bytes()).decode(), safe="")
    url = f"{service.url}/ocsp/{encoded}"
    got = httpx.get(url)
    head = httpx.head(url)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    for name in ("content-type", "content-length", "cache-control", "etag", "last-modified"):
        assert head.headers[name] == got.headers[name], name


def test_post_of_garbage_is_an_unsuccessful_ocsp_response(service: Service, work: Path) -> None:
    answer = httpx.post(
        f"{service.url}/ocsp",
        content=b"not an OCSP request",
        headers={"Content-Type": "application/ocsp-request"},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/ocsp-response"
    response = work / "garbage-response.der"
    response.write_bytes(answer.content)
    process = run_tool("openssl", "ocsp", "-respin", response, "-resp_text", "-noverify")
    output = process.stdout + process.stderr
    assert "Responder Error: malformedrequest" in output, output
    assert httpx.get(f"{service.url}/health").status_code == 200


def test_certificate_of_another_ca_is_unauthorized(service: Service, work: Path) -> None:
    """A request naming an issuer this responder does not answer for (a throw-away CA)."""
    other_key, other_crt = work / "other.key", work / "other.crt"
    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", other_key,
        "-subj", "/CN=Other CA", "-days", "2", "-out", other_crt,
    )  # fmt: skip
    leaf = enroll_pem(service, openssl_req(work))
    process = run_tool(
        "openssl", "ocsp", "-issuer", other_crt, "-cert", leaf,
        "-url", f"{service.url}/ocsp", "-noverify",
    )  # fmt: skip
    output = process.stdout + process.stderr
    assert "unauthorized" in output.lower(), output


def test_get_is_answered_like_post_and_garbage_is_malformed(service: Service, work: Path) -> None:
    """Windows asks with GET: the same request by GET and by POST gets the same answer (the
    second from the cache), a GET of what is no base64 request is malformedRequest."""
    leaf = enroll_pem(service, openssl_req(work))
    request = work / "same.der"
    openssl("ocsp", "-issuer", service.issuing_crt, "-cert", leaf, "-no_nonce", "-reqout", request)
    der = request.read_bytes()
    posted = httpx.post(
        f"{service.url}/ocsp", content=der, headers={"Content-Type": "application/ocsp-request"}
    )
    encoded = urllib.parse.quote(base64.b64encode(der).decode(), safe="")
    got = httpx.get(f"{service.url}/ocsp/{encoded}")
    assert posted.status_code == got.status_code == 200
    assert got.content == posted.content
    assert "cache-control" not in posted.headers
    assert "public" in got.headers["cache-control"] and "max-age" in got.headers["cache-control"]
    # RFC 5019 6.2's other headers, read against what openssl says of the answer
    assert got.headers["etag"].startswith('"') and len(got.headers["etag"]) == 34
    answer_file = work / "get-good.der"
    answer_file.write_bytes(got.content)
    text = run_tool("openssl", "ocsp", "-respin", answer_file, "-resp_text", "-noverify").stdout
    this_update = re.search(r"This Update: (.+)", text)
    assert this_update, text
    said = dt.datetime.strptime(this_update.group(1).strip(), "%b %d %H:%M:%S %Y %Z")
    modified = email.utils.parsedate_to_datetime(got.headers["last-modified"])
    assert modified.replace(tzinfo=None) == said
    expires = email.utils.parsedate_to_datetime(got.headers["expires"])
    assert 0 < (expires - dt.datetime.now(dt.UTC)).total_seconds() <= 301
    garbage = httpx.get(f"{service.url}/ocsp/%25%25not-base64")
    assert garbage.status_code == 200
    # RFC 5019 6.2: an unsuccessful answer is kept by no HTTP cache
    assert garbage.headers["cache-control"] == "no-store"
    response = work / "get-garbage.der"
    response.write_bytes(garbage.content)
    process = run_tool("openssl", "ocsp", "-respin", response, "-resp_text", "-noverify")
    assert "Responder Error: malformedrequest" in process.stdout + process.stderr


def test_several_certificates_in_one_request_are_a_documented_limit(
    service: Service, work: Path
) -> None:
    """RFC 6960 allows a request about several certificates; pyca/cryptography can neither read
    nor answer one, and RFC 5019 (what relying parties send) asks about one: the answer is
    malformedRequest, and the service log says why and what to do. Each certificate asked on
    its own is answered."""
    first, second = (enroll_pem(service, openssl_req(work)) for _ in range(2))
    process = run_tool(
        "openssl",
        "ocsp",
        "-issuer",
        service.issuing_crt,
        "-cert",
        first,
        "-cert",
        second,
        "-url",
        f"{service.url}/ocsp",
        "-CAfile",
        service.root_crt,
    )
    assert "Responder Error: malformedrequest" in process.stdout + process.stderr
    log = service.log.read_text()
    assert "several certificates at once" in log, log[-2000:]
    assert "ask once per certificate (openssl ocsp: one -cert per command)" in log
    for leaf in (first, second):
        assert f"{leaf}: good" in _ocsp(service, leaf)


def _answers(port: int, data: bytes, count: int) -> tuple[list[tuple[dict[str, str], bytes]], bool]:
    """Send `data` on one connection and read `count` HTTP answers in order: each one's headers
    and body; and whether the server then closed the connection."""
    answers = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(data)
        stream = raw.makefile("rb")
        for _ in range(count):
            status = stream.readline()
            if status.startswith(b"HTTP/1.1 100"):  # an interim answer to Expect: 100-continue
                assert stream.readline() == b"\r\n"
                status = stream.readline()
            assert status.startswith(b"HTTP/1.1 200"), status
            headers: dict[str, str] = {}
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            answers.append((headers, stream.read(int(headers["content-length"]))))
        raw.settimeout(2)
        try:
            closed = stream.read(1) == b""
        except TimeoutError:
            closed = False
    return answers, closed


def _verify(service: Service, work: Path, leaf: Path, answer: bytes, name: str) -> str:
    response = work / f"{name}.der"
    response.write_bytes(answer)
    process = run_tool(
        "openssl", "ocsp", "-respin", response, "-issuer", service.issuing_crt, "-cert", leaf,
        "-CAfile", service.root_crt, "-verify_other", service.issuing_crt,
    )  # fmt: skip
    output = process.stdout + process.stderr
    assert process.returncode == 0 and "Response verify OK" in output, output
    return output


def test_requests_on_one_connection_are_answered_in_order(service: Service, work: Path) -> None:
    """The service's HTTP protocol answers OCSP requests itself when the answer is at hand
    (service/ocsp_protocol.py): several sent at once on one keep-alive connection (POST, GET,
    a request for a revoked certificate, garbage) come back whole and in their order; an
    HTTP/1.0 request is answered and its connection closed; `Expect: 100-continue` is left to
    the ASGI path, with the same answer."""
    good = enroll_pem(service, openssl_req(work))
    revoked = enroll_pem(service, openssl_req(work))
    revoke(service, revoked)
    der = {}
    for name, leaf in (("good", good), ("revoked", revoked)):
        request = work / f"{name}.req"
        openssl(
            "ocsp", "-issuer", service.issuing_crt, "-cert", leaf, "-no_nonce", "-reqout", request
        )
        der[name] = request.read_bytes()
    host = f"Host: 127.0.0.1:{service.port}\r\n"

    def post(body: bytes, extra: str = "", version: str = "1.1") -> bytes:
        head = (
            f"POST /ocsp HTTP/{version}\r\n{host}Content-Type: application/ocsp-request\r\n"
            f"{extra}Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    encoded = urllib.parse.quote(base64.b64encode(der["good"]).decode(), safe="")
    get = f"GET /ocsp/{encoded} HTTP/1.1\r\n{host}\r\n".encode()
    for _ in range(2):  # the second time, every answer is at hand (cached)
        sent = (
            post(der["good"]) + get + post(der["revoked"]) + post(b"not ocsp") + post(der["good"])
        )
        answers, closed = _answers(service.port, sent, 5)
        assert not closed  # kept alive
        assert all(h["content-type"] == "application/ocsp-response" for h, _ in answers)
        assert "max-age" in answers[1][0]["cache-control"]
        assert "cache-control" not in answers[0][0]
        assert f"{good}: good" in _verify(service, work, good, answers[0][1], "post")
        assert f"{good}: good" in _verify(service, work, good, answers[1][1], "get")
        assert f"{revoked}: revoked" in _verify(service, work, revoked, answers[2][1], "revoked")
        garbage = answers[3][1]
        assert garbage == bytes.fromhex("30030a0101")  # malformedRequest (RFC 6960 4.2.1)
        assert answers[4][1] == answers[0][1]

    answers, closed = _answers(service.port, post(der["good"], version="1.0"), 1)
    assert closed and answers[0][0].get("connection") == "close"
    assert f"{good}: good" in _verify(service, work, good, answers[0][1], "http10")

    answers, _ = _answers(service.port, post(der["good"], "Expect: 100-continue\r\n"), 1)
    assert f"{good}: good" in _verify(service, work, good, answers[0][1], "expect")
