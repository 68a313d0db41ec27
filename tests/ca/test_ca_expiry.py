"""An issuing CA at the end of its life: certificates cut at its end, and once it has expired
a clear, audited refusal to sign certificates or CRLs (it was "internal error: serial or
validity out of range", exit 70, unaudited; and a CRL signed by an expired CA, its nextUpdate
after the CA's end)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from ca_tools import make_ca, openssl, openssl_req, write_pem

from lyncpki.ca.authority import CaError, CertificateAuthority
from lyncpki.clock import FixedClock
from lyncpki.errors import LyncPkiError


@pytest.fixture
def ca(tmp_path: Path) -> Iterator[CertificateAuthority]:
    made = make_ca(tmp_path / "home")
    yield made
    made.engine.dispose()


def test_a_certificate_signed_an_hour_before_the_end_ends_with_it(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    end = ca.issuer.certificate.not_valid_after_utc
    ca.clock = FixedClock(end - dt.timedelta(hours=1))
    issued = ca.submit(openssl_req(tmp_path), requester="t")
    assert issued.certificate is not None
    pem = write_pem(tmp_path, "late.pem", issued.certificate)
    ends = openssl("x509", "-in", pem, "-noout", "-enddate").strip().removeprefix("notAfter=")
    assert dt.datetime.strptime(ends, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=dt.UTC) == end


def test_an_expired_ca_refuses_to_sign_and_says_so(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    end = ca.issuer.certificate.not_valid_after_utc
    ca.clock = FixedClock(end + dt.timedelta(days=5))
    with pytest.raises(CaError) as refused:
        ca.submit(openssl_req(tmp_path), requester="t", source="late.csr")
    assert f"expired on {end:%Y-%m-%d}" in refused.value.message
    assert "ca init" in (refused.value.fix or "")
    entry = next(e for e in ca.audit_log() if e["action"] == "submit")
    assert (entry["target"], entry["outcome"]) == ("late.csr", "refused")
    with pytest.raises(LyncPkiError) as crl:
        ca.publish_crl(actor="t")
    assert "expired" in crl.value.message and "CRLs" in crl.value.message
    refused = next(e for e in ca.audit_log() if e["action"] == "crl")  # audited as well
    assert refused["outcome"] == "refused" and "expired" in refused["detail"]
    ca.publish_crl(actor="t", root=True)  # the root, still valid, still publishes


def test_the_inventory_says_expired_for_a_certificate_past_its_end(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    """`ca list` said expired and the console said valid for the same row: both read the
    domain's inventory now. The end date is openssl's reading of the certificate."""
    issued = ca.submit(openssl_req(tmp_path), requester="t")
    assert issued.certificate is not None
    pem = write_pem(tmp_path, "leaf.pem", issued.certificate)
    ends = openssl("x509", "-in", pem, "-noout", "-enddate").strip().removeprefix("notAfter=")
    end = dt.datetime.strptime(ends, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=dt.UTC)
    serial = issued.serial
    second = dt.timedelta(seconds=1)
    for moment, state in ((end - second, "valid"), (end + second, "expired")):
        ca.clock = FixedClock(moment)
        assert {r["serial"]: r["status"] for r in ca.inventory()}[serial] == state
        assert serial in [r["serial"] for r in ca.inventory(state)]
        other = "expired" if state == "valid" else "valid"
        assert serial not in [r["serial"] for r in ca.inventory(other)]
    with pytest.raises(CaError, match="unknown status"):
        ca.inventory("gone")
