"""The CA certificates above a certificate among those at hand: each found by its name and,
by default, by its signature (pyca/cryptography verifies it), up to a self-issued one or the
last that can be found. This assembles a chain; it validates nothing (checks.chain does, with
pyca's verifier)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm


def signed_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer` names and verifiably signed `certificate`."""
    if certificate.issuer != issuer.subject:
        return False
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def named_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer`'s subject is the name `certificate` gives as its issuer (nothing
    verified)."""
    return certificate.issuer == issuer.subject


def issuers_of(
    certificate: x509.Certificate,
    candidates: Sequence[x509.Certificate],
    issued: Callable[[x509.Certificate, x509.Certificate], bool] = signed_by,
) -> list[x509.Certificate]:
    """The CA certificates of `candidates` on `certificate`'s path, nearest first: each one
    that `issued` the one below (signed_by; named_by to go by names alone)."""
    path: list[x509.Certificate] = []
    current = certificate
    while current.issuer != current.subject:  # a self-issued certificate ends the path
        above = next(
            (c for c in candidates if c not in path and c != current and issued(current, c)),
            None,
        )
        if above is None:
            break
        path.append(above)
        current = above
    return path
