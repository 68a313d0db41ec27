"""Bad input: each answered with a 4xx and a JSON {error, message, fix} in plain words (the
field, where, what was expected; never pydantic's type codes or links), never a 500, and the
server still answers /health afterwards."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from service_tools import DOMAIN, PASSWORDS, Service, curl, enroll_pem, openssl_req, serial_of

MIB = 1024 * 1024


@pytest.fixture
def http(service: Service) -> Iterator[httpx.Client]:
    with service.client("fe01") as client:
        yield client
    # whatever the test sent, the server is still up
    health = httpx.get(f"{service.url}/health", timeout=10)
    assert health.status_code == 200, health.text
    assert health.json()["status"] == "ok"


def _error(answer: httpx.Response, status: int, code: str | None = None) -> dict:
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fix"], str) and body["fix"]
    assert "Traceback" not in answer.text
    for jargon in ("pydantic", "input_type=", "[type=", "Input should", "Field required"):
        assert jargon not in answer.text, body
    if code is not None:
        assert body["error"] == code, body
    return body


PKCS10 = {"Content-Type": "application/pkcs10"}
JSON = {"Content-Type": "application/json"}


def test_two_mebibytes_are_413(http: httpx.Client) -> None:
    answer = http.post("/api/v1/enroll", content=b"A" * (2 * MIB), headers=PKCS10)
    _error(answer, 413, "request.too_large")


def test_two_mebibytes_without_a_length_are_413(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(32):
            yield b"B" * (64 * 1024)

    answer = http.post("/api/v1/enroll", content=chunks(), headers=PKCS10)
    assert "content-length" not in answer.request.headers  # sent chunked
    _error(answer, 413, "request.too_large")


@pytest.mark.external
def test_two_mebibytes_with_curl_are_413(service: Service, work: Path) -> None:
    big = work / "big.bin"
    big.write_bytes(b"\0" * (2 * MIB))
    answer = curl(
        work,
        f"{service.url}/api/v1/enroll",
        "-u",
        f"fe01:{PASSWORDS['fe01']}",
        "--data-binary",
        f"@{big}",
        "-H",
        "Content-Type: application/pkcs10",
    )
    assert answer.status == 413, answer
    assert answer.json()["error"] == "request.too_large"
    assert httpx.get(f"{service.url}/health").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"hello, CA",
        b"-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n",
        b"0\x82\x01\x00" + b"\x00" * 40,
        bytes(range(256)) * 4,
    ],
    ids=["empty", "text", "bad-pem", "bad-der", "binary"],
)
def test_not_a_request_is_400(http: httpx.Client, body: bytes) -> None:
    _error(http.post("/api/v1/enroll", content=body, headers=PKCS10), 400, "request.invalid")


@pytest.mark.external
def test_a_certificate_instead_of_a_request_is_400(service: Service, http: httpx.Client) -> None:
    answer = http.post("/api/v1/enroll", content=service.root_crt.read_bytes(), headers=PKCS10)
    _error(answer, 400, "request.invalid")


@pytest.mark.external
def test_foreign_domain_is_422_policy_namespace(http: httpx.Client, work: Path) -> None:
    csr = openssl_req(work, "/CN=www.contoso.com", ["www.contoso.com"])
    body = _error(
        http.post("/api/v1/enroll", content=csr.read_bytes(), headers=PKCS10),
        422,
        "policy.namespace",
    )
    assert "contoso.com" in body["message"]
    assert body["fix"]
    assert any(r["code"] == "policy.namespace" for r in body["refusals"])


@pytest.mark.external
def test_every_refusal_is_listed(http: httpx.Client, work: Path) -> None:
    csr = openssl_req(work, f"/CN=*.{DOMAIN}", [f"*.{DOMAIN}", "intranet.contoso.com"])
    body = _error(
        http.post(
            "/api/v1/enroll",
            params={"template": "OAuthTokenSigning"},
            content=csr.read_bytes(),
            headers=PKCS10,
        ),
        422,
    )
    codes = {r["code"] for r in body["refusals"]}
    assert "policy.namespace" in codes and len(codes) >= 2, body


@pytest.mark.external
def test_unknown_template_is_400(http: httpx.Client, work: Path) -> None:
    csr = openssl_req(work)
    answer = http.post(
        "/api/v1/enroll", params={"template": "NoSuchTemplate"}, content=csr.read_bytes()
    )
    body = _error(answer, 400)
    assert "NoSuchTemplate" in body["message"]
    assert "WebServer" in body["fix"]


def test_too_long_template_is_422(http: httpx.Client) -> None:
    _error(http.post("/api/v1/enroll", params={"template": "T" * 65}, content=b"x"), 422)


@pytest.mark.parametrize(
    "body",
    [b"{", b'{"csr": ', b"[1, 2]", b'{"template": "WebServer"}', b'{"csr": 42}', b"\xff\xfe"],
    ids=["open-brace", "truncated", "array", "no-csr", "csr-number", "not-utf8"],
)
def test_malformed_json_is_422(http: httpx.Client, body: bytes) -> None:
    answer = http.post("/api/v1/enroll", content=body, headers={"Content-Type": "application/json"})
    _error(answer, 422, "request.invalid")


def test_json_with_a_bad_csr_is_400(http: httpx.Client) -> None:
    _error(http.post("/api/v1/enroll", json={"csr": "not a request"}), 400, "request.invalid")


def test_unknown_path_is_404_json(http: httpx.Client) -> None:
    body = _error(http.get("/api/v1/no-such-thing"), 404, "not_found")
    assert body["message"] == "there is nothing at /api/v1/no-such-thing"
    assert "/docs" in body["fix"]
    _error(http.get("/favicon.ico"), 404, "not_found")


def test_get_on_a_post_route_is_405(http: httpx.Client) -> None:
    answer = http.get("/api/v1/enroll")
    body = _error(answer, 405, "method_not_allowed")
    assert "POST" in answer.headers.get("allow", "")
    assert body["message"] == "GET is not answered at /api/v1/enroll"
    assert body["fix"].startswith("use POST")
    _error(http.put("/api/v1/certificates/01/revoke"), 405, "method_not_allowed")
    body = _error(http.delete("/health"), 405, "method_not_allowed")
    assert "GET" in body["fix"]


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (("GET", "/api/v1/requests/abc", None), "request_id in the path must be a whole number"),
        (
            ("POST", "/api/v1/requests/1/deny", b'{"reason": 5}'),
            "field 'reason' of the JSON body must be text (a JSON string), not a number",
        ),
        (
            ("POST", "/api/v1/requests/1/deny", b"{bad"),
            "the body is not valid JSON",
        ),
        (("POST", "/api/v1/enroll", b'{"csr": 5}'), "field 'csr' of the JSON body must be text"),
        (("POST", "/api/v1/enroll", b'{"template": "W"}'), "field 'csr' of the JSON body is"),
        (("POST", "/api/v1/enroll", b"[1, 2]"), "the body must be a JSON object, not a list"),
        (("POST", "/api/v1/enroll", b"{"), "the body is not valid JSON"),
        (
            ("POST", "/api/v1/enroll?template=" + "T" * 65, b"x"),
            "query parameter template is longer than 64 characters",
        ),
    ],
    ids=["path-int", "reason-number", "deny-bad-json", "csr-number", "no-csr", "array",
         "enroll-bad-json", "long-template"],
)  # fmt: skip
def test_validation_names_the_field_in_plain_words(
    service: Service, call: tuple[str, str, bytes | None], expected: str
) -> None:
    method, path, content = call
    with service.client("boss") as http:
        answer = http.request(
            method, path, content=content, headers={"Content-Type": "application/json"}
        )
    body = _error(answer, 422, "request.invalid")
    assert body["message"].startswith(expected), body


@pytest.mark.external
def test_a_json_template_conflicting_with_the_query_is_400(http: httpx.Client, work: Path) -> None:
    csr = openssl_req(work).read_text()
    answer = http.post(
        "/api/v1/enroll", params={"template": "WebServer"}, json={"csr": csr, "template": "SubCA"}
    )
    body = _error(answer, 400, "request.template_conflict")
    assert "'WebServer'" in body["message"] and "'SubCA'" in body["message"], body
    same = http.post(
        "/api/v1/enroll",
        params={"template": "webserver"},
        json={"csr": csr, "template": "WebServer"},
        headers={"Accept": "application/json"},
    )
    assert same.status_code == 200, same.text  # the same template, however spelled


def test_revoke_with_a_bad_body_is_4xx(service: Service) -> None:
    with service.client("boss") as http:
        for content, kind in (
            (b"{", "application/json"),
            (b'{"reason": 5}', "application/json"),
            (b'{"reason": "' + b"x" * 100 + b'"}', "application/json"),
        ):
            answer = http.post(
                "/api/v1/certificates/01/revoke", content=content, headers={"Content-Type": kind}
            )
            assert 400 <= answer.status_code < 500, answer.text
            assert answer.json()["error"]
        not_serial = http.post("/api/v1/certificates/zz-not-hex/revoke")
        assert 400 <= not_serial.status_code < 500, not_serial.text
        huge = http.post(f"/api/v1/certificates/{'f' * 5000}/revoke")
        assert 400 <= huge.status_code < 500, huge.text
    assert httpx.get(f"{service.url}/health").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/certificates/01/revoke", "/api/v1/requests/1/deny"])
def test_two_mebibytes_to_a_management_call_are_413(service: Service, path: str) -> None:
    """The body limit holds on every route that reads a body, not on enrollment alone."""
    with service.client("boss") as http:
        answer = http.post(path, content=b"{" + b" " * (2 * MIB) + b"}", headers=JSON)
    _error(answer, 413, "request.too_large")


def test_the_template_asked_for_twice_in_the_query_is_400(http: httpx.Client) -> None:
    """?template=WebServer&template=SubCA named two templates; the last one was taken."""
    answer = http.post(
        "/api/v1/enroll?template=WebServer&template=SubCA", content=b"x", headers=PKCS10
    )
    body = _error(answer, 400, "request.template_conflict")
    assert "'WebServer'" in body["message"] and "'SubCA'" in body["message"], body


@pytest.mark.parametrize("request_id", [2**63, 10**30])
@pytest.mark.parametrize("call", ["status", "approve", "deny"])
def test_request_id_beyond_64_bits_is_4xx(service: Service, call: str, request_id: int) -> None:
    with service.client("boss") as http:
        if call == "status":
            answer = http.get(f"/api/v1/requests/{request_id}")
        else:
            answer = http.post(f"/api/v1/requests/{request_id}/{call}")
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["error"] in ("not_found", "request.invalid")


def test_request_id_at_the_64_bit_limit_is_404(http: httpx.Client) -> None:
    _error(http.get(f"/api/v1/requests/{2**63 - 1}"), 404, "not_found")
    _error(http.get("/api/v1/requests/-1"), 404, "not_found")


def test_docs_describe_the_api(service: Service) -> None:
    schema = httpx.get(f"{service.url}/openapi.json").json()
    for path in (
        "/api/v1/enroll",
        "/api/v1/requests/{request_id}",
        "/api/v1/requests/{request_id}/approve",
        "/api/v1/certificates/{serial}/revoke",
        "/health",
    ):
        assert path in schema["paths"], sorted(schema["paths"])


def test_the_openapi_document_says_how_to_sign_in_and_what_is_answered(service: Service) -> None:
    """It named no way to sign in, described errors as FastAPI's {"detail": [...]} (never
    answered), listed no 400/403/404/409, gave the certificate as JSON only and OCSP, CRLs and
    CA certificates no media type. Each claim is held against what the service answers."""
    document = httpx.get(f"{service.url}/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(document)
    schemes = document["components"]["securitySchemes"]
    assert schemes["basic"] == {**schemes["basic"], "type": "http", "scheme": "basic"}
    paths = document["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, status)
            if path.startswith("/api/"):
                assert {"basic": []} in operation["security"], (path, method)
                assert {"400", "401", "403", "404", "409", "429"} <= set(operation["responses"])
    enroll = paths["/api/v1/enroll"]["post"]["responses"]["200"]["content"]
    assert set(enroll) == {
        "application/pem-certificate-chain", "application/pkcs7-mime", "application/json"
    }  # fmt: skip
    ocsp = paths["/ocsp"]["post"]
    assert set(ocsp["requestBody"]["content"]) == {"application/ocsp-request"}
    assert set(ocsp["responses"]["200"]["content"]) == {"application/ocsp-response"}
    assert set(paths["/crl/{name}"]["get"]["responses"]["200"]["content"]) == {
        "application/pkix-crl"
    }
    # what it says is what is answered: an error's fields, the media types named
    with service.client("fe01") as http:
        wrong = http.post("/api/v1/enroll", content=b"hello")
        assert set(document["components"]["schemas"]["Error"]["required"]) <= set(wrong.json())
        crl = http.get(f"/crl/{service.slug}.crl")
        assert crl.headers["content-type"] == "application/pkix-crl"
    page = httpx.get(f"{service.url}/docs", timeout=10)  # still rendered from it
    assert page.status_code == 200 and "/api/v1/enroll" in page.text


def test_the_api_page_needs_nothing_from_the_internet(service: Service) -> None:
    """/docs was FastAPI's Swagger UI, whose scripts come from a CDN: a blank page on a CA's
    isolated network. It is rendered by the service now, every route on it."""
    page = httpx.get(f"{service.url}/docs", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    schema = httpx.get(f"{service.url}/openapi.json", timeout=10).json()
    for path, item in schema["paths"].items():
        for method in item:
            assert f"{method.upper()} {path}" in page.text, (method, path)
    external = [url for url in ("http://", "https://", "//cdn") if f'src="{url}' in page.text]
    assert not external and "<script" not in page.text
    assert "swagger-ui" in httpx.get(f"{service.url}/docs/swagger", timeout=10).text


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
    ],
    ids=["100-KB-url", "garbage"],
)
def test_a_request_http_cannot_read_is_a_json_400(service: Service, request_bytes: bytes) -> None:
    """uvicorn answered these in plain text ("Invalid HTTP request received.")."""
    import socket

    host, port = service.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request_bytes)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head
    assert b"content-type: application/json" in head.lower()
    document = json.loads(body)
    assert document["error"] == "request.malformed" and document["fix"]
    assert httpx.get(f"{service.url}/health", timeout=10).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
    ids=["other-origin", "null-origin", "fetch-cross-site"],
)
def test_an_api_call_a_page_of_another_site_sends_is_refused(
    service: Service, work: Path, headers: dict[str, str]
) -> None:
    """A browser sends the HTTP basic credentials it remembers with any request, and a form on
    any site can post JSON as text/plain: a page elsewhere made a manager's browser revoke. Such
    calls are refused (403); the same call without an Origin (a script) still works."""
    leaf = enroll_pem(service, openssl_req(work))
    serial = serial_of(leaf)
    with service.client("boss") as http:
        forged = http.post(
            f"/api/v1/certificates/{serial}/revoke",
            content=b'{"reason": "keyCompromise"}',
            headers={"Content-Type": "text/plain", **headers},
        )
        body = _error(forged, 403, "request.cross_site")
        assert "another site" in body["message"], body
        enroll = http.post(
            "/api/v1/enroll", content=openssl_req(work).read_bytes(), headers={**PKCS10, **headers}
        )
        _error(enroll, 403, "request.cross_site")  # the enrollment fast path too
        same = http.post(
            f"/api/v1/certificates/{serial}/revoke",
            json={"reason": "superseded"},
            headers={"Origin": service.url},
        )
    assert same.status_code == 200, same.text  # the service's own origin: not another site
    shown = json.loads(service.cli("ca", "show", serial, "--json").stdout)
    assert shown["revocation_reason"] == "superseded"


def test_health_answers_head_as_probes_send_it(service: Service) -> None:
    """With the GET's headers (it said content-length: 0 and no type)."""
    answer = httpx.head(f"{service.url}/health", timeout=10)
    assert answer.status_code == 200 and answer.content == b""
    got = httpx.get(f"{service.url}/health", timeout=10)
    assert answer.headers["content-type"] == got.headers["content-type"] == "application/json"
    assert int(answer.headers["content-length"]) == len(got.content)


@pytest.mark.parametrize("path", ["/ocsp", "/api/v1/enroll"])
def test_a_body_declared_too_large_is_refused_before_the_client_sends_it(
    service: Service, path: str
) -> None:
    """A client that sent `Expect: 100-continue` with a 2 MiB body was told to go on (100
    Continue) by /ocsp, uploaded it all, then got 413: the 413 now comes first."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic "
        + base64.b64encode(f"fe01:{PASSWORDS['fe01']}".encode()).decode()
        + f"\r\nExpect: 100-continue\r\nContent-Length: {2 * MIB}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", service.port)) as client:
        client.sendall(head.encode())
        client.settimeout(10)
        first = client.recv(65536)
    assert first.startswith(b"HTTP/1.1 413"), first[:200]


def test_a_denial_reason_longer_than_kept_is_refused_not_cut(service: Service) -> None:
    """The API refused a reason over 500 characters while the CLI cut it without a word."""
    with service.client("boss") as http:
        answer = http.post("/api/v1/requests/1/deny", json={"reason": "x" * 501})
    _error(answer, 422, "request.invalid")
    cut = service.cli("ca", "deny", "1", "--reason", "x" * 501, check=False)
    assert cut.returncode == 2, cut
    assert "501 characters long, at most 500 are kept" in cut.stderr


def test_openapi_operation_ids_are_unique(service: Service) -> None:
    schema = httpx.get(f"{service.url}/openapi.json").json()
    ids = [
        operation["operationId"]
        for path in schema["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, duplicates


@pytest.mark.external
def test_json_content_type_is_case_insensitive(http: httpx.Client, work: Path) -> None:
    """Media types are case-insensitive (RFC 9110 8.3.1): Application/JSON is JSON."""
    csr = openssl_req(work)
    answer = http.post(
        "/api/v1/enroll",
        content=json.dumps({"csr": csr.read_text()}).encode(),
        headers={"Content-Type": "Application/JSON; charset=UTF-8", "Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "issued"


def test_a_misspelt_field_is_refused_not_ignored(service: Service, work: Path) -> None:
    """{"Reason": "keyCompromise"} revoked as unspecified, and a revocation is final;
    {"tempalte": ...} issued under WebServer; {"reson": ...} denied with no reason."""
    leaf = enroll_pem(service, openssl_req(work))
    serial = serial_of(leaf)
    with service.client("boss") as http:
        revoked = http.post(
            f"/api/v1/certificates/{serial}/revoke", json={"Reason": "keyCompromise"}
        )
        body = _error(revoked, 422, "request.invalid")
        assert "Reason" in body["message"] and "not expected" in body["message"], body
        enrolled = http.post(
            "/api/v1/enroll",
            json={"csr": openssl_req(work).read_text(), "tempalte": "LyncServer"},
        )
        assert "tempalte" in _error(enrolled, 422, "request.invalid")["message"]
    shown = json.loads(service.cli("ca", "show", serial, "--json").stdout)
    assert shown["status"] == "valid", shown  # not revoked with the wrong reason


def test_a_requester_is_told_403_whatever_the_body(service: Service) -> None:
    """A requester's revoke or deny with a bad body got 422 (a body over 1 MiB: 413): the
    role is checked first."""
    with service.client("fe01") as http:
        revoke = http.post("/api/v1/certificates/ab/revoke", content=b'{"reason": 5}')
        deny = http.post("/api/v1/requests/1/deny", content=b"x" * (2 * 1024 * 1024))
    _error(revoke, 403, "auth.forbidden")
    _error(deny, 403, "auth.forbidden")


def test_what_a_call_does_not_take_is_refused_not_ignored(service: Service, work: Path) -> None:
    """A body on approve or unrevoke ({"junk": 1}), an unknown query parameter on enroll
    (?tempalte=LyncServer: issued under WebServer) and an empty ?template= were taken and
    ignored; each is refused, and nothing is issued, approved or released meanwhile."""
    held = enroll_pem(service, openssl_req(work))
    serial = serial_of(held)
    with service.client("boss") as manager, service.client("fe01") as requester:
        sub = requester.post(
            "/api/v1/enroll",
            params={"template": "SubCA"},
            content=openssl_req(work, "/CN=Corp Test Sub CA", None).read_bytes(),
            headers={"Content-Type": "application/pkcs10"},
        )
        assert sub.status_code == 202, sub.text
        request_id = sub.json()["request_id"]
        body = _error(
            manager.post(f"/api/v1/requests/{request_id}/approve", json={"junk": 1}),
            422,
            "request.invalid",
        )
        assert "junk" in body["message"] and body["fix"] == "send no body", body
        assert manager.get(f"/api/v1/requests/{request_id}").json()["status"] == "pending"
        assert (
            manager.post(
                f"/api/v1/certificates/{serial}/revoke", json={"reason": "certificateHold"}
            ).status_code
            == 200
        )
        _error(
            manager.post(f"/api/v1/certificates/{serial}/unrevoke", json={"junk": 1}),
            422,
            "request.invalid",
        )
        shown = json.loads(service.cli("ca", "show", serial, "--json").stdout)
        assert shown["status"] == "revoked", shown
        for query in ({"tempalte": "LyncServer"}, {"template": ""}, {"template": " "}):
            answer = requester.post(
                "/api/v1/enroll",
                params=query,
                content=openssl_req(work).read_bytes(),
                headers={"Content-Type": "application/pkcs10"},
            )
            said = _error(answer, 400, "request.invalid")
            assert ("tempalte" in said["message"]) or ("empty" in said["message"]), said
        manager.post(f"/api/v1/requests/{request_id}/deny")


def test_a_request_sent_as_a_form_is_told_how_to_send_it(service: Service, work: Path) -> None:
    """A URL-encoded form (`curl --data-urlencode csr@req.csr`) was told that the PEM armor
    is damaged. The fix now says how to send the file. `curl -d @req.csr` (a form's type, the
    request alone, its line breaks dropped), a multipart form holding the file, and
    --data-binary are issued."""
    csr = openssl_req(work)
    auth = ["-u", f"fe01:{PASSWORDS['fe01']}"]
    answer = curl(work, f"{service.url}/api/v1/enroll", *auth, "--data-urlencode", f"csr@{csr}")
    assert answer.status == 400, answer
    said = answer.json()
    assert "--data-binary @req.csr" in said["fix"], said
    for how in (
        ["-d", f"@{csr}"],
        ["-F", f"csr=@{csr}"],
        ["--data-binary", f"@{csr}", "-H", "Content-Type: application/pkcs10"],
    ):
        answer = curl(work, f"{service.url}/api/v1/enroll", *auth, *how)
        assert answer.status == 200, (how, answer)


@pytest.mark.parametrize(
    ("path", "fix"), [("/ocsp", "one OCSP request"), ("revoke", "a JSON body")]
)
def test_a_body_too_large_is_told_what_to_send(service: Service, path: str, fix: str) -> None:
    """A 413 on /ocsp or on a revocation said "send the certificate request only"."""
    url = path if path.startswith("/") else "/api/v1/certificates/ab/revoke"
    with service.client("boss") as http:
        answer = http.post(url, content=b"x" * (2 * MIB))
    assert answer.status_code == 413
    assert fix in answer.json()["fix"], answer.text


def test_an_unknown_request_id_is_told_where_ids_come_from(service: Service) -> None:
    """A manager asking about no request was told to list them with `ca pending`, which
    lists only those that wait."""
    with service.client("boss") as http:
        said = _error(http.get("/api/v1/requests/999999"), 404)
    assert "X-Request-Id" in said["fix"], said
