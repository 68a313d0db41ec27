"""The CA certificates above a certificate among those a file brings: each found by its name
and by its signature (pyca/cryptography verifies it), up to a self-signed one or the last that
can be found. This assembles a chain; it validates nothing (checks.chain does, with pyca's
verifier)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature


def signed_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer` names and verifiably signed `certificate`."""
    if certificate.issuer != issuer.subject:
        return False
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def issuers_of(
    certificate: x509.Certificate, candidates: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """The CA certificates of `candidates` on `certificate`'s path, nearest first."""
    path: list[x509.Certificate] = []
    current = certificate
    while current.issuer != current.subject:  # a self-signed certificate ends the path
        above = next(
            (c for c in candidates if c not in path and c != current and signed_by(current, c)),
            None,
        )
        if above is None:
            break
        path.append(above)
        current = above
    return path
