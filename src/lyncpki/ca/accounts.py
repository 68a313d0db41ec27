"""CA accounts (the wizard's "Certification Authority Account"): who may request, approve,
deny and revoke. Passwords are kept as scrypt hashes, never in clear; failed logins are
recorded in the database so that rate limiting holds across service processes.

Every change of an account (added, removed) raises the accounts' generation in the same
transaction: a service process remembering checked credentials, or accepting a console session,
watches that number (AccountWatch) and checks again as soon as it moves, so that a removed
account is refused at once by every process, not when a cache expires."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from lyncpki.ca import database as db
from lyncpki.ca.db_watch import DatabaseWatch
from lyncpki.clock import SYSTEM_CLOCK, Clock
from lyncpki.errors import LyncPkiError
from lyncpki.passphrase import forms, normalized, weakness

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MAX_NAME = 128
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@\\-]{0,127}\Z")
FAILURE_WINDOW = dt.timedelta(minutes=1)
# Failed logins within the window before a 429: per account from one client (a guesser at
# the keyboard); per client whatever the account (spraying many accounts from one place); per
# account whatever the client (a guesser spread over many addresses). A per-account limit of 5
# alone let anyone lock a CA manager out from anywhere by failing on purpose; now only a
# client that fails, or a distributed guess at 50 a minute (scrypt, 12+ characters), does.
MAX_FAILURES = 5  # per (account, client)
MAX_CLIENT_FAILURES = 20  # per client, any accounts
MAX_ACCOUNT_FAILURES = 50  # per account, any clients


class Role(StrEnum):
    REQUESTER = "requester"  # enroll, see its own requests
    MANAGER = "manager"  # also approve, deny, revoke
    AUDITOR = "auditor"  # also approve, deny, revoke; read the audit log


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: Role

    @property
    def may_manage(self) -> bool:
        return self.role in (Role.MANAGER, Role.AUDITOR)


class AccountError(LyncPkiError):
    """An account operation that cannot be done."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        normalized(password.encode()), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    encode = base64.b64encode
    return (
        f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt).decode()}${encode(digest).decode()}"
    )


def check_password(password: str, stored: str) -> bool:
    """Whether `password` is the one `stored` was made from: in Unicode NFC, or as given (a
    password set before NFC was used)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        for form in forms(password.encode()):
            actual = hashlib.scrypt(
                form,
                salt=base64.b64decode(salt),
                n=int(n),
                r=int(r),
                p=int(p),
                dklen=len(expected),
            )
            if hmac.compare_digest(actual, expected):
                return True
    except (ValueError, TypeError):
        return False
    return False


def check_new_password(password: str) -> None:
    """One rule wherever the password comes from (a file, the environment, a prompt), the one
    of every passphrase (passphrase.weakness): twelve spaces from the environment were taken,
    from a file refused."""
    if found := weakness(password):
        raise AccountError(f"the password {found.problem}", found.advice)


# The login turns of this process, by client (striped: bounded, whatever the clients).
_TURNS = tuple(threading.Lock() for _ in range(64))


class Accounts:
    """The CA accounts of one CA database."""

    def __init__(self, engine: Engine, clock: Clock = SYSTEM_CLOCK) -> None:
        self.engine = engine
        self.clock = clock

    @staticmethod
    def ready_for_sign_ins() -> None:
        """Make the hash an unknown account's password is checked against now, so that the
        first sign-in under an unknown name takes as long as a wrong password (a service
        calls this when it starts)."""
        _dummy_hash()

    def add(self, name: str, role: Role, password: str) -> Account:
        if len(name) > MAX_NAME:
            raise AccountError(
                f"the account name '{name[:40]}...' is {len(name)} characters long, at most "
                f"{MAX_NAME} are taken",
                "choose a shorter name (e.g. CONTOSO\\lyncadmin or lync-fe01)",
            )
        if not _NAME.match(name):
            raise AccountError(
                f"'{name[:40]}' is not a valid account name",
                "use letters, digits and . _ @ \\ - (e.g. CONTOSO\\lyncadmin or lync-fe01)",
            )
        check_new_password(password)
        try:
            with db.writer(self.engine).begin() as conn:
                conn.execute(
                    insert(db.accounts).values(
                        name=name,
                        role=role.value,
                        password_hash=hash_password(password),
                        created_at=self.clock.now(),
                    )
                )
                changed(conn)
        except IntegrityError:
            raise AccountError(f"account {name} already exists", "remove it first") from None
        return Account(name, role)

    def remove(self, name: str) -> None:
        with db.writer(self.engine).begin() as conn:
            done = conn.execute(delete(db.accounts).where(db.accounts.c.name == name))
            if done.rowcount:
                changed(conn)
        if not done.rowcount:
            raise AccountError(f"no account {name}", "list them: lyncpki ca account list")

    def list(self) -> list[dict[str, object]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(db.accounts.c.name, db.accounts.c.role, db.accounts.c.created_at).order_by(
                    db.accounts.c.name
                )
            )
            return [dict(r._mapping) for r in rows]

    def attempt(self, name: str, password: str, client: str) -> Attempt:
        """A login: throttled, or the account and its password version when the password is
        right (a failure is recorded otherwise). The attempts of one client take turns in this
        process: checked against the failures recorded, then the password (scrypt takes a
        while), then the failure recorded, a burst of 60 guesses sent at once all passed the
        check before the first failure was written, and a right guess got in after 30 wrong
        ones. Each process takes its own turns (`ca serve --workers N`: at most N at once)."""
        with _TURNS[hash(client) % len(_TURNS)]:
            if self.throttled(name, client):
                return Attempt(throttled=True)
            checked = self._password(name, password)
            if checked is None:
                self.record_failure(name, client)
            return Attempt(throttled=False, checked=checked)

    def throttled(self, name: str, client: str) -> bool:
        """Too many recent failures: for this account from this client, from this client, or
        for this account (see MAX_FAILURES)."""
        since = self.clock.now() - FAILURE_WINDOW
        failures = db.login_failures
        recent = failures.c.at > since
        both = (failures.c.name == name) & (failures.c.client == client)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    func.count().filter(both),
                    func.count().filter(failures.c.client == client),
                    func.count().filter(failures.c.name == name),
                )
                .select_from(failures)
                .where(recent, (failures.c.name == name) | (failures.c.client == client))
            ).one()
        pair, by_client, by_name = (int(n or 0) for n in row)
        return (
            pair >= MAX_FAILURES
            or by_client >= MAX_CLIENT_FAILURES
            or by_name >= MAX_ACCOUNT_FAILURES
        )

    def _password(self, name: str, password: str) -> tuple[Account, str] | None:
        """The account and its password version when the password is right (nothing
        recorded)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(db.accounts.c.role, db.accounts.c.password_hash).where(
                    db.accounts.c.name == name
                )
            ).first()
        if row is not None and check_password(password, row.password_hash):
            return Account(name, Role(row.role)), version_of(row.password_hash)
        if row is None:  # spend the same time as a wrong password (no account enumeration)
            check_password(password, _dummy_hash())
        return None

    def record_failure(self, name: str, client: str) -> None:
        """A failed login of `name` from `client`, counted by `throttled`."""
        with db.writer(self.engine).begin() as conn:
            conn.execute(
                insert(db.login_failures).values(
                    name=name[:128], client=client[:64], at=self.clock.now()
                )
            )


@dataclass(frozen=True)
class Attempt:
    """What a login attempt came to (`Accounts.attempt`)."""

    throttled: bool
    checked: tuple[Account, str] | None = None  # the account and its password version

    @property
    def account(self) -> Account | None:
        return None if self.checked is None else self.checked[0]


@functools.cache
def _dummy_hash() -> str:
    """A hash to check an unknown account's password against: made when first needed, not
    at import (a scrypt of 65 ms in every command and worker that imports the CA)."""
    return hash_password("lyncpki-dummy-password")


_GENERATION = db.account_generation
_CURRENT_GENERATION = select(_GENERATION.c.generation).where(_GENERATION.c.id == 1)


def changed(conn: Connection) -> None:
    """Raise the accounts' generation, in the transaction of the change (`conn`): whoever
    remembers an account checks it again."""
    done = conn.execute(
        update(_GENERATION)
        .where(_GENERATION.c.id == 1)
        .values(generation=_GENERATION.c.generation + 1)
    )
    if not done.rowcount:  # a database whose row was lost: start it again, above any reader's 0
        conn.execute(insert(_GENERATION).values(id=1, generation=1))


def version_of(password_hash: str) -> str:
    """A short name of one password setting of an account (a digest of its salted hash, which
    reveals nothing of the password): it changes when the account is removed and added again."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


class AccountWatch:
    """The accounts as committed now, for every process: the generation (raised by every
    change, read by a DatabaseWatch: on SQLite a `PRAGMA data_version` unless another
    connection committed; elsewhere one short query) and, per generation, each account's role
    and password version. Thread-safe."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._watch = DatabaseWatch(engine, _CURRENT_GENERATION)
        self._lock = threading.Lock()
        self._accounts: dict[str, tuple[Role, str] | None] = {}
        self._generation = -1

    @property
    def local(self) -> bool:
        """True when a look never waits on the network (SQLite)."""
        return self._watch.local

    def generation(self) -> int:
        return self._watch.value()

    def generation_at_once(self) -> int | None:
        """The generation, or None when another thread is looking right now."""
        return self._watch.value_at_once()

    def generation_seen(self) -> int | None:
        """The generation as last read, without asking (None before the first look)."""
        return self._watch.last

    def current(self, name: str) -> tuple[Role, str] | None:
        """The role and password version (`version_of`) of account `name` now; None when
        there is no such account. One query per account and generation."""
        generation = self.generation()
        with self._lock:
            if generation != self._generation:
                self._accounts.clear()
                self._generation = generation
            if name in self._accounts:
                return self._accounts[name]
        with self.engine.connect() as conn:
            row = conn.execute(
                select(db.accounts.c.role, db.accounts.c.password_hash).where(
                    db.accounts.c.name == name
                )
            ).first()
        found = None if row is None else (Role(row.role), version_of(row.password_hash))
        with self._lock:
            if generation == self._generation:  # read after the generation: still true
                if len(self._accounts) > 10_000:
                    self._accounts.clear()
                self._accounts[name] = found
        return found

    def close(self) -> None:
        self._watch.close()
