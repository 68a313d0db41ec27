"""Time, injected: issuance, CRL next-update and `check` near the end of a CA's life, on leap
days, and with a CA whose own validity ends before the validity asked for. Judged by openssl
where a certificate or CRL is produced."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from scoreboard import Scoreboard

from lab import openssl
from lyncpki.ca.authority import ISSUING_DAYS, CertificateAuthority
from lyncpki.ca.certificates import BACKDATE
from lyncpki.ca.home import CaHome
from lyncpki.checks import CertificateContext, check_certificate
from lyncpki.clock import FixedClock
from lyncpki.keyspec import KeySpec

pytestmark = pytest.mark.reliability
LEAP_DAY = dt.datetime(2028, 2, 29, 23, 30, tzinfo=dt.UTC)


def new_ca(folder: Path, clock: FixedClock) -> CertificateAuthority:
    return CertificateAuthority.create(
        CaHome(folder),
        passphrase=b"clock-passphrase",
        namespaces=("contoso.net",),
        root_key=KeySpec("ec", 256),
        key=KeySpec("ec", 256),
        clock=clock,
    )


def request(cn: str = "fe01.contoso.net") -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
        .sign(key, hashes.SHA256())
        .public_bytes(Encoding.PEM)
    )


def verify_at(
    ca: CertificateAuthority, cert: x509.Certificate, when: dt.datetime, folder: Path
) -> str:
    leaf = folder / "leaf.pem"
    leaf.write_bytes(cert.public_bytes(Encoding.PEM))
    return openssl(
        "verify",
        "-attime",
        str(int(when.timestamp())),
        "-CAfile",
        ca.home.cert_file("root"),
        "-untrusted",
        ca.home.cert_file("issuing"),
        leaf,
        check=False,
    )


def test_a_leap_day_issuance_and_crl(tmp_path: Path, scoreboard: Scoreboard) -> None:
    clock = FixedClock(LEAP_DAY)
    ca = new_ca(tmp_path / "home", clock)
    cert = ca.submit(request(), requester="clock", validity_days=365).certificate
    assert cert is not None
    assert cert.not_valid_after_utc == LEAP_DAY + dt.timedelta(days=365)  # 2029-02-28 23:30
    assert "OK" in verify_at(ca, cert, LEAP_DAY + dt.timedelta(hours=1), tmp_path)
    info = ca.publish_crl(actor="clock")
    assert info.this_update == LEAP_DAY - BACKDATE  # backdated as certificates are
    text = openssl("crl", "-in", ca.home.crl_file(ca.config.slug, pem=True), "-noout", "-text")
    assert "Feb 29 23:25:00 2028 GMT" in text
    scoreboard.record("clock: leap day issuance and CRL", "1 issuance, 1 CRL", 0, 0)


def test_a_ca_that_ends_before_the_validity_asked(tmp_path: Path, scoreboard: Scoreboard) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    clock = FixedClock(start)
    ca = new_ca(tmp_path / "home", clock)
    issuing_end = ca.issuer.certificate.not_valid_after_utc
    assert issuing_end - start >= dt.timedelta(days=ISSUING_DAYS - 1)
    clock.current = issuing_end - dt.timedelta(days=100)  # its last 100 days
    cert = ca.submit(request(), requester="clock", validity_days=730).certificate
    assert cert is not None
    assert cert.not_valid_after_utc == issuing_end  # never beyond the issuer (RFC 5280)
    assert "OK" in verify_at(ca, cert, issuing_end - dt.timedelta(days=1), tmp_path)
    # check sees it expiring with its CA, and expired the day after
    roots = (ca.root.certificate,)
    near = check_certificate(
        CertificateContext(
            certificate=cert,
            now=issuing_end - dt.timedelta(days=10),
            roots=roots,
            intermediates=(ca.issuer.certificate,),
        )
    )
    assert [f.id for f in near] == ["cert.expiring"]
    after = check_certificate(
        CertificateContext(
            certificate=cert,
            now=issuing_end + dt.timedelta(days=1),
            roots=roots,
            intermediates=(ca.issuer.certificate,),
        )
    )
    assert "cert.expired" in {f.id for f in after}
    scoreboard.record("clock: CA ending before the validity asked", "1 issuance, 2 checks", 0, 0)


def test_crl_next_update_near_the_end_of_the_ca(tmp_path: Path, scoreboard: Scoreboard) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    clock = FixedClock(start)
    ca = new_ca(tmp_path / "home", clock)
    issuing_end = ca.issuer.certificate.not_valid_after_utc
    clock.current = issuing_end - dt.timedelta(days=2)  # a 7-day CRL would outlive its signer
    info = ca.publish_crl(actor="clock")
    assert info.this_update == clock.current - BACKDATE
    assert info.this_update < info.next_update <= issuing_end  # not beyond its signer
    crl = x509.load_der_x509_crl(ca.home.crl_file(ca.config.slug).read_bytes())
    assert crl.is_signature_valid(ca.issuer.certificate.public_key())  # type: ignore[arg-type]
    scoreboard.record(
        "clock: CRL published near the CA's end",
        "1 CRL",
        0,
        0,
        f"nextUpdate {info.next_update:%Y-%m-%d}, CA ends {issuing_end:%Y-%m-%d}",
    )
