"""Web console sessions: a signed cookie (HMAC-SHA256 with a key kept in the home, so every
worker of `ca serve` accepts it), HttpOnly and SameSite=Strict, Secure over HTTPS, valid for
eight hours; and a CSRF token per session that every form must send back. A session names its
account's role and password version at sign-in: the console accepts it only while the account
still has both (removed, or added again with another password or role, it must sign in again).

Before sign-in, the login form is protected by a double-submit token: a random cookie and the
same value in the form.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request, Response

from lyncpki.atomic import write_atomic

COOKIE = "lyncpki_session"
LOGIN_COOKIE = "lyncpki_login"
LIFETIME = 8 * 3600


@dataclass(frozen=True)
class Session:
    account: str
    role: str
    csrf: str
    expires: float
    version: str = ""  # the account's password version at sign-in (accounts.version_of)

    @property
    def manager(self) -> bool:
        return self.role in ("manager", "auditor")


def session_key(secrets_dir: Path) -> bytes:
    """The key that signs session cookies: <home>/secrets/web-session.key (0600), made once.
    Made beside and linked into place, so that workers starting together agree on one."""
    path = secrets_dir / "web-session.key"
    if not path.exists():
        secrets_dir.mkdir(parents=True, exist_ok=True)
        temp = secrets_dir / f".web-session.{secrets.token_hex(8)}.tmp"
        write_atomic(temp, secrets.token_bytes(32), mode=0o600)
        try:
            os.link(temp, path)  # fails when another worker's key is already there
        except FileExistsError:
            pass
        finally:
            temp.unlink(missing_ok=True)
    return path.read_bytes()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def issue(
        self, response: Response, request: Request, account: str, role: str, version: str
    ) -> Session:
        session = Session(account, role, secrets.token_urlsafe(24), time.time() + LIFETIME, version)
        payload = _b64(
            json.dumps(
                {
                    "a": session.account,
                    "r": session.role,
                    "c": session.csrf,
                    "x": session.expires,
                    "v": session.version,
                }
            ).encode()
        )
        response.set_cookie(
            COOKIE,
            f"{payload}.{self._sign(payload)}",
            max_age=LIFETIME,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/ui",
        )
        return session

    def read(self, request: Request) -> Session | None:
        value = request.cookies.get(COOKIE, "")
        payload, _, signature = value.partition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            session = Session(
                str(data["a"]),
                str(data["r"]),
                str(data["c"]),
                float(data["x"]),
                str(data.get("v", "")),
            )
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > time.time() else None

    @staticmethod
    def end(response: Response) -> None:
        response.delete_cookie(COOKIE, path="/ui")


def login_token(request: Request) -> str:
    """The login form's double-submit token (the one its cookie holds, or a new one)."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)


def set_login_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/ui",
    )


def same(expected: str, given: str | None) -> bool:
    return bool(expected) and given is not None and hmac.compare_digest(expected, given)
