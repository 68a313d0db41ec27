"""Full and delta CRLs, built in one pass from a list of revoked entries and published atomically.

pyca/cryptography's builder is immutable: adding entries one by one copies the list each time
(quadratic). The revoked entries are therefore built first and handed to the builder at once.
No issuing-distribution-point extension is written: one whose scope differs from the
certificates' makes OpenSSL reject the CRL ("different CRL scope").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from lyncpki.atomic import write_atomic
from lyncpki.errors import LyncPkiError
from lyncpki.x509.keys import PrivateKey


class Reason(StrEnum):
    """RFC 5280 revocation reasons, spelled as openssl and certutil spell them."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "keyCompromise"
    CA_COMPROMISE = "cACompromise"
    AFFILIATION_CHANGED = "affiliationChanged"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessationOfOperation"
    CERTIFICATE_HOLD = "certificateHold"
    PRIVILEGE_WITHDRAWN = "privilegeWithdrawn"

    @property
    def flag(self) -> x509.ReasonFlags:
        return x509.ReasonFlags[_FLAG_NAMES[self]]

    @classmethod
    def parse(cls, text: str) -> Reason:
        wanted = text.strip().replace("-", "").replace("_", "").lower()
        for reason in cls:
            if reason.value.lower() == wanted:
                return reason
        raise LyncPkiError(
            f"unknown revocation reason '{text}'",
            f"use one of: {', '.join(r.value for r in cls)}",
        )


_FLAG_NAMES = {
    Reason.UNSPECIFIED: "unspecified",
    Reason.KEY_COMPROMISE: "key_compromise",
    Reason.CA_COMPROMISE: "ca_compromise",
    Reason.AFFILIATION_CHANGED: "affiliation_changed",
    Reason.SUPERSEDED: "superseded",
    Reason.CESSATION_OF_OPERATION: "cessation_of_operation",
    Reason.CERTIFICATE_HOLD: "certificate_hold",
    Reason.PRIVILEGE_WITHDRAWN: "privilege_withdrawn",
}
_REASON_EXTENSIONS = {reason: x509.CRLReason(reason.flag) for reason in Reason}


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    serial: int
    revoked_at: dt.datetime
    reason: Reason


@dataclass(frozen=True, slots=True)
class CrlSpec:
    """What one CRL says: its number, times, and for a delta its base (RFC 5280 5.2.4)."""

    number: int
    this_update: dt.datetime
    next_update: dt.datetime
    base_number: int | None = None  # set: a delta CRL
    freshest_url: str | None = None  # set on a full CRL: where its delta CRLs are


def build_crl(
    issuer: x509.Certificate,
    key: PrivateKey,
    spec: CrlSpec,
    entries: Iterable[RevokedEntry],
) -> x509.CertificateRevocationList:
    """Sign a CRL listing `entries` (in one pass: the list is given to the builder whole)."""
    revoked = []
    builder_class = x509.RevokedCertificateBuilder
    for entry in entries:
        item = builder_class().serial_number(entry.serial).revocation_date(entry.revoked_at)
        if entry.reason is not Reason.UNSPECIFIED:  # RFC 5280: omit the unspecified reason
            item = item.add_extension(_REASON_EXTENSIONS[entry.reason], critical=False)
        revoked.append(item.build())
    ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    extensions: list[x509.Extension[x509.ExtensionType]] = [
        x509.Extension(
            x509.AuthorityKeyIdentifier.oid,
            False,
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
        ),
        x509.Extension(x509.CRLNumber.oid, False, x509.CRLNumber(spec.number)),
    ]
    if spec.base_number is not None:
        extensions.append(
            x509.Extension(
                x509.DeltaCRLIndicator.oid, True, x509.DeltaCRLIndicator(spec.base_number)
            )
        )
    elif spec.freshest_url:
        freshest = x509.FreshestCRL(
            [
                x509.DistributionPoint(
                    [x509.UniformResourceIdentifier(spec.freshest_url)], None, None, None
                )
            ]
        )
        extensions.append(x509.Extension(freshest.oid, False, freshest))
    builder = x509.CertificateRevocationListBuilder(
        issuer_name=issuer.subject,
        last_update=spec.this_update,
        next_update=spec.next_update,
        extensions=extensions,
        revoked_certificates=revoked,
    )
    return builder.sign(key, hashes.SHA256())


def publish(crl: x509.CertificateRevocationList, der_path: str, pem_path: str) -> None:
    """Write the CRL as DER (what the CDP URL serves) and PEM, each atomically."""
    write_atomic(der_path, crl.public_bytes(Encoding.DER))
    write_atomic(pem_path, crl.public_bytes(Encoding.PEM))
