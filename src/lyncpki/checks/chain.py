"""Path building and validation to a store's trusted roots, with
`cryptography.x509.verification` (never by hand).

The policy is the one Windows CryptoAPI applies to Lync's certificates rather than the Web PKI's:
a CA certificate needs basicConstraints CA:TRUE but not a keyUsage extension (roots made by
`openssl req -x509` and many enterprise roots have none); the end-entity's extensions (EKU,
SANs, key usage) are judged by the rules of `certificate_rules`, each with its own finding.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509 import verification

_ANY = verification.Criticality.AGNOSTIC


@dataclass(frozen=True)
class ChainResult:
    chain: list[x509.Certificate]  # leaf first, up to the trusted root; empty when untrusted
    problem: str | None = None


def _policy_builder(
    roots: Sequence[x509.Certificate], at: dt.datetime
) -> verification.PolicyBuilder:
    ca_policy = verification.ExtensionPolicy.permit_all().require_present(
        x509.BasicConstraints, _ANY, None
    )
    return (
        verification.PolicyBuilder()
        .store(verification.Store(list(roots)))
        .time(at)
        .extension_policies(
            ca_policy=ca_policy, ee_policy=verification.ExtensionPolicy.permit_all()
        )
    )


@functools.lru_cache(maxsize=256)
def _verifier(roots: tuple[x509.Certificate, ...], at: dt.datetime) -> verification.ClientVerifier:
    """One verifier per set of roots and instant (building one costs a third of a
    validation; a run judges thousands of certificates against the same roots)."""
    return _policy_builder(roots, at).build_client_verifier()


def validate_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    at: dt.datetime,
) -> ChainResult:
    """The path from `leaf` to one of `roots`, or why there is none, at time `at`."""
    if not roots:
        return ChainResult([], "no trusted root certificate is installed")
    try:
        verified = _verifier(tuple(roots), at).verify(leaf, list(intermediates))
    except verification.VerificationError as error:
        return ChainResult([], str(error).removeprefix("validation failed: "))
    return ChainResult(list(verified.chain))


def validity_instant(leaf: x509.Certificate, now: dt.datetime) -> dt.datetime:
    """When to validate the path: now, or, for a leaf outside its validity (reported by the
    validity rules on its own), an instant inside it, so that trust is judged separately."""
    start, end = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    if start <= now <= end:
        return now
    return start + (end - start) / 2
