"""Revocation as a relying Lync server sees it: the CRL at each CRL distribution point (fetched
over HTTP, each URL once per run), and the OCSP responder named in the AIA.

Every answer is judged with pyca/cryptography: the CRL's and the OCSP response's signatures, the
delegated OCSP signer's issuance and EKU. Nothing here raises for what the network does: a
failure is an answer with its reason.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from lyncpki.x509.forms import UNREADABLE

if TYPE_CHECKING:
    import httpx

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")

MAX_CRL_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class CrlFetch:
    url: str
    crl: x509.CertificateRevocationList | None = None
    problem: str | None = None


@dataclass(frozen=True)
class OcspAnswer:
    url: str
    status: str | None = None  # good | revoked | unknown
    revoked_at: dt.datetime | None = None
    reason: str | None = None
    problem: str | None = None  # unreachable or unusable, with why
    unusable: bool = False  # the responder answered, but not an answer to trust
    # when the answer holds (RFC 6960 3.2: judged against the check's own time by the rule)
    this_update: dt.datetime | None = None
    next_update: dt.datetime | None = None
    signer_valid: tuple[dt.datetime, dt.datetime] | None = None  # a delegated responder's


def http_urls(names: list[x509.GeneralName]) -> list[str]:
    return [
        n.value
        for n in names
        if isinstance(n, x509.UniformResourceIdentifier) and n.value.lower().startswith("http")
    ]


def cdp_urls(cert: x509.Certificate) -> list[str]:
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except (x509.ExtensionNotFound, *UNREADABLE):
        return []
    return [url for point in points for url in http_urls(list(point.full_name or []))]


def delta_urls(crl: x509.CertificateRevocationList, cert: x509.Certificate) -> list[str]:
    """Freshest CRL (delta) URLs, from the certificate or from its base CRL."""
    for source in (cert.extensions, crl.extensions):
        try:
            points = source.get_extension_for_class(x509.FreshestCRL).value
        except (x509.ExtensionNotFound, *UNREADABLE):
            continue
        return [url for point in points for url in http_urls(list(point.full_name or []))]
    return []


def _number(crl: x509.CertificateRevocationList) -> int | None:
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except (x509.ExtensionNotFound, *UNREADABLE):
        return None


def entry_reason(entry: x509.RevokedCertificate) -> x509.ReasonFlags | None:
    """The reason code of a CRL entry, None when it gives none (or none readable)."""
    try:
        return entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except (x509.ExtensionNotFound, *UNREADABLE):
        return None


def _released(entry: x509.RevokedCertificate) -> bool:
    """An entry with reason removeFromCRL: the certificate is not revoked (a hold released)."""
    return entry_reason(entry) == x509.ReasonFlags.remove_from_crl


def revoking_entry(
    full: CrlFetch, deltas: Sequence[CrlFetch], serial: int
) -> tuple[x509.RevokedCertificate, str] | None:
    """The entry that revokes `serial`, read from a full CRL and its delta CRLs as a relying
    party combines them (RFC 5280 5.2.4, 5.3.1), and the URL of the CRL that says so; None when
    the certificate is not revoked. A delta newer than the full CRL says the latest status of what
    it lists: removeFromCRL there releases a hold the full CRL still lists (and revokes nothing).
    A delta not newer than the full CRL says nothing the full CRL does not."""
    if full.crl is None:
        return None
    full_number = _number(full.crl)
    newest: tuple[int, x509.RevokedCertificate, str] | None = None
    for delta in deltas:
        if delta.crl is None:
            continue
        number = _number(delta.crl)
        if number is not None and full_number is not None and number <= full_number:
            continue
        entry = delta.crl.get_revoked_certificate_by_serial_number(serial)
        if entry is not None and (newest is None or (number or 0) > newest[0]):
            newest = (number or 0, entry, delta.url)
    if newest is not None:
        _, entry, url = newest
    else:
        found = full.crl.get_revoked_certificate_by_serial_number(serial)
        if found is None:
            return None
        entry, url = found, full.url
    return None if _released(entry) else (entry, url)


def ocsp_urls(cert: x509.Certificate) -> list[str]:
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except (x509.ExtensionNotFound, *UNREADABLE):
        return []
    return http_urls(
        [a.access_location for a in access if a.access_method == AuthorityInformationAccessOID.OCSP]
    )


def signed_by(signed: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    try:
        return signed.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (TypeError, ValueError, UnsupportedAlgorithm):
        return False


def _verify(public_key: object, signature: bytes, data: bytes, algorithm: object) -> bool:
    """An OCSP response's signature, by the responder's key."""
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and isinstance(algorithm, hashes.HashAlgorithm):
            public_key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(
            algorithm, hashes.HashAlgorithm
        ):
            public_key.verify(signature, data, ec.ECDSA(algorithm))
        else:
            return False
    except InvalidSignature:
        return False
    return True


class _Late(Exception):
    """No complete answer before the deadline."""


class _Failed(Exception):
    """What the network did instead of answering (httpx's error, named)."""


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class RevocationSource:
    """CRLs and OCSP answers fetched over HTTP, cached for one run (thread-safe).

    Each fetch has `timeout` seconds in all to bring its whole answer: httpx's timeout bounds
    each read, and a server (or a proxy, a tarpit) that trickles a byte at a time held a check
    for as long as it liked."""

    def __init__(self, *, timeout: float = 5.0, transport: httpx.BaseTransport | None = None):
        import httpx  # the network's client: only for a check that fetches (70 ms a command)

        self.timeout = timeout
        self._http = httpx.Client(timeout=timeout, follow_redirects=True, transport=transport)
        self._crls: dict[str, CrlFetch] = {}
        self._ocsp: dict[tuple[str, int], OcspAnswer] = {}
        self._lock = threading.Lock()
        self._fetching: dict[Hashable, threading.Lock] = {}

    def close(self) -> None:
        self._http.close()

    def crl(self, url: str) -> CrlFetch:
        return self._once(self._crls, url, lambda: self._fetch_crl(url))

    def _once(self, cache: dict[_K, _V], key: _K, fetch: Callable[[], _V]) -> _V:
        """`fetch()` once per key, whatever the number of threads asking at the same time (a
        check probing endpoints in parallel asks for the same CRL from each of them)."""
        with self._lock:
            if key in cache:
                return cache[key]
            fetching = self._fetching.setdefault(key, threading.Lock())
        with fetching:
            with self._lock:
                if key in cache:
                    return cache[key]
            fetched = fetch()
            with self._lock:
                cache[key] = fetched
                self._fetching.pop(key, None)
        return fetched

    def _fetch(
        self, method: str, url: str, *, content: bytes | None = None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        """The status and the whole body of an answer, read within `timeout` seconds in all
        (raises _Late), never more than MAX_CRL_BYTES (raises _TooLarge); what went wrong on
        the way raises _Failed."""
        import httpx

        try:
            return self._read(method, url, content=content, headers=headers)
        except httpx.HTTPError as error:
            raise _Failed(f"{type(error).__name__}: {error}") from error

    def _read(
        self, method: str, url: str, *, content: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        deadline = time.monotonic() + self.timeout
        with self._http.stream(method, url, content=content, headers=headers) as response:
            if response.status_code != 200:
                return response.status_code, b""
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_CRL_BYTES:
                raise _TooLarge(int(declared))
            chunks: list[bytes] = []
            size = 0
            if time.monotonic() > deadline:
                raise _Late
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_CRL_BYTES:
                    raise _TooLarge(size)
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise _Late
            return 200, b"".join(chunks)

    def _late(self) -> str:
        return f"no complete answer within {self.timeout:g} s"

    def _fetch_crl(self, url: str) -> CrlFetch:
        try:
            status, data = self._fetch("GET", url, headers={})
        except _Late:
            return CrlFetch(url, problem=self._late())
        except _TooLarge as error:
            return CrlFetch(url, problem=f"{error.size} bytes or more, too large for a CRL")
        except _Failed as error:
            return CrlFetch(url, problem=str(error))
        if status != 200:
            return CrlFetch(url, problem=f"HTTP {status}")
        for load in (x509.load_der_x509_crl, x509.load_pem_x509_crl):
            try:
                return CrlFetch(url, crl=load(data))
            except ValueError:
                continue
        return CrlFetch(url, problem="the answer is not a CRL (neither DER nor PEM)")

    def ocsp(self, url: str, cert: x509.Certificate, issuer: x509.Certificate) -> OcspAnswer:
        return self._once(
            self._ocsp, (url, cert.serial_number), lambda: self._ask(url, cert, issuer)
        )

    def _ask(self, url: str, cert: x509.Certificate, issuer: x509.Certificate) -> OcspAnswer:
        request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256()).build()
        try:
            code, data = self._fetch(
                "POST",
                url,
                content=request.public_bytes(serialization.Encoding.DER),
                headers={"Content-Type": "application/ocsp-request"},
            )
        except _Late:
            return OcspAnswer(url, problem=self._late())
        except _TooLarge as error:
            return OcspAnswer(url, problem=f"{error.size} bytes or more, too large", unusable=True)
        except _Failed as error:
            return OcspAnswer(url, problem=str(error))
        if code != 200:
            return OcspAnswer(url, problem=f"HTTP {code}")
        try:
            answer = ocsp.load_der_ocsp_response(data)
        except ValueError:
            return OcspAnswer(url, problem="the answer is not an OCSP response", unusable=True)
        if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return OcspAnswer(
                url, problem=f"responder says {answer.response_status.name}", unusable=True
            )
        try:
            algorithm = answer.signature_hash_algorithm
        except UnsupportedAlgorithm:
            algorithm = None
        problem = _untrusted(
            answer.certificates, answer.signature, answer.tbs_response_bytes, algorithm, issuer
        )
        if problem:
            return OcspAnswer(url, problem=problem, unusable=True)
        if answer.serial_number != cert.serial_number or not _same_issuer(answer, cert, issuer):
            return OcspAnswer(url, problem="the answer is about another certificate", unusable=True)
        responder = answer.certificates[0] if answer.certificates else None
        status = answer.certificate_status
        revoked = status == ocsp.OCSPCertStatus.REVOKED
        reason = answer.revocation_reason.value if revoked and answer.revocation_reason else None
        return OcspAnswer(
            url,
            "revoked" if revoked else "good" if status == ocsp.OCSPCertStatus.GOOD else "unknown",
            answer.revocation_time_utc if revoked else None,
            reason,
            this_update=answer.this_update_utc,
            next_update=answer.next_update_utc,
            signer_valid=(responder.not_valid_before_utc, responder.not_valid_after_utc)
            if responder is not None
            else None,
        )


def _same_issuer(
    answer: ocsp.OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate
) -> bool:
    """Whether the answer's CertID names the certificate's issuer (RFC 6960 3.2 item 1), in
    whichever hash the responder chose: a serial alone may be another CA's certificate."""
    try:
        expected = (
            ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, answer.hash_algorithm).build()
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return (answer.issuer_name_hash, answer.issuer_key_hash) == (
        expected.issuer_name_hash,
        expected.issuer_key_hash,
    )


def _untrusted(
    certificates: list[x509.Certificate],
    signature: bytes,
    tbs: bytes,
    algorithm: hashes.HashAlgorithm | None,
    issuer: x509.Certificate,
) -> str | None:
    """Why an OCSP response is not to be trusted, or None: signed by the issuing CA itself, or
    by a responder certificate it issued with the OCSPSigning EKU (RFC 6960 4.2.2.2)."""
    signer_key: object = issuer.public_key()
    if certificates:
        responder = certificates[0]
        try:
            responder.verify_directly_issued_by(issuer)
            ekus = responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            return "the responder's certificate is not an OCSP signer of the issuing CA"
        if ExtendedKeyUsageOID.OCSP_SIGNING not in ekus:
            return "the responder's certificate has no OCSPSigning EKU"
        signer_key = responder.public_key()
    if algorithm is None:
        return "the response is signed with an unsupported algorithm"
    if not _verify(signer_key, signature, tbs, algorithm):
        return "the response's signature does not verify"
    return None
