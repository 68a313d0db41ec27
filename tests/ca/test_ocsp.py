"""The OCSP responder, judged by `openssl ocsp`: requests are made by openssl, and openssl
verifies every answer through the delegated responder certificate up to the root (-CAfile root,
-verify_other issuing), checks the nonce and prints the status. Answers to what openssl cannot
ask (an unknown serial, an oversized nonce) are made with cryptography's request builder and
still read back by openssl.

The good and revoked answers travel over HTTP (`openssl ocsp -url`, a POST to a small stdlib
server around the responder), the way a relying party asks.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from ca_tools import (
    NAMESPACE,
    PASSPHRASE,
    ca_file,
    openssl,
    openssl_req,
    run_openssl,
    write_pem,
    x509_text,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID
from sqlalchemy import select

from lyncpki.ca import database as db
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.certificates import BACKDATE, random_serial
from lyncpki.ca.crl import Reason
from lyncpki.ca.home import CaHome
from lyncpki.ca.ocsp import (
    CACHE_SECONDS,
    OcspResponder,
    ensure_responder,
    issuer_hashes,
    signer_files,
    unsuccessful,
)
from lyncpki.clock import FixedClock
from lyncpki.errors import LyncPkiError
from lyncpki.keyspec import KeySpec
from lyncpki.x509.identifiers import serial_hex
from lyncpki.x509.keys import encrypt_key

ALGORITHMS: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(),
    "sha224": hashes.SHA224(),
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


# ---------------------------------------------------------------- helpers
def issue(ca: CertificateAuthority, work: Path, name: str) -> tuple[Path, x509.Certificate]:
    request = openssl_req(work, subject=f"/CN={name}", sans=[name])
    result = ca.submit(request, requester="test")
    assert result.certificate is not None
    return write_pem(work, f"{name}.pem", result.certificate), result.certificate


def responder_of(ca: CertificateAuthority, **kwargs: bytes) -> OcspResponder:
    return OcspResponder(ca, ensure_responder(ca, PASSPHRASE), **kwargs)


def openssl_request(
    ca: CertificateAuthority, work: Path, *certs: Path, flags: tuple[str, ...] = ("-no_nonce",)
) -> bytes:
    """A request written by `openssl ocsp -reqout` (flags before -cert: -sha256 must be)."""
    out = work / "req.der"
    args: list[str | Path] = ["ocsp", "-issuer", ca_file(ca, "issuing"), *flags]
    for cert in certs:
        args += ["-cert", cert]
    openssl(*args, "-reqout", out)
    return out.read_bytes()


def read_response(
    ca: CertificateAuthority, work: Path, response: bytes, request: bytes | None = None
) -> str:
    """openssl's verdict on a response (verified against root + issuing), stdout and stderr."""
    resp = work / "resp.der"
    resp.write_bytes(response)
    args: list[str | Path] = ["ocsp", "-respin", resp, "-resp_text"]
    if request is not None:
        req = work / "asked.der"
        req.write_bytes(request)
        args += ["-reqin", req]
    args += ["-CAfile", ca_file(ca, "root"), "-verify_other", ca_file(ca, "issuing")]
    process = run_openssl(*args)
    return process.stdout + process.stderr


def openssl_date(moment: dt.datetime) -> str:
    """A time as openssl prints it: `Nov  5 09:33:51 2026 GMT`."""
    moment = moment.astimezone(dt.UTC)
    return f"{moment:%b} {moment.day:2d} {moment:%H:%M:%S %Y} GMT"


class _Handler(BaseHTTPRequestHandler):
    responder: OcspResponder

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        answer = self.responder.respond(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


Serve = Callable[[OcspResponder], str]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """serve(responder) -> the URL of an HTTP server answering OCSP POSTs with it."""
    servers: list[ThreadingHTTPServer] = []

    def start(responder: OcspResponder) -> str:
        handler = type("Handler", (_Handler,), {"responder": responder})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/ocsp"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def ask(ca: CertificateAuthority, url: str, cert: Path, *flags: str) -> str:
    """`openssl ocsp -url` with a nonce (unless flags say -no_nonce), verifying the answer."""
    process = run_openssl(
        "ocsp",
        "-issuer",
        ca_file(ca, "issuing"),
        *flags,
        "-cert",
        cert,
        "-url",
        url,
        "-CAfile",
        ca_file(ca, "root"),
        "-verify_other",
        ca_file(ca, "issuing"),
    )
    output = process.stdout + process.stderr
    assert process.returncode == 0, output
    assert "Response verify OK" in output, output
    return output


def status_of(response: bytes) -> ocsp.OCSPCertStatus:
    return ocsp.load_der_ocsp_response(response).certificate_status


# ---------------------------------------------------------------- answers openssl verifies
@pytest.mark.external
@pytest.mark.parametrize("digest", ["sha1", "sha256"])
def test_good_answer_is_verified_through_the_delegated_responder(
    ca: CertificateAuthority, work: Path, serve: Serve, digest: str
) -> None:
    leaf, _ = issue(ca, work, f"ocsp-good-{digest}.{NAMESPACE}")
    url = serve(responder_of(ca))
    output = ask(ca, url, leaf, f"-{digest}")
    assert f"{leaf}: good" in output
    assert "WARNING: no nonce in response" not in output  # the nonce came back, and matched
    assert "Nonce Verify error" not in output
    assert re.search(r"This Update: .+\n\s*Next Update: .+", output), output


@pytest.mark.external
def test_answer_without_a_nonce_request(ca: CertificateAuthority, work: Path) -> None:
    leaf, _ = issue(ca, work, f"ocsp-nononce.{NAMESPACE}")
    request = openssl_request(ca, work, leaf)
    response = responder_of(ca).respond(request)
    output = read_response(ca, work, response, request)
    assert "Response verify OK" in output, output
    assert "Cert Status: good" in output
    assert "Hash Algorithm: sha1" in output
    assert "Response Extensions" not in output  # no nonce made up


@pytest.mark.external
def test_untrusted_root_fails_verification(
    ca: CertificateAuthority, fresh_ca: CertificateAuthority, work: Path
) -> None:
    """The control: openssl really checks the signature chain (another CA's root fails)."""
    leaf, _ = issue(ca, work, f"ocsp-control.{NAMESPACE}")
    request = openssl_request(ca, work, leaf)
    response = responder_of(ca).respond(request)
    resp = work / "resp.der"
    resp.write_bytes(response)
    process = run_openssl(
        "ocsp",
        "-respin",
        resp,
        "-CAfile",
        ca_file(fresh_ca, "root"),
        "-verify_other",
        ca_file(ca, "issuing"),
    )
    assert "Response Verify Failure" in process.stdout + process.stderr
    process = run_openssl("ocsp", "-respin", resp, "-CAfile", ca_file(ca, "root"))
    assert "Response Verify Failure" in process.stdout + process.stderr  # issuing CA needed


@pytest.mark.external
def test_revoked_answer_says_when_and_why(
    fresh_ca: CertificateAuthority, work: Path, serve: Serve
) -> None:
    ca = fresh_ca
    compromised, compromised_cert = issue(ca, work, f"fe01.{NAMESPACE}")
    plain, plain_cert = issue(ca, work, f"fe02.{NAMESPACE}")
    url = serve(responder_of(ca))
    assert f"{compromised}: good" in ask(ca, url, compromised)

    revoked = ca.revoke(
        serial_hex(compromised_cert.serial_number), reason=Reason.KEY_COMPROMISE, actor="test"
    )
    ca.revoke(serial_hex(plain_cert.serial_number), actor="test")  # unspecified
    # no CRL published: OCSP answers from the database at once
    output = ask(ca, url, compromised)
    assert f"{compromised}: revoked" in output
    assert "Reason: keyCompromise" in output
    assert f"Revocation Time: {openssl_date(revoked['revoked_at'])}" in output

    output = ask(ca, url, plain)
    assert f"{plain}: revoked" in output
    assert "Revocation Time:" in output
    assert "Reason:" not in output  # RFC 5280: the unspecified reason is omitted


@pytest.mark.external
def test_serial_the_ca_never_issued_is_unknown(ca: CertificateAuthority, work: Path) -> None:
    leaf, _ = issue(ca, work, f"ocsp-known.{NAMESPACE}")
    asked = ocsp.load_der_ocsp_request(openssl_request(ca, work, leaf, flags=("-sha256",)))
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            asked.issuer_name_hash, asked.issuer_key_hash, random_serial(), hashes.SHA256()
        )
        .build()
        .public_bytes(Encoding.DER)
    )
    output = read_response(ca, work, responder_of(ca).respond(request), request)
    assert "Response verify OK" in output, output
    assert "Cert Status: unknown" in output
    assert "Hash Algorithm: sha256" in output


@pytest.mark.external
def test_another_issuer_is_unauthorized(ca: CertificateAuthority, work: Path) -> None:
    """The issuing CA certificate, asked about with the root as issuer: not ours to answer."""
    out = work / "req.der"
    openssl(
        "ocsp",
        "-issuer",
        ca_file(ca, "root"),
        "-cert",
        ca_file(ca, "issuing"),
        "-no_nonce",
        "-reqout",
        out,
    )
    output = read_response(ca, work, responder_of(ca).respond(out.read_bytes()))
    assert "Responder Error: unauthorized (6)" in output


@pytest.mark.external
def test_right_name_wrong_key_is_unauthorized(ca: CertificateAuthority, work: Path) -> None:
    leaf, _ = issue(ca, work, f"ocsp-wrongkey.{NAMESPACE}")
    asked = ocsp.load_der_ocsp_request(openssl_request(ca, work, leaf))
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            asked.issuer_name_hash, bytes(20), asked.serial_number, hashes.SHA1()
        )
        .build()
        .public_bytes(Encoding.DER)
    )
    output = read_response(ca, work, responder_of(ca).respond(request))
    assert "Responder Error: unauthorized (6)" in output


@pytest.mark.external
def test_malformed_requests(ca: CertificateAuthority, work: Path) -> None:
    responder = responder_of(ca)
    first, _ = issue(ca, work, f"ocsp-multi1.{NAMESPACE}")
    second, _ = issue(ca, work, f"ocsp-multi2.{NAMESPACE}")
    two = openssl_request(ca, work, first, second)  # cryptography reads single requests only
    big_nonce = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(
            x509.load_pem_x509_certificate(first.read_bytes()), ca.issuer.certificate, hashes.SHA1()
        )
        .add_extension(x509.OCSPNonce(os.urandom(129)), critical=False)  # RFC 9654: 128 at most
        .build()
        .public_bytes(Encoding.DER)
    )
    for request in (b"garbage", b"", b"\x30\x03\x02\x01\x01", two, big_nonce, bytes(1 << 20)):
        output = read_response(ca, work, responder.respond(request))
        assert "Responder Error: malformedrequest (1)" in output, request[:16]
    assert responder.stats.unsuccessful == 6


# ---------------------------------------------------------------- the cache
@pytest.mark.external
def test_cache_serves_the_same_answer_until_a_revocation(
    fresh_ca: CertificateAuthority, work: Path
) -> None:
    ca = fresh_ca
    leaf, cert = issue(ca, work, f"fe01.{NAMESPACE}")
    other, _ = issue(ca, work, f"fe02.{NAMESPACE}")
    responder = responder_of(ca)
    request = openssl_request(ca, work, leaf)
    first = responder.respond(request)
    assert responder.respond(request) == first
    assert responder.respond(openssl_request(ca, work, leaf)) == first  # same question, again
    assert (responder.stats.hits, responder.stats.misses) == (2, 1)
    responder.respond(openssl_request(ca, work, other))
    sha256 = openssl_request(ca, work, leaf, flags=("-no_nonce", "-sha256"))
    assert responder.respond(sha256) != first  # another hash: another CertID, another answer
    assert responder.stats.misses == 3

    ca.revoke(serial_hex(cert.serial_number), reason=Reason.KEY_COMPROMISE, actor="test")
    revoked = responder.respond(request)
    assert revoked != first
    output = read_response(ca, work, revoked, request)
    assert "Response verify OK" in output, output
    assert "Cert Status: revoked" in output
    assert "Revocation Reason: keyCompromise" in output
    # the other certificate's cached answer was dropped too, and is still good
    misses = responder.stats.misses
    again = responder.respond(openssl_request(ca, work, other))
    assert responder.stats.misses == misses + 1
    assert status_of(again) is ocsp.OCSPCertStatus.GOOD
    assert responder.respond(request) == revoked  # cached again
    assert responder.stats.misses == misses + 1


def _revoke_in_another_process(home: Path, serial: str, db_url: str) -> None:
    """`lyncpki ca revoke` in a process of its own: its own connections, its own commit."""
    env = {**os.environ, "LYNCPKI_CA_PASSPHRASE": PASSPHRASE.decode()}
    process = subprocess.run(
        [sys.executable, "-m", "lyncpki", "ca", "revoke", serial, "--home", str(home),
         "--reason", "keyCompromise"],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert process.returncode == 0, process.stdout + process.stderr
    engine = db.connect(db_url)  # the revocation is committed before the command returns
    with engine.connect() as conn:
        status = conn.execute(
            select(db.certificates.c.status).where(db.certificates.c.serial == serial)
        ).scalar()
    engine.dispose()
    assert status == "revoked"


def test_a_revocation_by_another_process_ends_the_cached_answer_at_once(
    backend_ca: CertificateAuthority, work: Path
) -> None:
    """Several `ca serve` processes share a database: an answer cached here stays true only
    until a revocation committed anywhere, and the very next question is answered revoked."""
    ca = backend_ca
    _, cert = issue(ca, work, f"fe01.{NAMESPACE}")
    _, other = issue(ca, work, f"fe02.{NAMESPACE}")
    responder = responder_of(ca)
    asked = [
        ocsp.OCSPRequestBuilder()
        .add_certificate(c, ca.issuer.certificate, hashes.SHA1())
        .build()
        .public_bytes(Encoding.DER)
        for c in (cert, other)
    ]
    for question in asked * 3:
        assert status_of(responder.respond(question)) is ocsp.OCSPCertStatus.GOOD
    assert (responder.stats.hits, responder.stats.misses) == (4, 2)
    if ca.engine.dialect.name == "sqlite":  # no thread hop: nothing revoked since
        assert responder.answer_at_once(asked[0]) == responder.respond(asked[0])
    else:  # the look at the database is a round trip: never made on an event loop
        assert responder.answer_at_once(asked[0]) is None

    url = ca.engine.url.render_as_string(hide_password=False)
    _revoke_in_another_process(ca.home.root, serial_hex(cert.serial_number), url)
    assert responder.answer_at_once(asked[0]) is None
    revoked = ocsp.load_der_ocsp_response(responder.respond(asked[0]))
    assert revoked.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_reason is x509.ReasonFlags.key_compromise
    assert status_of(responder.respond(asked[1])) is ocsp.OCSPCertStatus.GOOD


def test_nonce_requests_about_known_certificates_are_signed_without_a_query(
    fresh_ca: CertificateAuthority, work: Path
) -> None:
    """A relying party that sends a nonce gets a new answer every time; once the status of
    its certificate has been read, the answer is signed at once (on the event loop), with its
    nonce, and a revocation by another process makes the next one go to the database."""
    ca = fresh_ca
    _, cert = issue(ca, work, f"fe01.{NAMESPACE}")
    responder = responder_of(ca)

    def question(nonce: bytes) -> bytes:
        return (
            ocsp.OCSPRequestBuilder()
            .add_certificate(cert, ca.issuer.certificate, hashes.SHA1())
            .add_extension(x509.OCSPNonce(nonce), critical=False)
            .build()
            .public_bytes(Encoding.DER)
        )

    assert responder.answer_at_once(question(b"n" * 16)) is None  # status never read yet
    assert status_of(responder.respond(question(b"a" * 16))) is ocsp.OCSPCertStatus.GOOD
    at_once = responder.answer_at_once(question(b"b" * 16))
    assert at_once is not None
    answer = ocsp.load_der_ocsp_response(at_once)
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == b"b" * 16
    assert responder.stats.hits == 0

    url = ca.engine.url.render_as_string(hide_password=False)
    _revoke_in_another_process(ca.home.root, serial_hex(cert.serial_number), url)
    assert responder.answer_at_once(question(b"c" * 16)) is None
    assert status_of(responder.respond(question(b"d" * 16))) is ocsp.OCSPCertStatus.REVOKED
    revoked = responder.answer_at_once(question(b"e" * 16))
    assert revoked is not None
    assert status_of(revoked) is ocsp.OCSPCertStatus.REVOKED


def test_commits_other_than_revocations_keep_the_cache(
    fresh_ca: CertificateAuthority, work: Path
) -> None:
    """Issuing (or any write) in another connection makes the watch look at the last
    revocation again, and keeps the answers when it has not changed."""
    ca = fresh_ca
    _, cert = issue(ca, work, f"fe01.{NAMESPACE}")
    responder = responder_of(ca)
    question = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(cert, ca.issuer.certificate, hashes.SHA1())
        .build()
        .public_bytes(Encoding.DER)
    )
    first = responder.respond(question)
    issue(ca, work, f"fe02.{NAMESPACE}")
    assert responder.answer_at_once(question) == first
    assert responder.respond(question) == first
    assert responder.stats.misses == 1


@pytest.mark.external
def test_nonce_requests_are_never_cached(ca: CertificateAuthority, work: Path) -> None:
    leaf, _ = issue(ca, work, f"ocsp-nonce.{NAMESPACE}")
    responder = responder_of(ca)
    answers = set()
    for _ in range(3):
        request = openssl_request(ca, work, leaf, flags=())
        response = responder.respond(request)
        nonce = ocsp.load_der_ocsp_request(request).extensions.get_extension_for_class(
            x509.OCSPNonce
        )
        echoed = ocsp.load_der_ocsp_response(response).extensions.get_extension_for_class(
            x509.OCSPNonce
        )
        assert echoed.value.nonce == nonce.value.nonce
        output = read_response(ca, work, response, request)  # openssl compares the nonces
        assert "Response verify OK" in output, output
        assert "WARNING: no nonce in response" not in output
        answers.add(response)
    assert len(answers) == 3
    assert responder.stats.hits == 0


def test_cached_answers_expire(fresh_ca: CertificateAuthority, work: Path) -> None:
    clock = FixedClock(dt.datetime.now(dt.UTC))
    ca = CertificateAuthority.open(fresh_ca.home, PASSPHRASE, clock=clock)
    leaf, _ = issue(ca, work, f"fe01.{NAMESPACE}")
    responder = responder_of(ca)
    request = openssl_request(ca, work, leaf)
    first = responder.respond(request)
    clock.advance(seconds=CACHE_SECONDS - 1)
    assert responder.respond(request) == first
    clock.advance(seconds=2)
    fresh = responder.respond(request)
    assert fresh != first
    answered = ocsp.load_der_ocsp_response(fresh)  # a new answer, dated now (backdated)
    assert answered.this_update_utc == (clock.now() - BACKDATE).replace(microsecond=0)


def test_unknown_answers_are_not_cached(ca: CertificateAuthority) -> None:
    name_hash, key_hash = issuer_hashes(ca.issuer.certificate)["sha1"]
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(name_hash, key_hash, random_serial(), hashes.SHA1())
        .build()
        .public_bytes(Encoding.DER)
    )
    responder = responder_of(ca)
    assert status_of(responder.respond(request)) is ocsp.OCSPCertStatus.UNKNOWN
    assert status_of(responder.respond(request)) is ocsp.OCSPCertStatus.UNKNOWN
    assert responder.stats.hits == 0


def test_concurrent_requests(fresh_ca: CertificateAuthority, work: Path) -> None:
    ca = fresh_ca
    certs = [issue(ca, work, f"fe{i:02d}.{NAMESPACE}")[1] for i in range(4)]
    responder = responder_of(ca)
    requests = [
        ocsp.OCSPRequestBuilder()
        .add_certificate(cert, ca.issuer.certificate, hashes.SHA1())
        .build()
        .public_bytes(Encoding.DER)
        for cert in certs
    ]
    ca.revoke(serial_hex(certs[0].serial_number), actor="test")
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(responder.respond, requests * 25))
    for index, answer in enumerate(answers):
        expected = ocsp.OCSPCertStatus.REVOKED if index % 4 == 0 else ocsp.OCSPCertStatus.GOOD
        assert status_of(answer) is expected
    assert responder.stats.hits + responder.stats.misses == 100
    assert responder.stats.unsuccessful == 0


def test_failures_are_answered_not_raised(
    ca: CertificateAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    responder = responder_of(ca)
    name_hash, key_hash = issuer_hashes(ca.issuer.certificate)["sha1"]
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(name_hash, key_hash, random_serial(), hashes.SHA1())
        .build()
        .public_bytes(Encoding.DER)
    )

    def broken(*_: object) -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr(responder, "_status", broken)
    raw = responder.respond(request)
    answer = ocsp.load_der_ocsp_response(raw)
    assert answer.response_status is ocsp.OCSPResponseStatus.INTERNAL_ERROR
    assert unsuccessful(raw)  # never kept by an HTTP cache (GET /ocsp: no-store)


def test_unsuccessful_tells_answers_apart(ca: CertificateAuthority, work: Path) -> None:
    """What `unsuccessful` says of an answer is what pyca reads in it."""
    responder = responder_of(ca)
    leaf, _ = issue(ca, work, f"ocsp-kind.{NAMESPACE}")
    good = responder.respond(openssl_request(ca, work, leaf))
    for raw in (good, responder.respond(b"garbage")):
        status = ocsp.load_der_ocsp_response(raw).response_status
        assert unsuccessful(raw) is (status is not ocsp.OCSPResponseStatus.SUCCESSFUL)
    assert not unsuccessful(good)


# ---------------------------------------------------------------- the CertID hashes
def test_issuer_hashes_match_cryptography(ca: CertificateAuthority) -> None:
    """issuerNameHash / issuerKeyHash as cryptography's request builder computes them."""
    leaf = ensure_responder(ca, PASSPHRASE).certificate  # any certificate of the issuing CA
    ours = issuer_hashes(ca.issuer.certificate)
    for name, algorithm in ALGORITHMS.items():
        request = (
            ocsp.OCSPRequestBuilder().add_certificate(leaf, ca.issuer.certificate, algorithm)
        ).build()
        assert ours[name] == (request.issuer_name_hash, request.issuer_key_hash), name


@pytest.mark.parametrize("name", ["sha224", "sha384", "sha512"])
def test_every_certid_hash_is_answered(ca: CertificateAuthority, name: str) -> None:
    leaf = ensure_responder(ca, PASSPHRASE).certificate
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(leaf, ca.issuer.certificate, ALGORITHMS[name])
        .build()
        .public_bytes(Encoding.DER)
    )
    answer = ocsp.load_der_ocsp_response(responder_of(ca).respond(request))
    assert answer.certificate_status is ocsp.OCSPCertStatus.GOOD  # the signer itself
    assert answer.hash_algorithm.name == name
    assert answer.serial_number == leaf.serial_number


# ---------------------------------------------------------------- the delegated signer
@pytest.mark.external
def test_signer_certificate(ca: CertificateAuthority, work: Path) -> None:
    signer = ensure_responder(ca, PASSPHRASE)
    cert_path, key_path = signer_files(ca)
    assert cert_path == ca.home.ca_dir / "ocsp.crt"
    assert key_path == ca.home.ca_dir / "ocsp.key"
    text = x509_text(cert_path)
    assert re.search(r"Subject: CN ?= ?Test Issuing CA OCSP Responder\n", text), text
    assert re.search(r"Issuer: CN ?= ?Test Issuing CA\n", text), text
    assert re.search(r"Basic Constraints: critical\s+CA:FALSE", text), text
    assert re.search(r"Key Usage: critical\s+Digital Signature\n", text), text
    assert re.search(r"Extended Key Usage:\s*\n\s+OCSP Signing\n", text), text
    assert "OCSP No Check" in text
    assert "Subject Key Identifier" in text
    issuing_ski = ca.issuer.certificate.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier
    ).value.digest
    assert issuing_ski.hex(":").upper() in text.split("Authority Key Identifier", 1)[1]
    assert "Public-Key: (2048 bit)" in text
    process = run_openssl(
        "verify",
        "-CAfile",
        ca_file(ca, "root"),
        "-untrusted",
        ca_file(ca, "issuing"),
        "-purpose",
        "ocsphelper",
        cert_path,
    )
    assert process.returncode == 0 and process.stdout.strip().endswith(": OK"), process.stderr

    cert = signer.certificate
    assert cert.serial_number.bit_length() <= 159
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert dt.timedelta(days=30) <= lifetime <= dt.timedelta(days=30, minutes=6)
    assert cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == (
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING])
    )

    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert ensure_responder(ca, PASSPHRASE).certificate == cert  # kept, not re-issued

    row, stored = ca.certificate(serial_hex(cert.serial_number))
    assert stored == cert
    assert row["template"] == "OCSPResponseSigning"
    assert row["requester"] == "lyncpki"
    assert row["status"] == "valid"
    assert row["key"] == "rsa2048"
    assert row["ca"] == ca.config.slug
    assert any(
        e["action"] == "issue" and e["target"] == serial_hex(cert.serial_number)
        for e in ca.audit_log(1000)
    )


@pytest.mark.external
def test_ec_issuing_ca_gets_an_ec_responder(tmp_path: Path, work: Path, serve: Serve) -> None:
    ca = CertificateAuthority.create(
        CaHome(tmp_path / "ec-home"),
        passphrase=PASSPHRASE,
        name="EC Issuing CA",
        namespaces=(NAMESPACE,),
        root_key=KeySpec("rsa", 2048),
        key=KeySpec("ec", 384),
    )
    signer = ensure_responder(ca, PASSPHRASE)
    public = signer.certificate.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public.curve.name == "secp256r1"
    assert isinstance(signer.certificate.signature_hash_algorithm, hashes.SHA384)
    leaf, _ = issue(ca, work, f"ec-leaf.{NAMESPACE}")
    output = ask(ca, serve(OcspResponder(ca, signer)), leaf)
    assert f"{leaf}: good" in output


def test_signer_is_reissued_near_its_end(fresh_ca: CertificateAuthority) -> None:
    clock = FixedClock(dt.datetime.now(dt.UTC))
    ca = CertificateAuthority.open(fresh_ca.home, PASSPHRASE, clock=clock)
    first = ensure_responder(ca, PASSPHRASE)
    assert isinstance(first.key, rsa.RSAPrivateKey)
    clock.advance(days=27, hours=23)
    assert ensure_responder(ca, PASSPHRASE).certificate == first.certificate
    clock.advance(hours=1, minutes=1)  # 28 days: within two days of the end
    second = ensure_responder(ca, PASSPHRASE)
    assert second.certificate.serial_number != first.certificate.serial_number
    assert second.not_after > first.not_after
    cert_path, _ = signer_files(ca)
    assert x509.load_pem_x509_certificate(cert_path.read_bytes()) == second.certificate
    templates = [r["template"] for r in ca.certificates()]
    assert templates.count("OCSPResponseSigning") == 2


def test_running_responder_renews_its_signer(fresh_ca: CertificateAuthority) -> None:
    clock = FixedClock(dt.datetime.now(dt.UTC))
    ca = CertificateAuthority.open(fresh_ca.home, PASSPHRASE, clock=clock)
    renewing = responder_of(ca, passphrase=PASSPHRASE)
    fixed = OcspResponder(ca, renewing.signer)
    first = renewing.signer
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(first.certificate, ca.issuer.certificate, hashes.SHA1())
        .build()
        .public_bytes(Encoding.DER)
    )
    renewing.respond(request)
    clock.advance(days=29, hours=23, minutes=30)  # less than an hour left
    answer = ocsp.load_der_ocsp_response(renewing.respond(request))
    assert renewing.signer.certificate != first.certificate
    assert answer.certificates == [renewing.signer.certificate]
    assert answer.next_update_utc is not None
    assert answer.next_update_utc - answer.this_update_utc == dt.timedelta(hours=1) + BACKDATE
    # without the passphrase the signer is kept; answers never outlive it
    kept = ocsp.load_der_ocsp_response(fixed.respond(request))
    assert kept.certificates == [first.certificate]
    assert kept.next_update_utc == first.not_after


def test_damaged_or_mismatched_signer_files_are_replaced(fresh_ca: CertificateAuthority) -> None:
    ca = fresh_ca
    first = ensure_responder(ca, PASSPHRASE)
    cert_path, key_path = signer_files(ca)
    cert_path.write_bytes(b"not a certificate")
    second = ensure_responder(ca, PASSPHRASE)
    assert second.certificate != first.certificate

    key_path.write_bytes(encrypt_key(first.key, PASSPHRASE))  # the key of another write
    third = ensure_responder(ca, PASSPHRASE)
    assert third.certificate not in (first.certificate, second.certificate)

    with pytest.raises(LyncPkiError, match="OCSP responder"):
        ensure_responder(ca, b"wrong passphrase")


def test_responder_needs_the_issuing_key(fresh_ca: CertificateAuthority) -> None:
    read_only = CertificateAuthority.open(fresh_ca.home, None)
    with pytest.raises(LyncPkiError, match="private key"):
        ensure_responder(read_only, PASSPHRASE)


def test_a_revoked_signer_is_replaced_and_never_used_again(
    fresh_ca: CertificateAuthority, work: Path
) -> None:
    """Two responders on one CA (two workers) and one without the passphrase: after the
    signer's revocation, the first answer of each is signed by one new signer (issued once),
    and the one that cannot issue answers internalError rather than sign with the revoked."""
    ca = fresh_ca
    first, second = responder_of(ca, passphrase=PASSPHRASE), responder_of(ca, passphrase=PASSPHRASE)
    fixed = OcspResponder(ca, first.signer)
    old = first.signer
    leaf, _ = issue(ca, work, f"leaf.{NAMESPACE}")
    request = openssl_request(ca, work, leaf, flags=())  # with a nonce: signed every time
    cached = openssl_request(ca, work, leaf)
    for responder in (first, second, fixed):
        for asked in (request, cached, cached):
            answer = ocsp.load_der_ocsp_response(responder.respond(asked))
            assert answer.certificates == [old.certificate]

    ca.revoke(serial_hex(old.certificate.serial_number), reason=Reason.KEY_COMPROMISE, actor="t")

    for responder in (first, second):
        for asked in (request, cached, cached):
            answered = responder.answer_at_once(asked)
            assert answered is None or old.certificate.public_bytes(Encoding.DER) not in answered
            answer = responder.respond(asked)
            output = read_response(ca, work, answer, asked)
            assert "Cert Status: good" in output and "Response verify OK" in output, output
            assert ocsp.load_der_ocsp_response(answer).certificates != [old.certificate]
    assert first.signer.certificate == second.signer.certificate != old.certificate
    assert ensure_responder(ca, PASSPHRASE).certificate == first.signer.certificate  # a start
    assert [r["template"] for r in ca.certificates()].count("OCSPResponseSigning") == 2
    assert fixed.respond(request) == ocsp.OCSPResponseBuilder.build_unsuccessful(
        ocsp.OCSPResponseStatus.INTERNAL_ERROR
    ).public_bytes(Encoding.DER)
    assert fixed.respond(cached) == fixed.respond(request)  # not from its cache either


def test_a_released_hold_is_good_again_and_a_final_reason_is_said(
    fresh_ca: CertificateAuthority, work: Path
) -> None:
    """A hold released, or made final, changes the cached answers at once (the change is a new
    revocation row: the responder's generation moves); openssl reads each answer."""
    ca = fresh_ca
    leaf, cert = issue(ca, work, f"fe05.{NAMESPACE}")
    responder = responder_of(ca)
    request = openssl_request(ca, work, leaf)
    serial = serial_hex(cert.serial_number)
    ca.revoke(serial, reason=Reason.CERTIFICATE_HOLD, actor="test")
    assert "Revocation Reason: certificateHold" in read_response(
        ca, work, responder.respond(request), request
    )
    ca.release(serial, actor="test")
    output = read_response(ca, work, responder.respond(request), request)
    assert "Response verify OK" in output and "Cert Status: good" in output, output
    ca.revoke(serial, reason=Reason.CERTIFICATE_HOLD, actor="test")
    ca.revoke(serial, reason=Reason.KEY_COMPROMISE, actor="test")
    output = read_response(ca, work, responder.respond(request), request)
    assert "Cert Status: revoked" in output and "keyCompromise" in output, output


# ---------------------------------------------------------------- requests answered as asked
def test_requests_that_cannot_be_answered_as_asked_are_malformed(
    ca: CertificateAuthority, work: Path
) -> None:
    """Two nonces (RFC 5280 4.2) and a negative serial were internalError, the responder's
    fault; a critical extension it does not understand was ignored and the request answered
    good (RFC 6960 4.4). Each is malformedRequest now; a non-critical one is still ignored."""
    responder = responder_of(ca)
    _, cert = issue(ca, work, f"ocsp-asked.{NAMESPACE}")

    def asked(*extensions: tuple[x509.ExtensionType, bool]) -> bytes:
        builder = ocsp.OCSPRequestBuilder().add_certificate(
            cert, ca.issuer.certificate, hashes.SHA1()
        )
        for value, critical in extensions:
            builder = builder.add_extension(value, critical)
        return builder.build().public_bytes(Encoding.DER)

    # the builder refuses two nonces: the second is written as an extension whose identifier
    # is as long once encoded (1.3.6.1.5.5.7.48.1.99), then given the nonce's (...48.1.2)
    stand_in, nonce_oid = (
        bytes.fromhex("06092b0601050507300163"),
        bytes.fromhex("06092b0601050507300102"),
    )
    second = asked(
        (x509.OCSPNonce(os.urandom(16)), False),
        (
            x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.3.6.1.5.5.7.48.1.99"), b"\x04\x10" + os.urandom(16)
            ),
            False,
        ),
    )
    assert second.count(stand_in) == 1
    two_nonces = second.replace(stand_in, nonce_oid)
    (work / "two-nonces.der").write_bytes(two_nonces)
    text = openssl("ocsp", "-reqin", work / "two-nonces.der", "-req_text")
    assert text.count("OCSP Nonce") == 2, text  # openssl reads two nonces in it
    critical = asked(
        (x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.5"), b"\x05\x00"), True)
    )
    negative = work / "negative.der"
    openssl("ocsp", "-issuer", ca_file(ca, "issuing"), "-serial", "-5", "-reqout", negative)
    for request in (two_nonces, critical, negative.read_bytes()):
        output = read_response(ca, work, responder.respond(request))
        assert "Responder Error: malformedrequest (1)" in output, output
    ignored = asked(
        (x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.5"), b"\x05\x00"), False)
    )
    output = read_response(ca, work, responder.respond(ignored))
    assert "Response verify OK" in output and "Cert Status: good" in output, output


def test_an_expired_signer_is_never_used(fresh_ca: CertificateAuthority, work: Path) -> None:
    """When the responder certificate could not be renewed before its end, answers went on
    being signed by it, good, with a nextUpdate before their thisUpdate. Now: answered by it
    while it is valid (nextUpdate never past its end), then tryLater."""
    clock = FixedClock(dt.datetime.now(dt.UTC))
    ca = CertificateAuthority.open(fresh_ca.home, PASSPHRASE, clock=clock)
    responder = responder_of(ca, passphrase=PASSPHRASE)
    signer = responder.signer
    leaf, _ = issue(ca, work, f"ocsp-expiry.{NAMESPACE}")
    request = openssl_request(ca, work, leaf)
    _, key_path = signer_files(ca)
    key_path.unlink()
    key_path.mkdir()  # a renewal can neither read nor write the key: it fails
    clock.advance(days=29, hours=23)  # renewal due, failing: the old signer, still valid
    late = ocsp.load_der_ocsp_response(responder.respond(request))
    assert late.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert late.certificates == [signer.certificate]
    assert late.next_update_utc is not None and late.this_update_utc < late.next_update_utc
    assert late.next_update_utc <= signer.not_after
    clock.advance(hours=2)  # past its end
    raw = responder.respond(request)
    assert "Responder Error: trylater (3)" in read_response(ca, work, raw)
    assert unsuccessful(raw)


@pytest.mark.external
def test_an_answer_is_valid_for_a_clock_a_little_behind(
    fresh_ca: CertificateAuthority, work: Path
) -> None:
    """thisUpdate was the moment of answering; it is backdated as CRLs are, but never before
    the revocation a revoked answer reports."""
    ca = fresh_ca
    leaf, cert = issue(ca, work, f"ocsp-skew.{NAMESPACE}")
    responder = responder_of(ca)
    good = ocsp.load_der_ocsp_response(responder.respond(openssl_request(ca, work, leaf)))
    assert good.this_update_utc <= good.produced_at_utc - dt.timedelta(minutes=4)
    revoked = ca.revoke(serial_hex(cert.serial_number), actor="test")
    answer = ocsp.load_der_ocsp_response(responder.respond(openssl_request(ca, work, leaf)))
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert answer.this_update_utc >= revoked["revoked_at"].replace(microsecond=0)
    assert "Response verify OK" in read_response(ca, work, responder.respond(
        openssl_request(ca, work, leaf)))  # fmt: skip


@pytest.mark.external
def test_nonces_of_1_to_128_bytes_are_answered(ca: CertificateAuthority, work: Path) -> None:
    """RFC 9654 (which replaced RFC 8954's 32 bytes at most) allows 1 to 128: a 33-byte
    nonce was a malformedRequest."""
    _, cert = issue(ca, work, f"ocsp-nonces.{NAMESPACE}")
    responder = responder_of(ca)
    for size in (1, 32, 33, 128):
        nonce = os.urandom(size)
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(cert, ca.issuer.certificate, hashes.SHA1())
            .add_extension(x509.OCSPNonce(nonce), critical=False)
            .build()
            .public_bytes(Encoding.DER)
        )
        answer = responder.respond(request)
        output = read_response(ca, work, answer, request)
        assert "Response verify OK" in output and "Cert Status: good" in output, (size, output)
        echoed = ocsp.load_der_ocsp_response(answer).extensions.get_extension_for_class(
            x509.OCSPNonce
        )
        assert echoed.value.nonce == nonce
