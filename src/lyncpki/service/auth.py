"""Who is calling: HTTP basic authentication with a CA account (the wizard's "Certification
Authority Account"), throttled after repeated failures, every failure audited; or, over
HTTPS, a client certificate this CA issued (a server renewing with its current certificate
enrolls as the requester `cert:<its CN>`).

A successful check is remembered for a minute in this process (keyed by the account and an
HMAC of the password under a per-process secret), so that scrypt runs once per client per
minute, not once per enrollment — and only while the accounts' generation stays what it was
when the check was made, and until a login of that account fails or is throttled in this
process: an account removed (or added again with another password or role) by
any process raises it in the same transaction, and every worker checks again at its next
request (AccountWatch: on SQLite a `PRAGMA data_version`, on PostgreSQL one short query).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time

from cryptography import x509
from fastapi import Request

from lyncpki.ca.accounts import Account, Accounts, AccountWatch, Role
from lyncpki.ca.authority import CaError, CertificateAuthority
from lyncpki.service.audit_throttle import AuditThrottle
from lyncpki.service.errors import ServiceError
from lyncpki.service.tls import PEER_CERTIFICATE
from lyncpki.x509.identifiers import serial_hex, thumbprint
from lyncpki.x509.requests import common_name

CHALLENGE = {"WWW-Authenticate": 'Basic realm="lyncpki CA", charset="UTF-8"'}
REMEMBER_SECONDS = 60.0


class Authenticator:
    def __init__(self, ca: CertificateAuthority, watch: AccountWatch | None = None) -> None:
        self.ca = ca
        self.accounts = Accounts(ca.engine, ca.clock)
        self.accounts.ready_for_sign_ins()
        self.watch = watch or AccountWatch(ca.engine)
        self._secret = secrets.token_bytes(32)
        # (name, HMAC of the password) -> the account, until when, and the accounts' generation
        # read before it was checked
        self._known: dict[tuple[str, bytes], tuple[Account, float, int]] = {}
        self._lock = threading.Lock()
        self.refusals = AuditThrottle(ca.audit)  # throttled sign-ins: a row a minute

    def _credentials(self, request: Request) -> tuple[str, str]:
        return self._basic(request.headers.get("authorization", ""))

    @staticmethod
    def _basic(header: str) -> tuple[str, str]:
        """The account name and password of an Authorization header (HTTP basic)."""
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic" or not value:
            raise ServiceError(
                401,
                "auth.required",
                "a CA account is required",
                "send HTTP basic credentials of a CA account",
                CHALLENGE,
            )
        try:
            name, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, ValueError):  # ValueError: not base64's ASCII at all (a 500)
            name, sep, password = "", "", ""
        if not sep or not name or "\x00" in name or "\x00" in password:  # no account has a NUL
            raise ServiceError(
                401,
                "auth.malformed",
                "the basic credentials are malformed",
                "send base64(name:password)",
                CHALLENGE,
            )
        return name, password

    def _certificate_account(self, der: bytes) -> Account:
        """A TLS client certificate this CA issued, still valid: the requester it names.

        The TLS layer has verified the chain to this CA; the database says whether it is still
        valid (a revoked certificate is refused at once, without waiting for a CRL)."""
        cert = x509.load_der_x509_certificate(der)
        serial = serial_hex(cert.serial_number)
        try:
            row, stored = self.ca.certificate(serial)
        except CaError:
            row, stored = None, None
        valid = (
            row is not None
            and stored is not None
            and thumbprint(stored) == thumbprint(cert)
            and row["status"] == "valid"
            and row["ca"] == self.ca.config.slug
            and cert.not_valid_after_utc > self.ca.clock.now()
        )
        # the certificate itself, not only the name it carries: any requester may be issued a
        # certificate for a server's name, and would else see that server's requests
        name = f"cert:{common_name(cert.subject) or '-'}/{serial}"
        if not valid:
            self.ca.audit(name, "login", serial, "refused", "client certificate not valid here")
            raise ServiceError(
                401,
                "auth.certificate",
                "the client certificate is revoked, expired or not issued by this CA",
                "use a valid certificate of this CA, or a CA account",
            )
        return Account(name, Role.REQUESTER)

    def _fingerprint(self, password: str) -> bytes:
        return hmac.new(self._secret, password.encode(), hashlib.sha256).digest()

    def _recall(self, name: str, fingerprint: bytes, generation: int) -> Account | None:
        """The account remembered for these credentials, when no account changed since."""
        with self._lock:
            known = self._known.get((name, fingerprint))
            if known is None:
                return None
            account, until, checked_in = known
            if checked_in != generation or until <= time.monotonic():
                del self._known[(name, fingerprint)]
                return None
            return account

    def _forget(self, name: str) -> None:
        """Drop what this process remembers of account `name`, at a failed or throttled login:
        a right guess among wrong ones would otherwise pass from memory while the throttle
        refuses the others (a 200 among 429s tells the password)."""
        with self._lock:
            for known in [k for k in self._known if k[0] == name]:
                del self._known[known]

    def remembered(self, request: Request) -> Account | None:
        """The account of credentials checked less than a minute ago in this process, while no
        account changed, found without waiting (no scrypt, no network: SQLite's data_version):
        fit for an event loop. None means: ask `__call__` (in a worker thread), which also
        answers every failure."""
        if request.scope.get("state", {}).get(PEER_CERTIFICATE):
            return None  # client certificates are checked in the database every time
        if not self.watch.local:
            return None  # the generation is a round trip away: asked in a worker thread
        try:
            name, password = self._credentials(request)
        except ServiceError:
            return None
        try:
            generation = self.watch.generation_at_once()
        except Exception:
            return None  # __call__ asks again and answers what it must
        if generation is None:
            return None
        return self._recall(name, self._fingerprint(password), generation)

    def recall_basic(self, authorization: str) -> tuple[Account, int] | None:
        """The account of HTTP basic credentials this process checked less than a minute ago,
        and the accounts' generation they were checked in, without asking the database (no
        wait at all, on SQLite and PostgreSQL alike): for a caller that compares that
        generation with the database's before it acts on the account (the enrollment fast
        path, whose requests `Submissions` checks a batch at a time). None when they are not
        remembered, or were checked before the last generation this process has seen."""
        try:
            name, password = self._basic(authorization)
        except ServiceError:
            return None
        seen = self.watch.generation_seen()
        if seen is None:
            return None
        account = self._recall(name, self._fingerprint(password), seen)
        return None if account is None else (account, seen)

    def __call__(self, request: Request) -> Account:
        peer = request.scope.get("state", {}).get(PEER_CERTIFICATE)
        if peer and "authorization" not in request.headers:
            return self._certificate_account(peer)
        client = request.client.host if request.client else "unknown"
        try:
            name, password = self._credentials(request)
        except ServiceError as error:
            if error.code == "auth.malformed":  # none at all is the usual first step: not noted
                self.ca.audit("-", "login", client, "refused", f"{error.code}: {error.message}")
            raise
        fingerprint = self._fingerprint(password)
        # Read before the check: an account change committed after this read, even one the
        # check below already sees, moves the generation and so drops what is remembered now.
        generation = self.watch.generation()
        remembered = self._recall(name, fingerprint, generation)
        if remembered is not None:
            return remembered
        attempt = self.accounts.attempt(name, password, client)
        if attempt.throttled:
            self._forget(name)
            # a row a minute at most: a loop of throttled calls wrote one each into the log
            self.refusals.refused_here(
                "login-throttled", name, "login", client, "refused", "throttled: too many failures"
            )
            raise ServiceError(
                429,
                "auth.throttled",
                "too many failed logins; wait a minute",
                "wait a minute (Retry-After), then sign in with the account's right password: "
                "every failed one keeps the account waiting",
                {"Retry-After": "60"},
            )
        account = attempt.account
        if account is None:
            self._forget(name)
            self.ca.audit(name, "login", client, "refused", "wrong name or password")
            raise ServiceError(
                401,
                "auth.failed",
                "wrong account name or password",
                "check the CA account (lyncpki ca account list)",
                CHALLENGE,
            )
        with self._lock:
            if len(self._known) > 10_000:
                self._known.clear()
            self._known[(name, fingerprint)] = (
                account,
                time.monotonic() + REMEMBER_SECONDS,
                generation,
            )
        return account


def require_manager(ca: CertificateAuthority, account: Account, action: str, target: str) -> None:
    """Managers and auditors only: anyone else is refused (403), and that is audited."""
    if not account.may_manage:
        ca.audit(
            account.name,
            action,
            target,
            "denied",
            f"{account.role} may not {action}: CA managers and auditors only",
        )
        raise ServiceError(
            403,
            "auth.forbidden",
            f"account {account.name} ({account.role}) may not do this",
            "ask a CA manager or auditor",
        )
