"""Who is calling: HTTP basic authentication with a CA account (the wizard's "Certification
Authority Account"), throttled after repeated failures, every failure audited.

A successful check is remembered for a minute in this process (keyed by the account and an
HMAC of the password under a per-process secret), so that scrypt runs once per client per
minute, not once per enrollment.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time

from fastapi import Request

from lyncpki.ca.accounts import Account, Accounts
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.service.errors import ServiceError

CHALLENGE = {"WWW-Authenticate": 'Basic realm="lyncpki CA", charset="UTF-8"'}
REMEMBER_SECONDS = 60.0


class Authenticator:
    def __init__(self, ca: CertificateAuthority) -> None:
        self.ca = ca
        self.accounts = Accounts(ca.engine, ca.clock)
        self._secret = secrets.token_bytes(32)
        self._known: dict[tuple[str, bytes], tuple[Account, float]] = {}
        self._lock = threading.Lock()

    def _credentials(self, request: Request) -> tuple[str, str]:
        header = request.headers.get("authorization", "")
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
        except (binascii.Error, UnicodeDecodeError):
            name, sep, password = "", "", ""
        if not sep or not name:
            raise ServiceError(
                401,
                "auth.malformed",
                "the basic credentials are malformed",
                "send base64(name:password)",
                CHALLENGE,
            )
        return name, password

    def __call__(self, request: Request) -> Account:
        name, password = self._credentials(request)
        client = request.client.host if request.client else "unknown"
        fingerprint = hmac.new(self._secret, password.encode(), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            known = self._known.get((name, fingerprint))
        if known is not None and known[1] > now:
            return known[0]
        if self.accounts.throttled(name, client):
            self.ca._audit(name, "login", client, "refused", "throttled: too many failures")
            raise ServiceError(
                429,
                "auth.throttled",
                "too many failed logins; wait a minute",
                "check the account's password",
                {"Retry-After": "60"},
            )
        account = self.accounts.verify(name, password, client)
        if account is None:
            self.ca._audit(name, "login", client, "refused", "wrong name or password")
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
            self._known[(name, fingerprint)] = (account, now + REMEMBER_SECONDS)
        return account


def require_manager(account: Account) -> None:
    if not account.may_manage:
        raise ServiceError(
            403,
            "auth.forbidden",
            f"account {account.name} ({account.role}) may not do this",
            "ask a CA manager or auditor",
        )
