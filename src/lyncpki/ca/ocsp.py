"""The CA's OCSP responder (RFC 6960), answering for the issuing CA from its database.

Responses are signed by a delegated OCSP signing certificate (RFC 6960 4.2.2.2): a short-lived
certificate issued by the issuing CA with the OCSPSigning EKU and id-pkix-ocsp-nocheck, kept in
<home>/ca/ocsp.crt and ocsp.key (encrypted PKCS#8, 0600) and re-issued two days before it
expires. The issuing CA's own key never signs a response.

That certificate carries id-pkix-ocsp-nocheck: relying parties never ask whether it is revoked,
so the responder asks itself. When it is revoked (its key lost, say), every responder sharing
the database notices at its next answer (a revocation moves the RevocationWatch's generation),
stops signing with it and signs with a new key and certificate, issued by the first of them and
written to the home (the others load it); a start does the same. Until a new one can be issued
(the database or the disk failing), answers are internalError, never signed with the revoked one.

One certificate per request: RFC 6960 lets a request ask about several, but RFC 5019 2.1.1 (the
profile relying parties follow: Windows, browsers, openssl's default) asks about one, and
pyca/cryptography can neither read nor answer a request for several. Such a request is answered
malformedRequest, and the service log says why (at most once a minute): ask once per
certificate.

An answer says what the database says at that moment: a revocation is answered at once, without
waiting for the next CRL. Answers to requests without a nonce are cached for a few minutes and
dropped as soon as anything is revoked, by this process or another one sharing the database
(see RevocationWatch: on SQLite a cached answer costs no query at all). `respond` never raises:
bad input is answered with an unsuccessful OCSPResponse (malformedRequest, unauthorized or
internalError).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyasn1.codec.der import decoder
from pyasn1.type import namedtype, univ
from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.exc import SQLAlchemyError

from lyncpki.atomic import write_atomic
from lyncpki.ca import database as db
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.certificates import BACKDATE, ca_name, key_usage, random_serial
from lyncpki.ca.crl import Reason
from lyncpki.ca.revocation_watch import RevocationWatch
from lyncpki.ca.templates import OCSP_SIGNER_TEMPLATE as SIGNER_TEMPLATE
from lyncpki.errors import LyncPkiError
from lyncpki.file_lock import exclusive
from lyncpki.keyspec import KeySpec
from lyncpki.x509.identifiers import serial_hex, thumbprint
from lyncpki.x509.keys import PrivateKey, decrypt_key, encrypt_key, generate_key, spec_of

SIGNER_DAYS = 30
RENEW_BEFORE = dt.timedelta(days=2)  # a signer closer than this to its end is re-issued
RENEW_RETRY = dt.timedelta(minutes=5)  # after a failed re-issue (database down, disk full)
REPLACE_RETRY = dt.timedelta(seconds=10)  # after a failed replacement of a revoked signer
RESPONSE_VALIDITY = dt.timedelta(hours=1)  # nextUpdate - thisUpdate
CACHE_SECONDS = 300  # a cached answer is served while its thisUpdate is younger than this
CACHE_ENTRIES = 65_536  # the oldest answer is dropped beyond this
MAX_REQUEST_BYTES = 16 * 1024  # an OCSP request for one certificate is about 100 bytes
MAX_NONCE_BYTES = 128  # RFC 9654 2.1 (it replaced RFC 8954's 32): longer or empty are malformed
_ACTOR = "lyncpki"
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_FLAGS = {reason.value: reason.flag for reason in Reason}
log = logging.getLogger("lyncpki.ca.ocsp")


# ---------------------------------------------------------------- the delegated signer
@dataclass(frozen=True, slots=True)
class OcspSigner:
    """The delegated OCSP signing certificate and its key."""

    certificate: x509.Certificate
    key: PrivateKey

    @property
    def not_after(self) -> dt.datetime:
        return self.certificate.not_valid_after_utc

    @property
    def serial(self) -> str:
        return serial_hex(self.certificate.serial_number)

    def needs_renewal(self, now: dt.datetime) -> bool:
        return self.not_after - now <= RENEW_BEFORE


def signer_files(ca: CertificateAuthority) -> tuple[Path, Path]:
    """<home>/ca/ocsp.crt and <home>/ca/ocsp.key."""
    return ca.home.cert_file("ocsp"), ca.home.key_file("ocsp")


@contextmanager
def _signer_lock(ca: CertificateAuthority) -> Iterator[None]:
    """Several service workers start at once: one of them checks and re-issues the signer, the
    others then load what it wrote (never a certificate of one and the key of another)."""
    with exclusive(ca.home.ca_dir / ".ocsp.lock"):
        yield


def ensure_responder(ca: CertificateAuthority, passphrase: bytes) -> OcspSigner:
    """The delegated OCSP signer of the issuing CA: the one in the CA home when it is usable
    (its key matches, the current issuing CA signed it, not revoked, more than two days left),
    else a new one (issued, recorded in the inventory and audited, then written to the home)."""
    with _signer_lock(ca):
        signer = _load_signer(ca, passphrase)
        if signer is None or signer.needs_renewal(ca.clock.now()):
            return _issue_signer(ca, passphrase)
        if signer_revoked(ca, signer):
            return _issue_signer(ca, passphrase, replaces=signer)
        return signer


def signer_revoked(ca: CertificateAuthority, signer: OcspSigner) -> bool:
    """Whether the signer's certificate is revoked (as committed now)."""
    return ca.revocation(signer.certificate.serial_number) is not None


def _load_signer(ca: CertificateAuthority, passphrase: bytes) -> OcspSigner | None:
    """The signer in the home, or None when missing, damaged, or not of this issuing CA."""
    cert_path, key_path = signer_files(ca)
    try:
        cert_data, key_data = cert_path.read_bytes(), key_path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        certificate = x509.load_pem_x509_certificate(cert_data)
        certificate.verify_directly_issued_by(ca.issuer.certificate)
    except (ValueError, TypeError, InvalidSignature):
        return None  # damaged, or signed by an issuing CA since replaced: issue another
    key = decrypt_key(key_data, passphrase, what="the OCSP responder")  # wrong passphrase: raise
    if _spki(key.public_key()) != _spki(certificate.public_key()):
        return None  # a certificate and key of two different writes
    return OcspSigner(certificate, key)


def _spki(public_key: Any) -> bytes:
    der: bytes = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return der


def _signer_subject(ca: CertificateAuthority) -> x509.Name:
    organizations = ca.issuer.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    organization = str(organizations[0].value) if organizations else None
    return ca_name(f"{ca.config.name} OCSP Responder", organization)


def _issue_signer(
    ca: CertificateAuthority, passphrase: bytes, *, replaces: OcspSigner | None = None
) -> OcspSigner:
    issuing = ca.issuer.certificate
    issuing_key = ca.issuer.signing_key
    elliptic = isinstance(issuing_key, ec.EllipticCurvePrivateKey)
    key = generate_key(KeySpec("ec", 256) if elliptic else KeySpec("rsa", 2048))
    public = key.public_key()
    now = ca.clock.now()
    not_after = min(now + dt.timedelta(days=SIGNER_DAYS), issuing.not_valid_after_utc)
    subject = _signer_subject(ca)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuing.subject)
        .public_key(public)
        .serial_number(random_serial())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(("digital_signature",), public), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(ca.issuer.aki, critical=False)
        .sign(issuing_key, _certificate_hash(issuing_key))
    )
    serial = serial_hex(certificate.serial_number)
    spec = spec_of(public)
    with ca.writer.begin() as conn:
        conn.execute(
            insert(db.certificates),
            {
                "serial": serial,
                "ca": ca.config.slug,
                "subject": subject.rfc4514_string(),
                "sans": "",
                "template": SIGNER_TEMPLATE,
                "requester": _ACTOR,
                "request_id": None,
                "not_before": certificate.not_valid_before_utc,
                "not_after": certificate.not_valid_after_utc,
                "thumbprint": thumbprint(certificate),
                "key": spec.name if spec else "unknown",
                "issued_at": now,
                "status": "valid",
                "der": certificate.public_bytes(Encoding.DER),
            },
        )
        ca.audit(
            _ACTOR,
            "issue",
            serial,
            "ok",
            f"template {SIGNER_TEMPLATE}, delegated OCSP signing certificate "
            f"(valid until {not_after:%Y-%m-%d %H:%M}Z)"
            + (f", replacing the revoked {replaces.serial}" if replaces is not None else ""),
            conn,
        )
    cert_path, key_path = signer_files(ca)
    write_atomic(key_path, encrypt_key(key, passphrase), mode=0o600)  # the key first: a
    write_atomic(cert_path, certificate.public_bytes(Encoding.PEM))  # crash leaves a mismatch
    if replaces is not None:  # that the next start detects and replaces
        log.warning(
            "the OCSP responder certificate %s is revoked: responses are now signed by %s",
            replaces.serial,
            serial,
        )
    return OcspSigner(certificate, key)


def _certificate_hash(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    """SHA-256, SHA-384 for an issuing CA on P-384 or P-521 (as the CA signs its own)."""
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


# ---------------------------------------------------------------- the issuer's CertID hashes
_SUBJECT_PUBLIC_KEY_INFO = univ.Sequence(  # RFC 5280 4.1
    componentType=namedtype.NamedTypes(
        namedtype.NamedType(
            "algorithm",
            univ.Sequence(
                componentType=namedtype.NamedTypes(
                    namedtype.NamedType("algorithm", univ.ObjectIdentifier()),
                    namedtype.OptionalNamedType("parameters", univ.Any()),
                )
            ),
        ),
        namedtype.NamedType("subjectPublicKey", univ.BitString()),
    )
)


def subject_public_key_bits(certificate: x509.Certificate) -> bytes:
    """The contents of the subjectPublicKey BIT STRING (what an OCSP issuerKeyHash hashes,
    RFC 6960 4.1.1), decoded from the SubjectPublicKeyInfo with pyasn1."""
    spki, rest = decoder.decode(_spki(certificate.public_key()), asn1Spec=_SUBJECT_PUBLIC_KEY_INFO)
    if rest:
        raise ValueError("trailing bytes after the SubjectPublicKeyInfo")
    bits: bytes = spki["subjectPublicKey"].asOctets()
    return bits


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    digest = hashes.Hash(algorithm)
    digest.update(data)
    return digest.finalize()


def issuer_hashes(issuer: x509.Certificate) -> dict[str, tuple[bytes, bytes]]:
    """(issuerNameHash, issuerKeyHash) of `issuer` by hash name (sha1, sha224 ... sha512)."""
    name = issuer.subject.public_bytes()
    key = subject_public_key_bits(issuer)
    return {
        label: (_digest(algorithm(), name), _digest(algorithm(), key))
        for label, algorithm in _HASHES.items()
    }


# ---------------------------------------------------------------- the responder
@dataclass
class OcspStats:
    """What the responder did since it started (for the bench and /health)."""

    hits: int = 0  # answered from the cache
    misses: int = 0  # signed (nonce-less requests not in the cache, and every nonce request)
    unsuccessful: int = 0  # malformedRequest, unauthorized, internalError


# The status of one certificate, built once (not per request).
_STATUS = (
    select(db.certificates.c.status, db.revocations.c.revoked_at, db.revocations.c.reason)
    .select_from(db.certificates)
    .outerjoin(db.revocations, db.revocations.c.serial == db.certificates.c.serial)
    .where(db.certificates.c.serial == bindparam("serial"), db.certificates.c.ca == bindparam("ca"))
)

_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class _Cached:
    response: bytes
    this_update: dt.datetime
    generation: int  # the last revocation id when the status was read


@dataclass(frozen=True, slots=True)
class _Status:
    status: ocsp.OCSPCertStatus
    revoked_at: dt.datetime | None = None
    reason: x509.ReasonFlags | None = None


class _Unsuccessful(Exception):
    def __init__(self, status: ocsp.OCSPResponseStatus, why: str = "") -> None:
        super().__init__(status.name)
        self.status = status
        self.why = why  # said in the service log


SEVERAL = (
    "an OCSP request asked about several certificates at once: this responder answers one "
    "certificate per request (RFC 5019 2.1.1; pyca/cryptography builds one response per "
    "answer), so it was answered malformedRequest; ask once per certificate (openssl ocsp: "
    "one -cert per command)"
)
LOG_EVERY = 60.0  # seconds between two log lines of one kind


_UNSUCCESSFUL = {
    status: ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(Encoding.DER)
    for status in (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST,
        ocsp.OCSPResponseStatus.INTERNAL_ERROR,
        ocsp.OCSPResponseStatus.TRY_LATER,
        ocsp.OCSPResponseStatus.UNAUTHORIZED,
    )
}


_UNSUCCESSFUL_ANSWERS = frozenset(_UNSUCCESSFUL.values())


def unsuccessful(answer: bytes) -> bool:
    """Whether `answer` (from `OcspResponder.respond`) is an unsuccessful response
    (malformedRequest, unauthorized, internalError): never to be kept by an HTTP cache."""
    return answer in _UNSUCCESSFUL_ANSWERS


class OcspResponder:
    """Answers OCSP requests about certificates of the issuing CA. Thread-safe.

    With `passphrase`, the delegated signer is re-issued (see `ensure_responder`) when it comes
    within two days of its end, or is revoked, while the responder runs; without it, whoever
    runs the responder for longer than four weeks must make a new one, and a revoked signer
    gets internalError answers until then."""

    def __init__(
        self, ca: CertificateAuthority, signer: OcspSigner, *, passphrase: bytes | None = None
    ) -> None:
        self.ca = ca
        # The signer, and the revocation generation at which it was last found not revoked
        # (-1: not yet); replaced together, so that a reader never pairs one with the other's.
        self._current: tuple[OcspSigner, int] = (signer, -1)
        self._passphrase = passphrase
        self._slug = ca.config.slug
        self._hashes = issuer_hashes(ca.issuer.certificate)
        self._lock = threading.Lock()
        self._renew_lock = threading.Lock()
        self._renew_failed_at: dt.datetime | None = None
        self._replace_failed_at: dt.datetime | None = None
        self._logged: dict[str, float] = {}  # when each kind of refusal was last logged
        # Nonce-less answers by CertID, and by the exact request bytes (a relying party asks
        # the same bytes again and again: answered without parsing them).
        self._cache: dict[tuple[int, str, bytes, bytes], _Cached] = {}
        self._by_request: dict[bytes, _Cached] = {}
        # Statuses read from the database, by serial: valid or revoked, what only a revocation
        # (a new generation, which clears them) can change; requests with a nonce, answered
        # anew every time, then need no query. Unknown serials are asked again (one may be
        # issued by another process at any moment).
        self._statuses: dict[int, _Status] = {}
        self._generation = -1
        self._watch = RevocationWatch(ca.engine)
        self.stats = OcspStats()

    @property
    def signer(self) -> OcspSigner:
        return self._current[0]

    def respond(self, request_der: bytes) -> bytes:
        """The DER OCSPResponse to a DER OCSPRequest; never raises."""
        try:
            return self._respond(request_der)
        except _Unsuccessful as refusal:
            status = refusal.status
            if refusal.why:
                self._log_once(refusal.why)
        except Exception:  # a database or signing failure: the client retries later
            status = ocsp.OCSPResponseStatus.INTERNAL_ERROR
        with self._lock:
            self.stats.unsuccessful += 1
        return _UNSUCCESSFUL[status]

    def _log_once(self, why: str) -> None:
        """Say `why` in the service log, at most once every LOG_EVERY seconds."""
        now = time.monotonic()
        with self._lock:
            last = self._logged.get(why)
            if last is not None and now - last < LOG_EVERY:
                return
            self._logged[why] = now
        log.warning("%s", why)

    def answer_at_once(self, request_der: bytes) -> bytes | None:
        """The answer when it can be made without waiting (no network, no lock held by another
        thread, no database query): a cached answer still true, or a nonce request about a
        certificate whose status is known, signed now. Fit for an event loop. None means: ask
        `respond` (in a worker thread)."""
        if not self._watch.local or len(request_der) > MAX_REQUEST_BYTES:
            return None
        now = self.ca.clock.now()
        try:
            generation = self._watch.last_revocation_at_once()
            if generation is None:
                return None
            signer, checked = self._current
            if checked != generation or self._renewal_due(signer, now):
                return None  # something was revoked (the signer?) or it is old: respond()
            return self._answer(request_der, now, signer, generation, query=False)
        except Exception:
            return None  # respond() tries again and answers what it must

    # ------------------------------------------------------------ steps
    def _respond(self, request_der: bytes) -> bytes:
        now = self.ca.clock.now()
        # Read before the status: a revocation committed after this read, even one the status
        # below already shows, changes the generation and so drops what is cached now (and
        # has the signer checked again).
        generation = self._watch.last_revocation()
        signer = self._current_signer(now, generation)
        answer = self._answer(request_der, now, signer, generation, query=True)
        assert answer is not None  # with query=True there is always one
        return answer

    def _answer(
        self,
        request_der: bytes,
        now: dt.datetime,
        signer: OcspSigner,
        generation: int,
        *,
        query: bool,
    ) -> bytes | None:
        """The answer, from the caches or signed now; None when it needs the database and
        `query` is False."""
        if len(request_der) <= MAX_REQUEST_BYTES and request_der in self._by_request:
            cached = self._cached(self._by_request, request_der, generation, now)
            if cached is not None:
                return cached
        request = _parse(request_der)
        algorithm_name, name_hash, key_hash = self._check_issuer(request)
        nonce = _nonce(request)
        serial = request.serial_number
        key = (serial, algorithm_name, name_hash, key_hash)
        if nonce is None:
            cached = self._cached(self._cache, key, generation, now)
            if cached is not None:
                with self._lock:
                    self._remember(self._by_request, bytes(request_der), self._cache.get(key))
                return cached
        status = self._known_status(serial, generation)
        if status is None:
            if not query:
                return None
            with self.ca.engine.connect() as conn:
                status = self._status(conn, serial)
            if status.status is not ocsp.OCSPCertStatus.UNKNOWN:
                with self._lock:
                    if generation == self._generation:
                        self._remember(self._statuses, serial, status)
        response = self._sign(signer, request, status, now, nonce)
        with self._lock:
            self.stats.misses += 1
            cacheable = nonce is None and status.status is not ocsp.OCSPCertStatus.UNKNOWN
            if cacheable and generation == self._generation and signer is self._current[0]:
                entry = _Cached(response, now, generation)
                self._remember(self._cache, key, entry)
                self._remember(self._by_request, bytes(request_der), entry)
        return response

    def _known_status(self, serial: int, generation: int) -> _Status | None:
        """The status of `serial` as last read, when nothing was revoked since."""
        with self._lock:
            self._follow(generation)
            return self._statuses.get(serial)

    def _follow(self, generation: int) -> bool:
        """Forget every answer and status when something was revoked since they were read
        (the caller holds the lock); True when they were forgotten."""
        if generation == self._generation:
            return False
        self._cache.clear()
        self._by_request.clear()
        self._statuses.clear()
        self._generation = generation
        return True

    @staticmethod
    def _remember(cache: dict[_K, _V], key: _K, entry: _V | None) -> None:
        """Keep `entry` (the caller holds the lock); the oldest goes beyond CACHE_ENTRIES."""
        if entry is None:
            return
        if len(cache) >= CACHE_ENTRIES and key not in cache:
            del cache[next(iter(cache))]
        cache[key] = entry

    def _check_issuer(self, request: ocsp.OCSPRequest) -> tuple[str, bytes, bytes]:
        """The request's hash name and issuer hashes, when they are the issuing CA's."""
        try:
            algorithm_name = request.hash_algorithm.name
        except UnsupportedAlgorithm:
            raise _Unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED) from None
        expected = self._hashes.get(algorithm_name)
        hashes_given = (request.issuer_name_hash, request.issuer_key_hash)
        if expected is None or hashes_given != expected:
            raise _Unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)  # not a CA we answer for
        return algorithm_name, *hashes_given

    def _renewal_due(self, signer: OcspSigner, now: dt.datetime) -> bool:
        return self._passphrase is not None and signer.needs_renewal(now)

    def _current_signer(self, now: dt.datetime, generation: int) -> OcspSigner:
        """The signer to sign with: checked against the revocations of `generation` (replaced
        when revoked), renewed when close to its end."""
        signer, checked = self._current
        if checked == generation and not self._renewal_due(signer, now):
            return signer
        with self._renew_lock:
            signer, checked = self._current
            if checked != generation:
                if signer_revoked(self.ca, signer):
                    return self._replace(signer, now, generation)
                self._use(signer, generation)
            if not self._renewal_due(signer, now):
                return signer
            failed = self._renew_failed_at
            if failed is not None and now - failed < RENEW_RETRY:
                return signer
            try:
                renewed = self._ensure()
            except (LyncPkiError, OSError, SQLAlchemyError):
                self._renew_failed_at = now  # the old signer still has up to two days
                return signer
            self._renew_failed_at = None
            self._use(renewed, generation)
            return renewed

    def _ensure(self) -> OcspSigner:
        assert self._passphrase is not None
        return ensure_responder(self.ca, self._passphrase)

    def _replace(self, revoked: OcspSigner, now: dt.datetime, generation: int) -> OcspSigner:
        """A signer in place of the revoked one (the caller holds the renewal lock); never the
        revoked one: internalError answers while none can be had."""
        failed = self._replace_failed_at
        if self._passphrase is None or (failed is not None and now - failed < REPLACE_RETRY):
            raise _Unsuccessful(ocsp.OCSPResponseStatus.INTERNAL_ERROR)
        try:
            replaced = self._ensure()  # another process may have replaced it already
        except (LyncPkiError, OSError, SQLAlchemyError):
            self._replace_failed_at = now
            log.exception(
                "the OCSP responder certificate %s is revoked; no new one", revoked.serial
            )
            raise _Unsuccessful(ocsp.OCSPResponseStatus.INTERNAL_ERROR) from None
        self._replace_failed_at = None
        self._use(replaced, generation)
        return replaced

    def _use(self, signer: OcspSigner, generation: int) -> None:
        """Sign with `signer`, found not revoked at `generation`."""
        with self._lock:
            if signer is not self._current[0]:
                self._cache.clear()  # the answers carry the old signer's certificate
                self._by_request.clear()
            self._current = (signer, generation)

    def _cached(
        self, cache: dict[_K, _Cached], key: _K, generation: int, now: dt.datetime
    ) -> bytes | None:
        with self._lock:
            if self._follow(generation):  # something was revoked: forget every answer
                return None
            cached = cache.get(key)
            if cached is None:
                return None
            age = (now - cached.this_update).total_seconds()
            if cached.generation != generation or not 0 <= age < CACHE_SECONDS:
                del cache[key]
                return None
            self.stats.hits += 1
            return cached.response

    def _status(self, conn: Connection, serial: int) -> _Status:
        row = conn.execute(_STATUS, {"serial": serial_hex(serial), "ca": self._slug}).first()
        if row is None:
            return _Status(ocsp.OCSPCertStatus.UNKNOWN)
        if row.status == "valid":
            return _Status(ocsp.OCSPCertStatus.GOOD)
        if row.status != "revoked":
            return _Status(ocsp.OCSPCertStatus.UNKNOWN)
        revoked_at = _utc(row.revoked_at) if row.revoked_at is not None else None
        reason = None if row.reason in (None, Reason.UNSPECIFIED.value) else _FLAGS.get(row.reason)
        return _Status(
            ocsp.OCSPCertStatus.REVOKED,
            revoked_at or self.ca.clock.now(),  # a revocation row always exists; never None
            reason,
        )

    def _sign(
        self,
        signer: OcspSigner,
        request: ocsp.OCSPRequest,
        status: _Status,
        now: dt.datetime,
        nonce: bytes | None,
    ) -> bytes:
        if not signer.certificate.not_valid_before_utc <= now < signer.not_after:
            # its renewal failed until it ran out: an answer it signs is no answer (RFC 6960
            # 4.2.2.2), and its nextUpdate would come before its thisUpdate
            raise _Unsuccessful(
                ocsp.OCSPResponseStatus.TRY_LATER,
                f"the OCSP responder certificate {signer.serial} is not valid now (valid until "
                f"{signer.not_after:%Y-%m-%d %H:%M} UTC) and no new one could be made: every "
                "OCSP request is answered tryLater; give the service the CA passphrase and let "
                "it write ca/ocsp.crt and ca/ocsp.key (a new one is made at start)",
            )
        next_update = min(now + RESPONSE_VALIDITY, signer.not_after)
        # backdated as CRLs and certificates are (a relying server whose clock runs a little
        # behind takes it), never before the revocation it reports
        this_update = max(now - BACKDATE, status.revoked_at or now - BACKDATE)
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                request.issuer_name_hash,
                request.issuer_key_hash,
                request.serial_number,
                request.hash_algorithm,
                status.status,
                this_update,
                next_update,
                status.revoked_at,
                status.reason,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, signer.certificate)
            .certificates([signer.certificate])
        )
        if nonce is not None:
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        return builder.sign(signer.key, hashes.SHA256()).public_bytes(Encoding.DER)


def _parse(request_der: bytes) -> ocsp.OCSPRequest:
    """The request; malformedRequest for what is none, asks about several certificates, or
    names a negative serial (no certificate has one, and no answer can name it)."""
    if not request_der or len(request_der) > MAX_REQUEST_BYTES:
        raise _Unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    try:
        request = ocsp.load_der_ocsp_request(bytes(request_der))
    except (ValueError, TypeError):
        raise _Unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST) from None
    except NotImplementedError as error:  # pyca reads one request per OCSPRequest
        why = SEVERAL if "more than one" in str(error) else ""
        raise _Unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST, why) from None
    if request.serial_number < 0:
        raise _Unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    return request


def _nonce(request: ocsp.OCSPRequest) -> bytes | None:
    """The request's nonce; malformedRequest for extensions that do not parse (a nonce not in
    an OCTET STRING), one given twice (RFC 5280 4.2), or a critical one this responder does not
    understand (RFC 6960 4.4: it must not be answered as if it were not there)."""
    try:
        extensions = request.extensions
    except (ValueError, x509.DuplicateExtension):
        raise _Unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST) from None
    nonce: bytes | None = None
    for extension in extensions:
        if isinstance(extension.value, x509.OCSPNonce):
            nonce = extension.value.nonce
        elif extension.critical:
            raise _Unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    if nonce is not None and not 0 < len(nonce) <= MAX_NONCE_BYTES:
        raise _Unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    return nonce


def _utc(moment: dt.datetime) -> dt.datetime:
    """SQLite gives the stored UTC times back naive."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


__all__ = [
    "OcspResponder",
    "OcspSigner",
    "OcspStats",
    "ensure_responder",
    "issuer_hashes",
    "signer_files",
    "signer_revoked",
    "subject_public_key_bits",
    "unsuccessful",
]
