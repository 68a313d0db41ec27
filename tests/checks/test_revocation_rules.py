"""The revocation rules against a real HTTP server serving CRLs and OCSP answers made with
pyca/cryptography: each rule fires alone on its problem, and a good CRL and a good OCSP answer
give no finding."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from http_files import Files, serving
from rules_pki import NOW, ROOT, ROOT_KEY, ROOT_NAME, RSA_ROOT, make

from lyncpki.checks import CertificateContext, check_certificate
from lyncpki.checks.revocation import RevocationSource

OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


def crl(
    *,
    revoked: tuple[int, ...] = (),
    next_update: dt.datetime = NOW + dt.timedelta(days=7),
    key: ec.EllipticCurvePrivateKey = ROOT_KEY,
) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ROOT_NAME)
        .last_update(NOW - dt.timedelta(days=1))
        .next_update(next_update)
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(NOW - dt.timedelta(hours=5))
            .build()
        )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def ocsp_answer(
    cert: x509.Certificate,
    *,
    revoked: bool = False,
    tamper: bool = False,
    at: dt.datetime = NOW,
    issuer: x509.Certificate = ROOT,
) -> Callable[[bytes], bytes]:
    def answer(_request: bytes) -> bytes:
        status = ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=cert,
            issuer=issuer,
            algorithm=hashes.SHA256(),
            cert_status=status,
            this_update=at - dt.timedelta(minutes=5),
            next_update=at + dt.timedelta(hours=1),
            revocation_time=NOW - dt.timedelta(hours=5) if revoked else None,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
        )
        response = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, ROOT).sign(
            ROOT_KEY, hashes.SHA256()
        )
        der = response.public_bytes(serialization.Encoding.DER)
        # tampered: the last byte of the signature changed, as a forger's would be
        return der[:-1] + bytes([der[-1] ^ 0x01]) if tamper else der

    return answer


@pytest.fixture
def http() -> Iterator[Files]:
    with serving() as files:
        yield files


def findings(cert: x509.Certificate) -> dict[str, str]:
    source = RevocationSource(timeout=3)
    try:
        found = check_certificate(
            CertificateContext(certificate=cert, now=NOW, roots=(ROOT,), revocation=source)
        )
    finally:
        source.close()
    return {f.id: f.message for f in found}


def test_a_good_crl_and_a_good_ocsp_answer_give_no_finding(http: Files) -> None:
    cert = make(cdp=http.url("/ca.crl"), ocsp_url=http.url("/ocsp"))
    http.files["/ca.crl"] = (crl(revoked=(12345,)), "application/pkix-crl")
    http.post = ocsp_answer(cert)
    assert findings(cert) == {}


@pytest.mark.parametrize(
    ("setup", "expected", "words"),
    [
        (lambda http, cert: None, "cdp.unreachable", "HTTP 404"),
        (
            lambda http, cert: http.files.__setitem__(
                "/ca.crl", (crl(next_update=NOW - dt.timedelta(hours=1)), "application/pkix-crl")
            ),
            "crl.expired",
            "expired on",
        ),
        (
            lambda http, cert: http.files.__setitem__(
                "/ca.crl", (crl(next_update=NOW + dt.timedelta(hours=3)), "application/pkix-crl")
            ),
            "crl.expired",
            "within 24 hours",
        ),
        (
            lambda http, cert: http.files.__setitem__(
                "/ca.crl", (crl(key=OTHER_KEY), "application/pkix-crl")
            ),
            "crl.bad-signature",
            "not signed by the issuing CA",
        ),
        (
            lambda http, cert: http.files.__setitem__(
                "/ca.crl", (crl(revoked=(cert.serial_number,)), "application/pkix-crl")
            ),
            "cert.revoked",
            "revoked on",
        ),
        (
            lambda http, cert: http.files.__setitem__(
                "/ca.crl", (b"<html>a portal page</html>", "text/html")
            ),
            "cdp.unreachable",
            "not a CRL",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_each_crl_rule_fires_alone(
    http: Files, setup: Callable[[Files, x509.Certificate], None], expected: str, words: str
) -> None:
    cert = make(cdp=http.url("/ca.crl"))
    setup(http, cert)
    found = findings(cert)
    assert set(found) == {expected}, found
    assert words in found[expected]


def test_an_unreachable_cdp_names_the_url() -> None:
    cert = make(cdp="http://127.0.0.1:9/nothing-listens-here.crl")
    found = findings(cert)
    assert set(found) == {"cdp.unreachable"}
    assert "127.0.0.1:9/nothing-listens-here.crl" in found["cdp.unreachable"]


def test_ocsp_revoked_and_a_forged_answer(http: Files) -> None:
    cert = make(cdp=http.url("/ca.crl"), ocsp_url=http.url("/ocsp"))
    http.files["/ca.crl"] = (crl(), "application/pkix-crl")
    http.post = ocsp_answer(cert, revoked=True)
    found = findings(cert)
    assert set(found) == {"ocsp.revoked"} and "keyCompromise" in found["ocsp.revoked"]
    http.post = ocsp_answer(cert, tamper=True)
    found = findings(cert)
    assert set(found) == {"ocsp.problem"} and "does not verify" in found["ocsp.problem"]


def test_threads_asking_for_one_crl_at_once_fetch_it_once(http: Files) -> None:
    """`check --live` probes endpoints in parallel, each asking for its CDP: one download."""
    http.files["/ca.crl"] = (crl(revoked=(12345,)), "application/pkix-crl")
    http.delay = 0.3
    source = RevocationSource(timeout=5)
    try:
        with ThreadPoolExecutor(8) as pool:
            fetched = list(pool.map(lambda _: source.crl(http.url("/ca.crl")), range(8)))
    finally:
        source.close()
    assert http.gets == {"/ca.crl": 1}
    assert all(f is fetched[0] for f in fetched) and fetched[0].crl is not None


# ----------------------------------------------------------------- full and delta CRLs together
HOLD = x509.ReasonFlags.certificate_hold
RELEASED = x509.ReasonFlags.remove_from_crl
COMPROMISE = x509.ReasonFlags.key_compromise


def numbered_crl(
    number: int,
    entries: dict[int, x509.ReasonFlags],
    *,
    base: int | None = None,
    freshest: str | None = None,
) -> x509.CertificateRevocationList:
    """A full CRL (with the URL of its deltas) or, with `base`, a delta CRL, numbered."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ROOT_NAME)
        .last_update(NOW - dt.timedelta(hours=1))
        .next_update(NOW + dt.timedelta(days=7))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ROOT_KEY.public_key()),
                       critical=False)
    )  # fmt: skip
    if base is not None:
        builder = builder.add_extension(x509.DeltaCRLIndicator(base), critical=True)
    if freshest is not None:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(freshest)], None, None, None)
        builder = builder.add_extension(x509.FreshestCRL([point]), critical=False)
    for serial, reason in entries.items():
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(NOW - dt.timedelta(hours=5))
            .add_extension(x509.CRLReason(reason), critical=False)
            .build()
        )
    return builder.sign(ROOT_KEY, hashes.SHA256())


def _serve(http: Files, path: str, crl: x509.CertificateRevocationList) -> None:
    http.files[path] = (crl.public_bytes(serialization.Encoding.DER), "application/pkix-crl")


def _openssl_says_revoked(
    tmp_path: Path,
    cert: x509.Certificate,
    full: x509.CertificateRevocationList,
    delta: x509.CertificateRevocationList,
) -> bool:
    """What `openssl verify -crl_check -use_deltas` says of the certificate, given both CRLs
    (the independent reference)."""
    files = {"root.pem": ROOT, "cert.pem": cert, "full.pem": full, "delta.pem": delta}
    for name, item in files.items():
        (tmp_path / name).write_bytes(item.public_bytes(serialization.Encoding.PEM))
    at = str(int(NOW.timestamp()))
    process = subprocess.run(
        ["openssl", "verify", "-attime", at, "-crl_check", "-use_deltas", "-CAfile",
         tmp_path / "root.pem", "-CRLfile", tmp_path / "full.pem", "-CRLfile",
         tmp_path / "delta.pem", tmp_path / "cert.pem"],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if process.returncode == 0:
        return False
    assert "certificate revoked" in process.stdout + process.stderr, process
    return True


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
@pytest.mark.parametrize(
    ("on_full", "on_delta", "revoked"),
    [
        (HOLD, RELEASED, False),  # released after the full CRL: the newer delta says so
        (None, RELEASED, False),  # a released hold is never a revocation
        (HOLD, None, True),  # still on hold
        (None, COMPROMISE, True),  # revoked after the full CRL
        (HOLD, COMPROMISE, True),  # a hold made final
    ],
    ids=["hold-released", "released-only", "hold", "revoked-after-full", "hold-made-final"],
)
def test_a_full_crl_and_its_newer_delta_are_read_together(
    http: Files,
    tmp_path: Path,
    on_full: x509.ReasonFlags | None,
    on_delta: x509.ReasonFlags | None,
    revoked: bool,
) -> None:
    """A delta's removeFromCRL entry was read as a revocation (check said cert.revoked of a
    certificate released from hold, where OCSP and openssl said good): the delta newer than the
    full CRL says the certificate's latest status, and removeFromCRL is not revoked."""
    cert = make(cdp=http.url("/ca.crl"))
    serial = cert.serial_number
    full = numbered_crl(10, {serial: on_full} if on_full else {}, freshest=http.url("/ca+.crl"))
    delta = numbered_crl(11, {serial: on_delta} if on_delta else {}, base=10)
    http.files["/ca.crl"] = (full.public_bytes(serialization.Encoding.DER), "application/pkix-crl")
    http.files["/ca+.crl"] = (
        delta.public_bytes(serialization.Encoding.DER),
        "application/pkix-crl",
    )
    assert _openssl_says_revoked(tmp_path, cert, full, delta) is revoked
    found = findings(cert)
    assert set(found) == ({"cert.revoked"} if revoked else set()), found
    if revoked:
        where = "/ca+.crl" if on_delta else "/ca.crl"
        assert f"listed by {http.url(where)}" in found["cert.revoked"]


def test_a_delta_not_newer_than_the_full_crl_does_not_release_it(http: Files) -> None:
    """A delta left from before the full CRL (its number not above the full one's) says
    nothing newer: the full CRL's revocation stands."""
    cert = make(cdp=http.url("/ca.crl"))
    full = numbered_crl(12, {cert.serial_number: COMPROMISE}, freshest=http.url("/ca+.crl"))
    stale = numbered_crl(11, {cert.serial_number: RELEASED}, base=10)
    http.files["/ca.crl"] = (full.public_bytes(serialization.Encoding.DER), "application/pkix-crl")
    http.files["/ca+.crl"] = (
        stale.public_bytes(serialization.Encoding.DER),
        "application/pkix-crl",
    )
    assert set(findings(cert)) == {"cert.revoked"}


def _full_and_delta(http: Files, delta_ends: dt.datetime) -> None:
    """A full CRL pointing to its delta (Freshest CRL), and the delta, ending at `delta_ends`."""
    pointer = x509.FreshestCRL(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(http.url("/delta.crl"))],
                                None, None, None)]
    )  # fmt: skip
    full = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ROOT_NAME)
        .last_update(NOW - dt.timedelta(days=1))
        .next_update(NOW + dt.timedelta(days=6))
        .add_extension(x509.CRLNumber(5), critical=False)
        .add_extension(pointer, critical=False)
        .sign(ROOT_KEY, hashes.SHA256())
    )
    delta = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ROOT_NAME)
        .last_update(delta_ends - dt.timedelta(days=1))
        .next_update(delta_ends)
        .add_extension(x509.CRLNumber(6), critical=False)
        .add_extension(x509.DeltaCRLIndicator(5), critical=True)
        .sign(ROOT_KEY, hashes.SHA256())
    )
    der = serialization.Encoding.DER
    http.files["/ca.crl"] = (full.public_bytes(der), "application/pkix-crl")
    http.files["/delta.crl"] = (delta.public_bytes(der), "application/pkix-crl")


def test_an_expired_delta_crl_is_found(http: Files) -> None:
    """Only the full CRLs' nextUpdate was read: a delta that ran out an hour ago (no
    `ca serve` to publish it again) gave no finding, while Windows, which uses deltas, had no
    current answer."""
    cert = make(cdp=http.url("/ca.crl"))
    _full_and_delta(http, NOW - dt.timedelta(hours=1))
    found = findings(cert)
    assert "delta CRL" in found.get("crl.expired", ""), found
    assert "expired on" in found["crl.expired"]
    _full_and_delta(http, NOW + dt.timedelta(hours=12))  # current: nothing to say
    assert findings(cert) == {}
    _full_and_delta(http, NOW + dt.timedelta(minutes=30))  # about to run out: a warning
    assert "delta CRL" in findings(cert).get("crl.expired", "")


@pytest.mark.parametrize(
    ("at", "words"),
    [
        (NOW - dt.timedelta(days=1), "past its nextUpdate"),  # an old answer, replayed
        (NOW + dt.timedelta(days=1), "dated in the future"),
    ],
)
def test_an_ocsp_answer_that_does_not_hold_now_is_unusable(
    http: Files, at: dt.datetime, words: str
) -> None:
    """An answer a day old (nextUpdate an hour after it) was taken as `good`: RFC 6960 3.2
    asks a relying party to judge thisUpdate and nextUpdate against its own time."""
    cert = make(cdp=http.url("/ca.crl"), ocsp_url=http.url("/ocsp"))
    http.files["/ca.crl"] = (crl(), "application/pkix-crl")
    http.post = ocsp_answer(cert, at=at)
    found = findings(cert)
    assert words in found.get("ocsp.problem", ""), found


def test_an_ocsp_answer_about_another_issuers_certificate_is_unusable(http: Files) -> None:
    """Only the serial was compared: an answer naming the same serial under another issuer
    (another CA's certificate) was taken for this one."""
    cert = make(cdp=http.url("/ca.crl"), ocsp_url=http.url("/ocsp"))
    http.files["/ca.crl"] = (crl(), "application/pkix-crl")
    http.post = ocsp_answer(cert, issuer=RSA_ROOT)  # signed by this root, CertID of another
    assert "another certificate" in findings(cert).get("ocsp.problem", "")
