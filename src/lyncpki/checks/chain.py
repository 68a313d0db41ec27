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
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509 import verification

_ANY = verification.Criticality.AGNOSTIC


@dataclass(frozen=True)
class ChainResult:
    chain: list[x509.Certificate]  # leaf first, up to the trusted root; empty when untrusted
    problem: str | None = None


# CA certificates a path may hold below its root: pyca's default is 8, which refused paths
# that OpenSSL (100) and Windows accept; no Lync deployment needs more than a few
MAX_CHAIN_DEPTH = 32


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
        .max_chain_depth(MAX_CHAIN_DEPTH)
        .extension_policies(
            ca_policy=ca_policy, ee_policy=verification.ExtensionPolicy.permit_all()
        )
    )


@functools.lru_cache(maxsize=256)
def _verifier(roots: tuple[x509.Certificate, ...], at: dt.datetime) -> verification.ClientVerifier:
    """One verifier per set of roots and instant (building one costs a third of a
    validation; a run judges thousands of certificates against the same roots)."""
    return _policy_builder(roots, at).build_client_verifier()


@dataclass(frozen=True)
class _Upper:
    """A validated upper path: an issuing CA up to a root, and a verifier that has that CA as
    its only anchor (the same policy, the same instant)."""

    chain: tuple[x509.Certificate, ...]  # the issuing CA first, the root last
    anchored: verification.ClientVerifier


class _Uppers:
    """The upper paths learnt so far for one set of roots at one instant, by issuing CA.

    Found by the CA certificate object first: a store's trust set is one tuple shared by every
    store that has it, so the same objects come back for each leaf (pyca hashes and compares a
    certificate by its whole DER, 1 us each, four of them a leaf by value)."""

    def __init__(self) -> None:
        self._by_value: dict[x509.Certificate, _Upper] = {}
        # id -> (the object, its path): the object is held, so its id is not reused meanwhile
        self._by_object: dict[int, tuple[x509.Certificate, _Upper]] = {}

    def __bool__(self) -> bool:
        return bool(self._by_value)

    def find(self, ca: x509.Certificate) -> _Upper | None:
        seen = self._by_object.get(id(ca))
        if seen is not None and seen[0] is ca:
            return seen[1]
        upper = self._by_value.get(ca)
        if upper is not None:
            self._by_object[id(ca)] = (ca, upper)
        return upper

    def learn(self, ca: x509.Certificate, upper: _Upper) -> None:
        self._by_value[ca] = upper
        self._by_object[id(ca)] = (ca, upper)


@functools.lru_cache(maxsize=256)
def _uppers_of(roots: tuple[x509.Certificate, ...], at: dt.datetime) -> _Uppers:
    return _Uppers()


# the set of roots last asked for, by object: a run asks for the same tuple thousands of times
_last: tuple[tuple[x509.Certificate, ...], dt.datetime, _Uppers] | None = None


def _uppers(roots: tuple[x509.Certificate, ...], at: dt.datetime) -> _Uppers:
    global _last
    last = _last
    if last is not None and last[0] is roots and last[1] == at:
        return last[2]
    uppers = _uppers_of(roots, at)
    _last = (roots, at, uppers)
    return uppers


def _learn(uppers: _Uppers, chain: list[x509.Certificate], at: dt.datetime) -> None:
    """Remember the path above a validated leaf's issuing CA, unless a CA on it carries name
    constraints (which are judged against each leaf's own names)."""
    if len(chain) < 3 or uppers.find(chain[1]) is not None:
        return
    for ca in chain[1:]:
        try:
            ca.extensions.get_extension_for_class(x509.NameConstraints)
        except x509.ExtensionNotFound:
            continue
        except Exception:  # an unreadable extension: no shortcut, the full path each time
            return
        return
    uppers.learn(
        chain[1], _Upper(tuple(chain[1:]), _policy_builder([chain[1]], at).build_client_verifier())
    )


def _anchored(
    leaf: x509.Certificate, intermediates: Sequence[x509.Certificate], uppers: _Uppers
) -> list[x509.Certificate] | None:
    """The path of `leaf` through an issuing CA whose upper path is already validated, when
    that CA is among `intermediates` and verifiably issued `leaf` (the verifier matches the
    names and checks the signature); else None."""
    if not uppers:
        return None
    for candidate in intermediates:
        upper = uppers.find(candidate)
        if upper is None:
            continue
        try:
            upper.anchored.verify(leaf, [])
        except verification.VerificationError:
            continue
        return [leaf, *upper.chain]
    return None


def validate_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    at: dt.datetime,
) -> ChainResult:
    """The path from `leaf` to one of `roots`, or why there is none, at time `at`.

    The path above an issuing CA is validated once per set of roots and instant: a later leaf
    of that CA, given that CA among `intermediates`, is verified against it as an anchor
    (the leaf's own signature, validity and extensions, by the same verifier policy), the
    way the Windows chain engine caches its chain elements. A leaf it does not verify falls
    back to full path building, so failures are always the full verifier's."""
    if not roots:
        return ChainResult([], "no trusted root certificate is installed")
    key = roots if isinstance(roots, tuple) else tuple(roots)
    uppers = _uppers(key, at)
    shortcut = _anchored(leaf, intermediates, uppers)
    if shortcut is not None:
        return ChainResult(shortcut)
    try:
        verified = _verifier(key, at).verify(leaf, list(intermediates))
    except verification.VerificationError as error:
        return ChainResult([], plain_problem(str(error)))
    chain = list(verified.chain)
    _learn(uppers, chain, at)
    return ChainResult(chain)


# A path refused for a SHA-1 signature: not judged, rather than untrusted (R-GEN-04 allows
# SHA-1 and Lync Server 2013 accepts it; pyca/cryptography's verifier cannot be told to)
SHA1_NOT_JUDGED = (
    "a certificate of its path is signed with SHA-1, which this check's path validation "
    "(pyca/cryptography) refuses: its trust is not judged"
)
SHA1_FIX = (
    "judge the chain with openssl verify -CAfile ROOT.crt -untrusted ISSUING.crt CERT.crt (or "
    "certutil -verify on Windows), and plan its replacement by a SHA-256 certificate"
)


def not_judged(problem: str) -> bool:
    """Whether a path's problem is only that it could not be judged (SHA-1)."""
    return SHA1_NOT_JUDGED in problem


# pyca/cryptography's words for why a path does not validate, in an administrator's
_PLAIN = (
    (
        re.compile(r"all candidates exhausted with no interior errors"),
        "no CA certificate that issued it is among those given and trusted (its issuing CA or "
        "its root is missing)",
    ),
    (
        re.compile(r"cert is not valid at validation time"),
        "a CA certificate of its path is outside its validity (expired, or not yet valid)",
    ),
    (
        re.compile(r"chain construction exceeds max depth"),
        f"its path holds more than {MAX_CHAIN_DEPTH} CA certificates below the root, more "
        "than this check's path validation follows",
    ),
    (
        re.compile(r"Forbidden signature algorithm:.*With(Sha1|SHA1)\b.*", re.DOTALL),
        SHA1_NOT_JUDGED,
    ),
    (
        re.compile(r"Forbidden signature algorithm.*", re.DOTALL),
        "a certificate of its path is signed with an algorithm the validation refuses (SHA-1 "
        "or weaker)",
    ),
    (
        re.compile(r"malformed DNS name constraint: (\S+)"),
        r"a CA's name constraint \1 is in a form RFC 5280 does not define for DNS names (a "
        "leading dot): this check's path validation (pyca/cryptography) refuses it, though "
        "Windows and OpenSSL accept it",
    ),
    # a certificate shown as its Python representation: its subject
    (re.compile(r"<Certificate\(subject=<Name\(([^)]*)\)>[^>]*>"), r"\1"),
)


def plain_problem(text: str) -> str:
    """Why a path does not validate, without pyca's prefixes and representations."""
    text = text.removeprefix("validation failed: ").removeprefix("candidates exhausted: ")
    for pattern, words in _PLAIN:
        text = pattern.sub(words, text)
    return text


_A_SECOND = dt.timedelta(seconds=1)


def validate_apart_from_its_dates(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    now: dt.datetime,
) -> ChainResult:
    """The path of `leaf` judged apart from the leaf's own dates (the validity rules say
    those, with their fix): at `now` when the leaf is valid now; else at the moment of its
    validity nearest now, then at its middle (an expired leaf validated at its middle only was
    "a CA certificate of its path is outside its validity" when its CA had been renewed since).
    When neither validates, why at the nearest, said of the time the leaf was valid."""
    start, end = leaf.not_valid_before_utc, leaf.not_valid_after_utc
    if start <= now <= end:
        return validate_chain(leaf, intermediates, roots, now)
    nearest = max(start, end - _A_SECOND) if now > end else min(end, start + _A_SECOND)
    result = validate_chain(leaf, intermediates, roots, nearest)
    if result.problem is None:
        return result
    middle = validate_chain(leaf, intermediates, roots, start + (end - start) / 2)
    if middle.problem is None:
        return middle
    return ChainResult(
        [], f"while it was valid ({start:%Y-%m-%d} to {end:%Y-%m-%d}): {result.problem}"
    )
