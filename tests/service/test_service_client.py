"""lyncpki's own client (CaClient) against the live service: what a deployment run uses to get
its certificates. Its answers are checked against openssl and the service's own HTTP answers."""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from service_tools import (
    DOMAIN,
    PASSWORDS,
    Service,
    free_port,
    openssl,
    openssl_req,
    same_serial,
    serial_of,
    verify,
    write_leaf,
)

from lyncpki.ca.client import (
    CaClient,
    CaClientError,
    CaNoAnswer,
    CaNotAuthorized,
    CaRefused,
    CaUnreachable,
    Enrollment,
)

WRONG_PASSWORD_CLIENT = "127.0.0.5"  # failed logins counted away from 127.0.0.1


def _client(service: Service, account: str = "fe01") -> CaClient:
    return CaClient(service.url, account, PASSWORDS[account], timeout=30)


@pytest.mark.external
def test_enroll_and_retrieve(service: Service, work: Path) -> None:
    csr = openssl_req(work, f"/CN=pool02.{DOMAIN}", [f"pool02.{DOMAIN}"])
    with _client(service) as client:
        enrollment = client.enroll(csr.read_bytes())
        assert isinstance(enrollment, Enrollment)
        assert enrollment.status == "issued"
        assert enrollment.certificate is not None and enrollment.serial is not None
        assert [c.subject.rfc4514_string() for c in enrollment.chain] == [
            f"CN={service.config['name']}",
            f"CN={service.config['root_name']}",
        ]
        leaf = write_leaf(work, enrollment.certificate.public_bytes(Encoding.PEM).decode())
        assert same_serial(enrollment.serial, serial_of(leaf))
        assert verify(service, leaf).returncode == 0
        again = client.retrieve(enrollment.request_id)
        assert again.status == "issued"
        assert again.serial == enrollment.serial
        assert again.certificate == enrollment.certificate
        assert client.health()["status"] == "ok"


@pytest.mark.external
def test_pending_approve_and_deny_through_the_client(service: Service, work: Path) -> None:
    with _client(service) as requester, _client(service, "boss") as manager:
        first = requester.enroll(
            openssl_req(work, "/CN=Corp Test Sub CA", None).read_bytes(), "SubCA"
        )
        assert first.status == "pending" and first.certificate is None
        with pytest.raises(CaNotAuthorized) as refused:
            requester.approve(first.request_id)
        assert refused.value.status == 403
        issued = manager.approve(first.request_id)
        assert issued.status == "issued" and issued.certificate is not None
        assert requester.retrieve(first.request_id).certificate == issued.certificate

        second = requester.enroll(
            openssl_req(work, "/CN=Corp Test Sub CA", None).read_bytes(), "SubCA"
        )
        manager.deny(second.request_id, "not now")
        denied = requester.retrieve(second.request_id)
        assert (denied.status, denied.reason) == ("denied", "not now")  # said to the requester
        with pytest.raises(CaRefused) as late:
            manager.approve(second.request_id)
        assert late.value.status == 409


@pytest.mark.external
def test_revoke_and_fetch_crl_and_certificate(service: Service, work: Path) -> None:
    with _client(service) as requester, _client(service, "boss") as manager:
        enrollment = requester.enroll(openssl_req(work).read_bytes())
        assert enrollment.serial is not None and enrollment.certificate is not None
        done = manager.revoke(enrollment.serial, "superseded")
        assert done["reason"] == "superseded"
        cert = enrollment.certificate
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        issuers = [
            d.access_location.value
            for d in aia
            if d.access_method == x509.AuthorityInformationAccessOID.CA_ISSUERS
        ]
        issuing = requester.fetch_certificate(issuers[0])
        assert issuing == enrollment.chain[0]
        cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        crl = requester.fetch_crl(cdp[0].full_name[0].value)
        assert crl.is_signature_valid(issuing.public_key())
        with pytest.raises(CaRefused):
            requester.fetch_crl(f"{service.url}/aia/{service.slug}.crt")  # not a CRL


@pytest.mark.external
def test_refusal_raises_ca_refused_with_the_policy_code(service: Service, work: Path) -> None:
    csr = openssl_req(work, "/CN=www.contoso.com", ["www.contoso.com"])
    with _client(service) as client, pytest.raises(CaRefused) as refused:
        client.enroll(csr.read_bytes())
    assert refused.value.code == "policy.namespace"
    assert refused.value.status == 422
    assert "contoso.com" in refused.value.message
    assert refused.value.fix
    assert any(d["code"] == "policy.namespace" for d in refused.value.details)


def test_not_a_request_raises_ca_refused(service: Service) -> None:
    with _client(service) as client, pytest.raises(CaRefused) as refused:
        client.enroll(b"this is no request")
    assert refused.value.code == "request.invalid" and refused.value.status == 400


def test_closed_port_raises_ca_unreachable() -> None:
    port = free_port()  # nothing listens there
    with CaClient(f"http://127.0.0.1:{port}", "fe01", "x", timeout=5) as client:
        with pytest.raises(CaUnreachable) as unreachable:
            client.enroll(b"-----BEGIN CERTIFICATE REQUEST-----")
        assert unreachable.value.code == "unreachable"
        assert f"127.0.0.1:{port}" in unreachable.value.message
        with pytest.raises(CaUnreachable):
            client.health()


def test_silent_server_raises_ca_no_answer(service: Service) -> None:
    """A server that takes the request but never answers: unreachable, and said to have taken
    it (the CA may have acted on it, unlike a connection never made)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with CaClient(url, "fe01", "x", timeout=0.5) as client, pytest.raises(CaNoAnswer) as e:
            client.health()
    assert e.value.code == "no_answer" and "gave no answer" in e.value.message


@pytest.mark.external
def test_a_serial_is_one_path_segment_never_a_path(service: Service, work: Path) -> None:
    """revoke("../requests/N/approve#") approved request N: the serial went into the URL as
    it was."""
    with _client(service) as requester, _client(service, "boss") as manager:
        held = requester.enroll(
            openssl_req(work, "/CN=Corp Test Sub CA", None).read_bytes(), "SubCA"
        )
        assert held.status == "pending"
        for crafted in (f"../requests/{held.request_id}/approve#", "..", "."):
            with pytest.raises(CaRefused):
                manager.revoke(crafted, "keyCompromise")
        assert requester.retrieve(held.request_id).status == "pending"


def test_an_https_service_whose_root_is_not_trusted_says_so(tmp_path: Path) -> None:
    """An HTTPS CA service with a private root was "unreachable: check that lyncpki ca serve
    runs there", which it did: the fix is the root to trust."""
    import ssl

    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-subj", "/CN=127.0.0.1", "-days", "1", "-keyout", str(tmp_path / "tls.key"),
        "-out", str(tmp_path / "tls.crt"),
    )  # fmt: skip
    (tmp_path / "tls.pem").write_bytes(
        (tmp_path / "tls.crt").read_bytes() + (tmp_path / "tls.key").read_bytes()
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "tls.pem")
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}"
        with CaClient(url, "fe01", "x", timeout=10) as client, pytest.raises(CaUnreachable) as e:
            client.health()
    finally:
        server.shutdown()
        server.server_close()
    assert e.value.code == "tls" and "not trusted" in e.value.message
    assert e.value.fix and "--ca-trust" in e.value.fix


def test_wrong_password_raises_ca_not_authorized(service: Service) -> None:
    transport = httpx.HTTPTransport(local_address=WRONG_PASSWORD_CLIENT)
    with (
        CaClient(service.url, "fe01", "wrong-password!", transport=transport) as client,
        pytest.raises(CaNotAuthorized) as refused,
    ):
        client.enroll(b"whatever")
    assert refused.value.status == 401
    assert refused.value.code == "auth.failed"


def test_requester_revoking_raises_ca_not_authorized(service: Service) -> None:
    with _client(service) as client, pytest.raises(CaNotAuthorized) as refused:
        client.revoke("01")
    assert refused.value.status == 403 and refused.value.code == "auth.forbidden"


def test_unknown_request_raises_ca_refused(service: Service) -> None:
    with _client(service) as client, pytest.raises(CaRefused) as refused:
        client.retrieve(99_999_999)
    assert refused.value.status == 404


@pytest.mark.external
def test_openssl_reads_what_the_client_got(service: Service, work: Path) -> None:
    """The client's certificate bytes are the server's: openssl prints the same subject."""
    csr = openssl_req(work)
    with _client(service) as client:
        enrollment = client.enroll(csr.read_bytes(), "WebServer")
    assert enrollment.certificate is not None
    leaf = write_leaf(work, enrollment.certificate.public_bytes(Encoding.PEM).decode())
    assert (
        openssl("x509", "-in", leaf, "-noout", "-subject").strip() == f"subject=CN = fe01.{DOMAIN}"
    )


class _NotACa(http.server.BaseHTTPRequestHandler):
    """A web server that is no CA: a welcome page, or a bare 503, for every path."""

    status = 200

    def _answer(self) -> None:
        body = b"<html>welcome</html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *_: object) -> None:
        pass


@contextlib.contextmanager
def _not_a_ca(status: int) -> Iterator[str]:
    handler = type("Handler", (_NotACa,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_web_page_instead_of_a_ca_is_a_clear_error() -> None:
    """A URL that answers 200 with a web page crashed the client (JSONDecodeError) and
    `lyncpki request --ca` with exit 70."""
    with _not_a_ca(200) as url, CaClient(url, "fe01", "x", timeout=5) as client:
        for call in (client.health, lambda: client.enroll(b"x"), lambda: client.retrieve(7)):
            with pytest.raises(CaRefused) as refused:
                call()
            assert refused.value.code == "not_a_ca"
            assert "did not answer like a lyncpki CA" in refused.value.message
            assert "text/html" in refused.value.message and refused.value.fix


def test_a_failing_ca_is_unavailable_not_a_refusal() -> None:
    """A 5xx (the CA's database down) was reported as 'the CA refused'."""
    with (
        _not_a_ca(503) as url,
        CaClient(url, "fe01", "x", timeout=5) as client,
        pytest.raises(CaUnreachable) as down,
    ):
        client.health()
    assert down.value.status == 503 and "not available" in down.value.message
    assert down.value.fix


def test_bad_client_settings_are_domain_errors_naming_what_is_wrong(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(CaClientError) as trust:
        CaClient("https://127.0.0.1:1", verify=str(missing))
    assert str(missing) in trust.value.message and trust.value.fix
    with pytest.raises(CaClientError) as url:
        CaClient("http://[::1").health()
    assert "[::1" in url.value.message
    port = free_port()
    with CaClient("http://127.0.0.1:1") as client, pytest.raises(CaUnreachable) as crl:
        client.fetch_crl(f"http://127.0.0.1:{port}/crl/x.crl")
    assert f"127.0.0.1:{port}/crl/x.crl" in crl.value.message  # the URL fetched, not the base


@pytest.mark.external
def test_a_request_id_is_a_number_never_a_path(service: Service, work: Path) -> None:
    """approve("../certificates/S/revoke#") revoked certificate S: the id went into the URL
    as it was. Refused now, before anything is sent; the certificate stays valid."""
    with _client(service) as requester, _client(service, "boss") as manager:
        issued = requester.enroll(openssl_req(work).read_bytes())
        assert issued.certificate is not None
        serial = f"{issued.certificate.serial_number:x}"
        for crafted in (f"../certificates/{serial}/revoke#", "7/../../x", "", "-1", "1.0"):
            with pytest.raises(CaRefused) as refused:
                manager.approve(crafted)  # type: ignore[arg-type]
            assert refused.value.code == "request.invalid"
            with pytest.raises(CaRefused):
                manager.deny(crafted)  # type: ignore[arg-type]
            with pytest.raises(CaRefused):
                manager.retrieve(crafted)  # type: ignore[arg-type]
        leaf = write_leaf(work, issued.certificate.public_bytes(Encoding.PEM).decode())
        assert verify(service, leaf).returncode == 0
        shown = json.loads(service.cli("ca", "show", serial, "--json").stdout)
        assert shown["status"] == "valid", shown


def test_a_base_url_that_is_no_http_url_is_a_setting_error() -> None:
    """ "not a url" and ftp:// were "cannot reach ...: check that ca serve runs there"."""
    for url in ("not a url", "ftp://ca.contoso.net/", "http://"):
        with pytest.raises(CaClientError) as refused:
            CaClient(url)
        assert refused.value.code == "config", url
        assert "is no http:// or https:// URL" in refused.value.message
        assert "http://ca.contoso.net:8080" in (refused.value.fix or "")


@pytest.mark.external
def test_https_to_a_plain_http_service_says_to_use_http(service: Service) -> None:
    with (
        CaClient(service.url.replace("http://", "https://")) as client,
        pytest.raises(CaUnreachable) as refused,
    ):
        client.health()
    assert refused.value.code == "tls"
    assert "give its URL as http://" in (refused.value.fix or "")
