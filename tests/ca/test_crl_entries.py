"""CRL entries as `revoked_certificate` builds them: each reason code reads back, to openssl
and to cryptography, as the reason given, and the entry is byte for byte the one
cryptography's own builder makes (the reason codes are handed over pre-encoded)."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from lyncpki.ca.crl import Reason, add_entries, revoked_certificate

# openssl's own names for the reasons (crypto/x509/v3_enum.c), not ours
OPENSSL_NAMES = {
    Reason.KEY_COMPROMISE: "Key Compromise",
    Reason.CA_COMPROMISE: "CA Compromise",
    Reason.AFFILIATION_CHANGED: "Affiliation Changed",
    Reason.SUPERSEDED: "Superseded",
    Reason.CESSATION_OF_OPERATION: "Cessation Of Operation",
    Reason.CERTIFICATE_HOLD: "Certificate Hold",
    Reason.PRIVILEGE_WITHDRAWN: "Privilege Withdrawn",
    Reason.REMOVE_FROM_CRL: "Remove From CRL",
}
WHEN = dt.datetime(2026, 3, 1, 12, 0, 0)
KEY = ec.generate_private_key(ec.SECP256R1())
ISSUER = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Entries Test CA")])


def signed(entries: list[x509.RevokedCertificate]) -> x509.CertificateRevocationList:
    return x509.CertificateRevocationListBuilder(
        issuer_name=ISSUER,
        last_update=WHEN,
        next_update=WHEN + dt.timedelta(days=1),
        revoked_certificates=entries,
    ).sign(KEY, hashes.SHA256())


def plain_entry(serial: int, reason: Reason) -> x509.RevokedCertificate:
    """The entry as cryptography's documented builder makes it, step by step."""
    builder = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(WHEN)
    if reason is not Reason.UNSPECIFIED:
        builder = builder.add_extension(x509.CRLReason(reason.flag), critical=False)
    return builder.build()


@pytest.mark.parametrize("reason", list(Reason))
def test_entry_is_the_one_cryptography_builds(reason: Reason) -> None:
    ours = signed([revoked_certificate(4660 + i, WHEN, reason) for i in range(3)])
    theirs = signed([plain_entry(4660 + i, reason) for i in range(3)])
    assert ours.tbs_certlist_bytes == theirs.tbs_certlist_bytes
    for entry in x509.load_der_x509_crl(ours.public_bytes(Encoding.DER)):
        if reason is Reason.UNSPECIFIED:
            assert len(entry.extensions) == 0
        else:
            assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is (
                reason.flag
            )


def test_openssl_reads_every_reason(tmp_path: Path) -> None:
    reasons = list(OPENSSL_NAMES)
    crl = signed([revoked_certificate(0x1000 + i, WHEN, r) for i, r in enumerate(reasons)])
    path = tmp_path / "entries.crl"
    path.write_bytes(crl.public_bytes(Encoding.PEM))
    text = subprocess.run(
        ["openssl", "crl", "-in", str(path), "-noout", "-text"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    blocks = text.split("Serial Number: ")[1:]
    assert len(blocks) == len(reasons)
    for block, reason in zip(blocks, reasons, strict=True):
        assert block.split()[0] == f"{0x1000 + reasons.index(reason):X}"
        assert "X509v3 CRL Reason Code:" in block
        assert OPENSSL_NAMES[reason] in block.split("X509v3 CRL Reason Code:")[1].split("\n")[1]


def test_rows_become_the_same_entries_as_one_by_one() -> None:
    """add_entries (the CRL's reader of database rows) makes what revoked_certificate makes,
    an aware date taken to UTC, and refuses what it refuses."""
    aware = dt.datetime(2026, 3, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    rows = [(1, "1234", WHEN, "keyCompromise"), (2, "abcd", aware, "superseded")]
    into: list[x509.RevokedCertificate] = []
    add_entries(into, rows, lambda stored: stored)
    expected = [
        revoked_certificate(0x1234, WHEN, "keyCompromise"),
        plain_entry(0xABCD, Reason.SUPERSEDED),
    ]
    assert signed(into).tbs_certlist_bytes == signed(expected).tbs_certlist_bytes
    for serial_hex in ("0", "8" + "0" * 39):  # zero; 160 bits
        with pytest.raises(ValueError, match="serial number"):
            add_entries([], [(3, serial_hex, WHEN, "keyCompromise")], lambda stored: stored)
    with pytest.raises(ValueError, match="1950"):
        add_entries([], [(4, "1", dt.datetime(1949, 12, 31), "keyCompromise")], lambda s: s)
