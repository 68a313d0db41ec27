"""Web console sessions: a signed cookie (HMAC-SHA256 with a key kept in the home, so every
worker of `ca serve` accepts it), HttpOnly and SameSite=Strict, Secure over HTTPS, valid for
eight hours; and a CSRF token per session that every form must send back. A session names its
account's role and password version at sign-in: the console accepts it only while the account
still has both (removed, or added again with another password or role, it must sign in again).

Before sign-in, the login form is protected by a double-submit token: a random cookie and the
same value in the form.

Signing out ends the session on the server too, not only in the browser: its id is kept (in
<home>/secrets/web-ended.json, shared by the workers) until it would have expired, and a copy
of the cookie is refused.
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
from lyncpki.file_lock import exclusive

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


def equal(expected: str, given: str) -> bool:
    """Constant-time comparison of a secret with what a client sent, whatever it sent
    (hmac.compare_digest refuses str with non-ASCII characters: a 500 for a forged cookie)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def _session_id(session: Session) -> str:
    """A sign-out's record of the session: a hash of its CSRF token (random, one per session),
    not the token itself."""
    return hashlib.sha256(session.csrf.encode()).hexdigest()[:32]


class EndedSessions:
    """The sessions signed out before they expired, in a file every worker reads (re-read only
    when it changed). A file that cannot be read ends every session (sign in again); the next
    sign-in writes it anew."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = path.with_name(f".{path.name}.lock")
        self._seen: tuple[tuple[int, int] | None, dict[str, float] | None] = (None, {})

    def _load(self) -> dict[str, float] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._seen[0] == stamp:
            return self._seen[1]
        try:
            data = json.loads(self.path.read_bytes())
            ended: dict[str, float] | None = {str(k): float(v) for k, v in data.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            ended = None
        self._seen = (stamp, ended)
        return ended

    def ended(self, session: Session) -> bool:
        ended = self._load()
        return ended is None or _session_id(session) in ended

    def _write(self, add: Session | None) -> None:
        with exclusive(self._lock):
            now = time.time()
            ended = {k: v for k, v in (self._load() or {}).items() if v > now}
            if add is not None:
                ended[_session_id(add)] = add.expires
            write_atomic(self.path, json.dumps(ended).encode(), mode=0o600)

    def end(self, session: Session) -> None:
        self._write(session)

    def repair(self) -> None:
        """Write the file anew when it cannot be read (at a sign-in)."""
        if self._load() is None:
            self._write(None)


class Sessions:
    def __init__(self, key: bytes, ended: EndedSessions) -> None:
        self._key = key
        self.ended = ended

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def issue(
        self, response: Response, request: Request, account: str, role: str, version: str
    ) -> Session:
        self.ended.repair()
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
        if not payload or not equal(self._sign(payload), signature):
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
        if session.expires <= time.time() or self.ended.ended(session):
            return None
        return session

    def end(self, response: Response, session: Session) -> None:
        """Sign out: the session is refused from now on, by every worker, and the browser
        forgets its cookie."""
        self.ended.end(session)
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
    return bool(expected) and given is not None and equal(expected, given)
