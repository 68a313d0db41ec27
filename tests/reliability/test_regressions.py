"""Defects the fuzzers found, each kept as a test with the input that showed it:

1. a PKCS#7 file that is not signed-data (it holds no certificates) raised UnsupportedAlgorithm
   out of `import` and `check`;
2. a request starting with a UTF-16 byte-order mark but no valid UTF-16 after it raised
   UnicodeDecodeError out of `ca issue` and the service;
3. a certificate whose public key cannot be read (an unknown curve) crashed the key rule of
   `check` instead of being a finding of its own;
4. a certificate with an invalid version number raised InvalidVersion out of `import` and
   `check`;
5. (long form) a request whose SAN holds an x400Address or ediPartyName raised
   UnsupportedGeneralNameType out of `ca issue` and the service;
6. (long form) a certificate whose issuer name cannot be decoded raised ValueError out of
   `import` and `check` (names are decoded lazily, after loading succeeded);
7. (long form) a PKCS#7 chain holding a certificate of an invalid version raised
   InvalidVersion out of `import` and `check`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fuzz_inputs import seeds

from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.checks.files import check_file
from lyncpki.errors import LyncPkiError
from lyncpki.keyspec import KeySpec
from lyncpki.x509.bundles import BundleError, load_bundle
from lyncpki.x509.requests import RequestError, read_request

pytestmark = pytest.mark.reliability
# ContentInfo { contentType id-data (1.2.840.113549.1.7.1) } with no content
PKCS7_DATA = bytes.fromhex("300b06092a864886f70d010701")
P256 = bytes.fromhex("06082a8648ce3d030107")  # the OID of the curve, as the SPKI holds it


def test_pkcs7_without_certificates_is_refused() -> None:
    with pytest.raises(BundleError, match="not a certificate, a PKCS#7 chain or a PKCS#12"):
        load_bundle(PKCS7_DATA, "data.p7b")


def test_a_byte_order_mark_before_no_text_is_refused() -> None:
    with pytest.raises(RequestError, match="not a valid PKCS#10"):
        read_request(b"\xfe\xff\xd8\x00\x00\x41 not utf-16", "bom.req")


def test_an_unreadable_public_key_is_a_finding(tmp_path: Path) -> None:
    der = seeds()["cert_der"]
    assert P256 in der
    broken = der.replace(P256, P256[:-1] + b"\x06")  # an unknown curve
    path = tmp_path / "curve.cer"
    path.write_bytes(broken)
    found = {f.id: f.message for f in check_file(path, now=dt.datetime.now(dt.UTC))}
    assert "check.crashed" not in found
    assert "public key cannot be read" in found["key.unsupported"]


def test_an_invalid_version_is_refused(tmp_path: Path) -> None:
    der = seeds()["cert_der"]
    v3 = bytes.fromhex("a003020102")
    assert v3 in der
    path = tmp_path / "version.cer"
    path.write_bytes(der.replace(v3, bytes.fromhex("a003020101"), 1))
    with pytest.raises(BundleError):
        load_bundle(path.read_bytes(), str(path))
    assert [f.id for f in check_file(path, now=dt.datetime.now(dt.UTC))] == ["input.unreadable"]


def test_a_san_of_an_unsupported_name_type_is_refused(tmp_path: Path) -> None:
    name = b"\x82\x10fe01.contoso.net"  # the DNSName of the seed request's SAN
    request = seeds()["csr_der"].replace(name, b"\xa5" + name[1:])  # now an ediPartyName
    ca = CertificateAuthority.create(
        CaHome(tmp_path / "home"),
        passphrase=b"regression-passphrase",
        namespaces=("contoso.net",),
        root_key=KeySpec("ec", 256),
        key=KeySpec("ec", 256),
    )
    with pytest.raises(LyncPkiError):
        ca.submit(request, requester="regression")


def test_an_undecodable_issuer_name_is_refused(tmp_path: Path) -> None:
    cn = b"\x0c\x10fe01.contoso.net"  # the issuer's CN comes first in the seed certificate
    path = tmp_path / "issuer.cer"
    path.write_bytes(seeds()["cert_der"].replace(cn, b"\x01" + cn[1:], 1))
    with pytest.raises(BundleError, match="issuer cannot be decoded"):
        load_bundle(path.read_bytes(), str(path))
    assert [f.id for f in check_file(path, now=dt.datetime.now(dt.UTC))] == ["input.unreadable"]


def test_a_chain_holding_a_certificate_of_an_invalid_version_is_refused() -> None:
    v3 = bytes.fromhex("a003020102")
    chain = seeds()["p7b"]
    assert v3 in chain
    with pytest.raises(BundleError):
        load_bundle(chain.replace(v3, bytes.fromhex("a003020103"), 1), "chain.p7b")
