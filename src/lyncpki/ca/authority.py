"""The enterprise CA: a root and an issuing CA, their database, issuance, approval, revocation
and CRL publication. Every action is written to the append-only audit table, refusals too."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import string
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from lyncpki.atomic import TEMPORARY_GLOB, write_atomic
from lyncpki.ca import database as db
from lyncpki.ca.certificates import (
    BACKDATE,
    Issuer,
    Urls,
    ca_name,
    end_entity,
    random_serial,
    self_signed_root,
    subordinate_ca,
)
from lyncpki.ca.crl import CrlSpec, Reason, add_entries, publish, sign_crl
from lyncpki.ca.driver_query import DriverQuery
from lyncpki.ca.driver_sql import DriverStatement, held_connection, write_transaction
from lyncpki.ca.group_commit import GroupCommit
from lyncpki.ca.home import (
    CaConfig,
    CaHome,
    check_ca_name,
    check_new_passphrase,
    normalize_base_url,
    slug,
)
from lyncpki.ca.policy import Approved, Refusal, RequestRefused, evaluate
from lyncpki.ca.templates import BUILTIN, Template, TemplateSet
from lyncpki.clock import SYSTEM_CLOCK, Clock
from lyncpki.errors import LyncPkiError
from lyncpki.file_lock import exclusive
from lyncpki.keyspec import KeySpec
from lyncpki.x509.identifiers import der_thumbprint, parse_serial, serial_hex
from lyncpki.x509.keys import PrivateKey, decrypt_key, encrypt_key, generate_key, spec_of
from lyncpki.x509.requests import read_request, requested_template

CREATION_LOCK = ".ca-create.lock"  # in the home: one CA made at a time
UNFINISHED_INIT = ".ca-init-unfinished.json"  # in the home: what a creation under way made
REVOCATION_RECHECK = 1.0  # seconds between two reads of the issuing CA's own status

DEFAULT_TEMPLATE = "WebServer"
ROOT_DAYS = 7300
ISSUING_DAYS = 3650
# A pending request kept for approval, built once and executed with a dict of values: building
# `.values(...)` per request (coercing and cache-keying every value) cost more than the SQL.
_INSERT_REQUEST = insert(db.requests)
# A request with the options it asked (None: not asked)
_WITH_OPTIONS = select(
    db.requests, db.request_options.c.validity_days, db.request_options.c.hash_name
).select_from(
    db.requests.outerjoin(db.request_options, db.request_options.c.request_id == db.requests.c.id)
)
# The columns of the rows every issuance writes (see _request_row, _certificate_row, _audit_row).
_REQUEST_KEYS = (
    "ca", "csr", "template", "requester", "subject", "sans", "key", "status", "submitted_at",
    "decided_at", "decided_by", "serial",
)  # fmt: skip
_CERTIFICATE_KEYS = tuple(c.key for c in db.certificates.c)
_AUDIT_KEYS = tuple(c.key for c in db.audit.c if c.key != "id")
_DECISION_KEYS = ("request_id", "status", "serial", "decided_at", "decided_by")


@dataclass(frozen=True, slots=True)
class _IssuanceSql:
    """The issuance path's statements, compiled once for the CA database's dialect."""

    insert_request: DriverStatement
    decide_request: DriverStatement
    insert_certificate: DriverStatement
    insert_audit: DriverStatement

    @classmethod
    def compile(cls, dialect: Dialect) -> _IssuanceSql:
        return cls(
            DriverStatement(
                insert(db.requests).returning(db.requests.c.id), dialect, _REQUEST_KEYS
            ),
            # Deciding a request is conditional on its still being pending: two managers
            # approving (or one approving while another denies) at once decide it once.
            DriverStatement(
                update(db.requests).where(
                    db.requests.c.id == bindparam("request_id"),
                    db.requests.c.status == "pending",
                ),
                dialect,
                _DECISION_KEYS,
            ),
            DriverStatement(insert(db.certificates), dialect, _CERTIFICATE_KEYS),
            DriverStatement(insert(db.audit), dialect, _AUDIT_KEYS),
        )


# A revocation entry in force: not the removeFromCRL entry a released hold leaves (listed on
# delta CRLs only, so that relying parties drop the hold)
_IN_FORCE = db.revocations.c.reason != Reason.REMOVE_FROM_CRL.value
_CRL_BATCH = 10_000  # revocation rows fetched at a time (a server-side cursor on PostgreSQL)


# The largest request id the database keeps: requests.id is an Integer, 32 bits on PostgreSQL.
MAX_REQUEST_ID = 2**31 - 1


def issuing_thumbprint(certificate: x509.Certificate) -> str:
    """The SHA-256 thumbprint (uppercase hex) a CA's database records of its issuing CA."""
    return certificate.fingerprint(hashes.SHA256()).hex().upper()


class CaError(LyncPkiError):
    """A CA operation that cannot be done (unknown serial, not pending, ...)."""

    @property
    def missing(self) -> bool:
        """Whether what was asked for is not there ("no request 7", "no certificate with
        serial ..."): a 404 to the API and the console, where the rest is a 409."""
        return self.message.startswith("no ")

    @property
    def status(self) -> int:
        """How the API and the console answer it: 404 (missing), 403 (the actor may not, see
        CaForbidden), else 409 (not now: already decided, revoked...)."""
        return 404 if self.missing else 409


class CaForbidden(CaError):
    """An action the actor may not take whatever the state (deciding one's own request)."""

    @property
    def status(self) -> int:
        return 403


INVENTORY_STATES = ("valid", "revoked", "expired", "all")
MAX_REASON = 500  # a denial's reason, as the requests table and the API keep it


class CrlNotPublished(CaError):
    """A CRL signed and recorded whose files could not be written; `reason` says why."""

    def __init__(self, message: str, fix: str, reason: LyncPkiError) -> None:
        super().__init__(message, fix)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Ticket:
    """A request that passed policy, ready to be signed."""

    der: bytes
    template: Template
    approved: Approved
    requester: str
    request_id: int | None = None  # set: a pending request being approved
    validity_days: int | None = None
    hash_name: str = "sha256"
    approver: str | None = None
    hash_asked: bool = False  # hash_name was asked for (kept by a request that waits)

    @property
    def subject_text(self) -> str:
        return self.approved.subject_text


@dataclass(frozen=True, slots=True)
class Signed:
    """A ticket signed, waiting to be stored."""

    ticket: Ticket
    certificate: x509.Certificate
    ca: str  # the slug of the CA that signed it
    now: dt.datetime


@dataclass(frozen=True, slots=True)
class IssueResult:
    status: str  # issued | pending
    request_id: int
    template: str
    certificate: x509.Certificate | None = None

    @property
    def serial(self) -> str | None:
        return serial_hex(self.certificate.serial_number) if self.certificate else None


@dataclass(frozen=True, slots=True)
class CrlInfo:
    ca: str
    number: int
    delta: bool
    base_number: int | None
    this_update: dt.datetime
    next_update: dt.datetime
    entries: int
    path: str
    written: bool = True  # False: a newer CRL was already at `path` (published meanwhile)
    found_number: int | None = None  # the number of the CRL at `path` when not written
    delta_crl: CrlInfo | None = None  # the delta published with a full CRL


@dataclass(frozen=True, slots=True)
class NamespaceChange:
    """The CA's namespaces before and after a change (`change_namespaces`), as config.json held
    them under the lock: what another process changed meanwhile is in both."""

    before: tuple[str, ...]
    after: tuple[str, ...]

    @property
    def added(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.after) - set(self.before)))

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.before) - set(self.after)))


def _signing_hash(template: Template, wanted: str | None) -> str:
    """The hash to sign with: the one asked for when the template allows it, else SHA-256
    (or the template's first when it does not list SHA-256)."""
    if wanted is None:
        return "sha256" if "sha256" in template.hashes else template.hashes[0]
    name = wanted.strip().lower().replace("-", "")
    if name not in template.hashes:
        raise RequestRefused(
            [
                Refusal(
                    "policy.hash",
                    f"template {template.name} does not sign with {wanted[:16]}",
                    f"use one of: {', '.join(template.hashes)}",
                )
            ]
        )
    return name


def _asked(ticket: Ticket) -> dict[str, Any]:
    """What a request asked beyond its template's defaults, kept while it waits."""
    asked: dict[str, Any] = {}
    if ticket.validity_days is not None:
        asked["validity_days"] = ticket.validity_days
    if ticket.hash_asked:
        asked["hash_name"] = ticket.hash_name
    return asked


def asked_text(request: Mapping[str, Any]) -> str:
    """What a pending request asked beyond its template, for a CA manager: `90 days, sha384`,
    or "" when nothing."""
    parts = []
    if request.get("validity_days") is not None:
        parts.append(f"{request['validity_days']} days")
    if request.get("hash_name"):
        parts.append(str(request["hash_name"]))
    return ", ".join(parts)


def _check_validity(template: Template, days: int | None) -> None:
    """A validity asked for is shorter than the template's, never longer: refused otherwise
    (it was silently cut to the template's). A request that waits for approval keeps it
    (request_options), and the approval checks it again."""
    if days is None or 1 <= days <= template.validity_days:
        return
    raise RequestRefused(
        [
            Refusal(
                "policy.validity",
                f"a validity of {days} days is not allowed by template {template.name}"
                + (
                    f" (at most {template.validity_days} days)" if days > 0 else " (at least 1 day)"
                ),
                f"ask {template.validity_days} days or fewer (--validity-days), or leave it "
                "out for the template's",
            )
        ]
    )


def _no_request(request_id: int) -> CaError:
    return CaError(
        f"no request {request_id}",
        "give the id the enrollment answered (X-Request-Id); lyncpki ca pending lists those "
        "that wait",
    )


def sans_list(joined: str | None) -> list[str]:
    """The DNS names of a request or certificate row, which keeps them joined by commas."""
    return [name for name in (joined or "").split(",") if name]


def _revocation_state(conn: Connection, key: str) -> tuple[Any, Any]:
    """A certificate's (status, ca) row, locked for the change, and its revocation's (reason,
    revoked_at) row; each None when there is none."""
    row = conn.execute(
        select(db.certificates.c.status, db.certificates.c.ca)
        .where(db.certificates.c.serial == key)
        .with_for_update()
    ).first()
    held = conn.execute(
        select(db.revocations.c.reason, db.revocations.c.revoked_at).where(
            db.revocations.c.serial == key
        )
    ).first()
    return row, held


def _replace_revocation(
    conn: Connection, key: str, ca: str, reason: Reason, revoked_at: dt.datetime, by: str
) -> None:
    """The certificate's revocation entry, replacing any it had (a hold made final or
    released, a released hold revoked again). Always a new row, with an id later than every
    other, even when the row it replaces was the last (SQLite gives a deleted last rowid
    again): the next delta CRL lists it, and the OCSP responders' generation moves.
    PostgreSQL's sequence never gives an id twice: its own default is kept."""
    later: dict[str, int] = {}
    if conn.dialect.name == "sqlite":
        last = conn.execute(select(func.max(db.revocations.c.id))).scalar()
        later["id"] = int(last or 0) + 1
    conn.execute(delete(db.revocations).where(db.revocations.c.serial == key))
    conn.execute(
        insert(db.revocations).values(
            serial=key, ca=ca, reason=reason.value, revoked_at=revoked_at, revoked_by=by, **later
        )
    )


STALE_TEMPORARY = 60.0  # seconds: a CRL is written in milliseconds; older is a dead writer's


def _sweep_stale_temporaries(folder: Path) -> None:
    """Remove the temporary files (atomic.TEMPORARY_GLOB) a publisher
    killed between writing and renaming left in the published folder, which every node may
    serve; a file younger than STALE_TEMPORARY may be a live writer's, and is left."""
    now = time.time()
    with contextlib.suppress(OSError):
        for path in folder.glob(TEMPORARY_GLOB):
            with contextlib.suppress(OSError):
                if now - path.stat().st_mtime > STALE_TEMPORARY:
                    path.unlink()


def _refuse_outside_validity(signer: Issuer, what: str, now: dt.datetime) -> None:
    """A CA certificate outside its validity signs nothing: what it signed would not validate
    (and end_entity could not fit a certificate inside it)."""
    cert = signer.certificate
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if start <= now < end:
        return
    name = cert.subject.rfc4514_string()
    state = (
        f"expired on {end:%Y-%m-%d %H:%M} UTC"
        if now >= end
        else (f"is not valid before {start:%Y-%m-%d %H:%M} UTC (check the clock)")
    )
    raise CaError(
        f"the CA certificate of {name} {state}: it cannot {what}",
        "renew the CA: make a new one (lyncpki ca init in a new home) and reissue (lyncpki deploy)"
        if now >= end
        else "set this machine's clock right",
    )


def _printable(text: str, limit: int = 64) -> str:
    """A name from a request, safe to print and log (no control characters, bounded)."""
    if text.isascii() and text.isprintable():  # the usual case, without a scan per character
        clean = text
    else:
        clean = "".join(
            c if c in string.printable and c not in "\r\n\t\x0b\x0c" else "?" for c in text
        )
    return clean[:limit] + ("..." if len(clean) > limit else "")


def _spki(certificate: x509.Certificate) -> bytes:
    return certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def load_templates(home: CaHome) -> TemplateSet:
    if not home.templates_file.exists():
        return TemplateSet(BUILTIN)
    source = str(home.templates_file)
    builtin = "or delete the file to offer the built-in templates (lyncpki ca templates)"
    try:
        data = yaml.safe_load(home.templates_file.read_text("utf-8"))
    except yaml.YAMLError as error:
        raise LyncPkiError(
            f"{source} is not valid YAML ({error})", f"correct it, {builtin}"
        ) from None
    except UnicodeDecodeError:
        raise LyncPkiError(f"{source} is not UTF-8 text", f"save it as UTF-8, {builtin}") from None
    except OSError as error:
        raise LyncPkiError(
            f"cannot read {source}: {error.strerror or error}",
            f"give this user read access to it, {builtin}",
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("templates"), list):
        raise LyncPkiError(
            f"{source} has no 'templates' list",
            f"write one ('templates:' then '- name: ...'), {builtin}",
        )
    if not data["templates"]:
        raise LyncPkiError(
            f"{source} lists no templates (the CA would issue nothing)",
            f"list at least one template, {builtin}",
        )
    templates = [Template.from_dict(t, source) for t in data["templates"]]
    names = [t.name.strip().lower() for t in templates]
    if twice := sorted({t.name for t in templates if names.count(t.name.strip().lower()) > 1}):
        raise LyncPkiError(
            f"{source} lists template {', '.join(twice)} more than once",
            "keep one entry per template name (names are case-insensitive)",
        )
    return TemplateSet(templates)


def _refuse_existing(home: CaHome, *, wait: bool = True) -> None:
    """Refuse a home that holds a CA (or a CA's keys without its config). With `wait`, keys
    without a config while another init holds the creation lock are that init's CA in the
    making: waited for, then named as the CA it is (four inits at once refused three with
    "keys but no config.json")."""
    lock = home.root / CREATION_LOCK
    if wait and not home.exists() and home.key_material() and lock.exists():
        with exclusive(lock):
            pass
    if home.exists():
        raise CaError(
            f"a CA already exists in {home.root}",
            "use it, or choose another --home (a CA is never overwritten)",
        )
    if found := home.key_material():
        names = ", ".join(path.name for path in found)
        raise CaError(
            f"{home.ca_dir} already holds a CA's keys or certificates ({names}) but no "
            "config.json: a CA whose configuration was lost, or one made by hand",
            f"restore {home.config_file.name} from a backup to use that CA, or move its files "
            "away first (a CA's keys are never overwritten)",
        )


@dataclass(frozen=True, slots=True)
class NewCa:
    """The checked settings of a CA to create (CertificateAuthority.check_new)."""

    name: str
    root_name: str
    organization: str | None
    base_url: str
    db_url: str


class _Made:
    """What a CA creation made (folders, files, a new SQLite database), removed when the
    creation fails midway, so that a failed `ca init` leaves nothing behind: no skeleton home,
    no lock file, no half-written keys."""

    def __init__(self, home: CaHome) -> None:
        self.home = home
        self.files: list[Path] = []
        self.folders: list[Path] = []
        self.engine: Engine | None = None
        self.claimed = False  # the database holds this creation's records (db.claim)
        # the database this creation claims and its issuing CA's thumbprint, journaled before
        # the claim: a creation killed after it is told from another CA by the thumbprint
        self.claiming: tuple[str, str] | None = None
        self._kept = False

    def _folder(self, path: Path) -> None:
        missing = []
        probe = path
        while not probe.exists() and probe != probe.parent:
            missing.append(probe)
            probe = probe.parent
        path.mkdir(parents=True, exist_ok=True)
        self.folders.extend(reversed(missing))
        self._journal()

    def _journal(self) -> None:
        """Write down what this creation made so far (UNFINISHED_INIT in the home), before it
        writes more: a creation killed midway (SIGKILL skips `undo`) is swept by the next
        one, which finds that list (see sweep_dead_init)."""
        if not self.home.root.is_dir() or self._kept:
            return
        lock = self.home.root / CREATION_LOCK
        listed: dict[str, Any] = {  # absolute: the sweep may run from elsewhere
            "files": [str(f.absolute()) for f in self.files if f != lock],
            "folders": [str(f.absolute()) for f in self.folders],
        }
        if self.claiming is not None:  # 0600, as config.json keeps the same URL
            listed["database"] = {"url": self.claiming[0], "issuing_ca": self.claiming[1]}
        write_atomic(self.home.root / UNFINISHED_INIT, json.dumps(listed).encode(), mode=0o600)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the home's creation lock; undo what was made when the block fails (while the
        lock is still held, so that no other creation sees half of it)."""
        with contextlib.ExitStack() as stack:
            for _attempt in range(10):
                self._folder(self.home.root)
                lock = self.home.root / CREATION_LOCK
                self.will_write(lock)
                try:
                    stack.enter_context(exclusive(lock))
                    break
                except FileNotFoundError:  # the home was removed by a failed creation: again
                    continue
            else:
                raise CaError(f"could not lock {self.home.root} to create the CA", "retry")
            try:
                yield
            except BaseException:
                self.undo()
                raise

    def dirs(self) -> None:
        for folder in (
            self.home.ca_dir,
            self.home.publish / "crl",
            self.home.publish / "aia",
            self.home.secrets,
        ):
            self._folder(folder)
        self.home.make_dirs()

    def database(self, url: str) -> None:
        """A SQLite database that does not exist yet is this creation's."""
        path = db.sqlite_path(url)
        if path is not None and not path.startswith("file:"):
            for suffix in ("", "-wal", "-shm", "-journal"):
                self.will_write(Path(path + suffix))

    def will_write(self, path: Path) -> None:
        if not path.exists() and path not in self.files:
            self.files.append(path)
            self._journal()

    def write(self, path: Path, data: bytes, *, mode: int = 0o644) -> None:
        self.will_write(path)
        write_atomic(path, data, mode=mode)

    def will_claim(self, url: str, issuing_ca: str) -> None:
        self.claiming = (url, issuing_ca)
        self._journal()

    def keep(self) -> None:
        self._kept = True
        with contextlib.suppress(OSError):
            (self.home.root / UNFINISHED_INIT).unlink(missing_ok=True)

    def unclaim(self) -> bool:
        """Drop what this creation recorded in the database (its tables): whether the
        database is as it was (nothing claimed, or its tables dropped)."""
        if not self.claimed or self.engine is None:
            return True
        try:
            db.unclaim(self.engine)
        except SQLAlchemyError:
            return False
        self.claimed = False
        return True

    def undo(self) -> None:
        if self._kept:
            return
        if self.engine is not None:
            self.unclaim()
            self.engine.dispose()
        with contextlib.suppress(OSError):  # first: the home's folder is removed when empty
            (self.home.root / UNFINISHED_INIT).unlink(missing_ok=True)
        _remove_made(self.files, self.folders)


def _remove_made(files: Sequence[Path], folders: Sequence[Path]) -> None:
    for path in reversed(files):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
    for folder in reversed(folders):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty: never what another process put there


def sweep_dead_init(home: CaHome) -> bool:
    """Remove what a `ca init` killed midway made (its list, UNFINISHED_INIT, is left when
    it could not clean up: a SIGKILL), under the creation lock, so that no live creation is
    swept; True when something was. A home whose config.json exists is a CA: never swept."""
    journal = home.root / UNFINISHED_INIT
    if not journal.is_file():
        return False
    with exclusive(home.root / CREATION_LOCK):  # a live creation finishes (or fails) first
        if not journal.is_file() or home.exists():
            return False
        try:
            listed = json.loads(journal.read_bytes())
            files = [Path(f) for f in listed["files"]]
            folders = [Path(f) for f in listed["folders"]]
        except (OSError, ValueError, KeyError, TypeError):
            return False  # not ours to read: left as it is, and refused as before
        root = Path(os.path.realpath(home.root))
        inside = [  # only this home's files, named absolutely: nothing elsewhere is touched
            f for f in files if f.is_absolute() and Path(os.path.realpath(f)).is_relative_to(root)
        ]
        if len(inside) != len(files):
            return False  # a list that names anything else is not trusted: refused as before
        claimed = listed.get("database")
        if isinstance(claimed, dict) and not _unclaim_dead(claimed):
            return False  # the database could not be looked at: left as it is, and refused
        _remove_made(inside, [f for f in folders if f.is_absolute()])
        journal.unlink(missing_ok=True)
    return True


def _unclaim_dead(claimed: dict[str, Any]) -> bool:
    """Drop the tables a dead creation claimed in its database (PostgreSQL, or a SQLite file it
    did not make), when the database records that creation's issuing CA: no process can use
    it (no home has that CA's config.json), and a new `ca init` on it was refused as "already
    holds a CA". False when the database could not be looked at."""
    url, issuing_ca = str(claimed.get("url", "")), str(claimed.get("issuing_ca", ""))
    path = db.sqlite_path(url)
    if not url or not issuing_ca or (path is not None and not Path(path).is_file()):
        return True  # nothing claimed that is still there (connecting would make a file)
    try:
        engine = db.connect(url)
    except LyncPkiError:
        return False
    try:
        if db.recorded_issuing_ca(engine) == issuing_ca:
            db.unclaim(engine)
        return True
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()


class CertificateAuthority:
    """An opened CA: signing keys in memory, database connected."""

    def __init__(
        self,
        home: CaHome,
        config: CaConfig,
        engine: Engine,
        issuer: Issuer,
        root: Issuer,
        templates: TemplateSet,
        clock: Clock,
    ) -> None:
        self.home = home
        self.config = config
        self.engine = engine
        self.writer = db.writer(engine)
        self._sql = _IssuanceSql.compile(engine.dialect)
        self.issuer = issuer
        self.root = root
        self.templates = templates
        self.clock = clock
        self._ca_keys = (_spki(issuer.certificate), _spki(root.certificate))
        self._commits: GroupCommit[Signed, int] = GroupCommit(self._store)
        self._held = held_connection(engine)  # the group commit's leader writes on it
        self._config_path = home.config_file  # looked at every submission
        self._config_seen = self._config_stamp()

    def _config_stamp(self) -> int:
        try:
            return self._config_path.stat().st_mtime_ns
        except OSError:
            return 0

    @property
    def ca_public_keys(self) -> tuple[bytes, ...]:
        """The public keys of the issuing CA and the root (a request for either is refused)."""
        return self._ca_keys

    @property
    def namespaces(self) -> tuple[str, ...]:
        """The namespaces the CA signs now: config.json read again when it changed (`ca domains`
        or `deploy` in another process), so a running `ca serve` needs no restart."""
        stamp = self._config_stamp()
        if stamp != self._config_seen:
            self._config_seen = stamp
            with contextlib.suppress(LyncPkiError):  # damaged: keep what was read before
                self.config = self.home.read_config()
        return self.config.namespaces

    # ---------------------------------------------------------------- creation and opening
    @staticmethod
    def check_new(
        home: CaHome,
        *,
        name: str,
        root_name: str | None,
        organization: str | None,
        base_url: str,
        db_url: str | None,
        passphrase: bytes | None = None,
    ) -> NewCa:
        """What a new CA would be, every input checked before anything is written: the names
        (1 to 64 printable characters, root and issuing CA distinct), the base URL, the
        database (a relative SQLite path made absolute; refused when it already holds a CA)
        and, when given, the passphrase (passphrase.weakness). What an init
        killed midway left is swept first (sweep_dead_init)."""
        if home.root.is_dir():
            sweep_dead_init(home)
        _refuse_existing(home)
        check_ca_name("--name", name)
        if root_name is None:
            root_name = name.replace("Issuing", "Root").replace("issuing", "root")
            if root_name == name:
                root_name = f"{name} Root"
            option = "the root CA's name (--name with ' Root'; give --root-name)"
        else:
            option = "--root-name"
        check_ca_name(option, root_name)
        if slug(root_name) == slug(name):
            raise CaError(
                f"the root CA '{root_name}' and the issuing CA '{name}' would have the same file "
                f"and URL name ({slug(name)}): their CRLs and certificates would overwrite each "
                "other's",
                "give them names that differ in letters or digits (e.g. --root-name "
                f"'{name} Root')",
            )
        if organization:
            check_ca_name("--org", organization)
        url = db.normalize_url(db_url) if db_url else home.default_db_url()
        try:
            db.check_new(url, home_folder=home.root)
        except LyncPkiError:
            # the home's database filled by another init making a CA here at this moment: that
            # CA is the reason to give, once it is made
            if (home.root / CREATION_LOCK).exists():
                with exclusive(home.root / CREATION_LOCK):
                    pass
            _refuse_existing(home)
            raise
        if passphrase is not None:
            check_new_passphrase(passphrase)
        return NewCa(name, root_name, organization or None, normalize_base_url(base_url), url)

    @classmethod
    def create(
        cls,
        home: CaHome,
        *,
        passphrase: bytes,
        name: str = "lyncpki Issuing CA",
        root_name: str | None = None,
        organization: str | None = None,
        root_key: KeySpec = KeySpec("rsa", 4096),
        key: KeySpec = KeySpec("rsa", 2048),
        db_url: str | None = None,
        base_url: str = "http://127.0.0.1:8080",
        namespaces: Sequence[str] = (),
        clock: Clock = SYSTEM_CLOCK,
        actor: str = "local",
    ) -> CertificateAuthority:
        """Create a two-tier PKI in `home`; refuses to overwrite an existing CA, and a database
        that holds one. Every input is checked before anything is written (check_new); a
        creation that fails midway removes what it wrote. Two processes creating one at once
        (two `ca init`, two first `deploy` runs) make one CA: the second waits for the first,
        then finds it and refuses."""
        new = cls.check_new(
            home,
            name=name,
            root_name=root_name,
            organization=organization,
            base_url=base_url,
            db_url=db_url,
            passphrase=passphrase,
        )
        made = _Made(home)
        with made.locked():  # a failure inside removes what this creation made
            if home.exists() or home.key_material():
                made.keep()  # another process's CA: nothing here is ours to remove
                _refuse_existing(home, wait=False)  # the lock is ours: nothing to wait for
            authority = cls._build(
                home, new, made, passphrase, root_key, key, namespaces, clock, actor
            )
            made.keep()
        return authority

    @classmethod
    def _build(
        cls,
        home: CaHome,
        new: NewCa,
        made: _Made,
        passphrase: bytes,
        root_key: KeySpec,
        key: KeySpec,
        namespaces: Sequence[str],
        clock: Clock,
        actor: str,
    ) -> CertificateAuthority:
        """The keys, certificates, database and files of a new CA; the config last (its
        presence means "a CA exists here")."""
        config = CaConfig(
            name=new.name,
            root_name=new.root_name,
            base_url=new.base_url,
            db_url=new.db_url,
            namespaces=tuple(namespaces),
            created=clock.now().isoformat(),
        )
        made.dirs()
        now = clock.now()
        root_private = generate_key(root_key)
        root_cert = self_signed_root(
            root_private, ca_name(new.root_name, new.organization), now, ROOT_DAYS
        )
        root_urls = Urls(config.crl_url(config.root_slug), config.aia_url(config.root_slug))
        issuing_private = generate_key(key)
        issuing_cert = subordinate_ca(
            issuing_private,
            ca_name(new.name, new.organization),
            root_cert,
            root_private,
            root_urls,
            now,
            ISSUING_DAYS,
        )
        made.database(config.db_url)
        engine = db.connect(config.db_url, create=True)
        made.engine = engine
        for which, private, cert in (
            ("root", root_private, root_cert),
            ("issuing", issuing_private, issuing_cert),
        ):
            made.write(home.key_file(which), encrypt_key(private, passphrase), mode=0o600)
            made.write(home.cert_file(which), cert.public_bytes(Encoding.PEM))
        made.write(home.aia_file(config.root_slug), root_cert.public_bytes(Encoding.DER))
        made.write(home.aia_file(config.slug), issuing_cert.public_bytes(Encoding.DER))
        templates = {"templates": [t.as_dict() for t in BUILTIN]}
        made.write(
            home.templates_file,
            (
                "# Certificate templates of this CA (policy). Edit with care; see "
                "`lyncpki ca templates`.\n" + yaml.safe_dump(templates, sort_keys=False)
            ).encode(),
        )
        authority = cls(
            home,
            config,
            engine,
            Issuer(issuing_cert, issuing_private, cls._issuing_urls(config)),
            Issuer(root_cert, root_private, root_urls),
            TemplateSet(BUILTIN),
            clock,
        )
        # the database becomes this CA's (refused if another init took it meanwhile)
        made.will_claim(config.db_url, issuing_thumbprint(issuing_cert))
        db.claim(
            engine,
            authority._audit_row(
                actor, "init", config.slug, "ok", f"root {new.root_name}, issuing {new.name}"
            ),
            issuing_thumbprint(issuing_cert),
        )
        made.claimed = True
        for ca_slug in (config.root_slug, config.slug):
            for delta in (False, True):
                for pem in (False, True):
                    made.will_write(home.crl_file(ca_slug, delta=delta, pem=pem))
        made.will_write(home.crl_file(config.slug).parent / ".publish.lock")
        made.will_write(home.config_file)
        home.write_config(config)  # its presence means "a CA exists here"
        try:  # the root's CRL, the issuing CA's and its delta
            for delta, root in ((False, True), (False, False), (True, False)):
                authority._publish_crl(actor=actor, delta=delta, root=root)
        except CrlNotPublished as error:  # nothing of this CA is kept: no CRL to publish again
            reason = error.reason
            if made.unclaim():  # the database too: the next attempt finds it empty
                kept = "(this attempt kept nothing)"
            else:
                kept = (
                    f"(the database {db.redact(config.db_url)} still holds this attempt's "
                    "tables: drop them, or the database, first)"
                )
            raise CaError(
                f"could not publish the new CA's first CRLs: {reason.message}",
                f"{reason.fix + '; then ' if reason.fix else ''}run lyncpki ca init again {kept}",
            ) from None
        return authority

    @staticmethod
    def _issuing_urls(config: CaConfig) -> Urls:
        return Urls(config.crl_url(config.slug), config.aia_url(config.slug), config.ocsp_url)

    @classmethod
    def open(
        cls,
        home: CaHome,
        passphrase: bytes | None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        db_url: str | None = None,
        actor: str = "local",
        root_key: bool = True,
    ) -> CertificateAuthority:
        """Open the CA; without a passphrase it can read but not sign (list, show, audit...).
        A passphrase that does not open the keys is refused, and audited as `actor`'s (the
        passphrase itself never is). `root_key=False` leaves the root CA's key on disk, as an
        online service should (`ca serve`): it issues and revokes with the issuing CA's key;
        what only the root signs (subordinate CAs, the root's CRL) is done by the CLI."""
        config = home.read_config()
        keys: dict[str, PrivateKey | None] = {}
        certs = {}
        key_files = {}
        for which in ("root", "issuing"):  # both read first: a refused unlock names the CA
            try:
                certs[which] = x509.load_pem_x509_certificate(home.cert_file(which).read_bytes())
                key_files[which] = home.key_file(which).read_bytes()
            except (OSError, ValueError) as error:
                raise CaError(
                    f"the {which} CA of {home.root} is damaged or missing ({error})",
                    "restore the CA folder from a backup",
                ) from None
        issuing_ca = issuing_thumbprint(certs["issuing"])
        for which in ("issuing", "root"):  # a wrong passphrase named the root's key first,
            key_data = key_files[which]  # which most commands (ca issue) do not even use
            try:
                keys[which] = (
                    None
                    if passphrase is None or (which == "root" and not root_key)
                    # a key lyncpki made and encrypted: pyca's RSA consistency check (0.2 s
                    # for the root's 4096 bits, every command) is skipped, and the key is
                    # compared with its certificate's instead
                    else decrypt_key(key_data, passphrase, what=f"the {which} CA", ours=True)
                )
            except LyncPkiError as refusal:
                cls._audit_unlock(config, db_url, clock, actor, which, issuing_ca)
                raise refusal from None
            key = keys[which]
            if key is not None and key.public_key() != certs[which].public_key():
                raise CaError(
                    f"the {which} CA's key in {home.key_file(which)} is not the key of its "
                    "certificate",
                    "restore the CA folder from a backup",
                )
        engine = db.open_existing(
            db_url or config.db_url,
            ca=config.slug,
            where=f"the CA in {home.root}",
            issuing_ca=issuing_ca,
            # with the keys (a write): an older database's issuing CA is recorded
            issuers=(certs["issuing"], certs["root"]) if passphrase is not None else (),
        )
        root_urls = Urls(config.crl_url(config.root_slug), config.aia_url(config.root_slug))
        return cls(
            home,
            config,
            engine,
            Issuer(certs["issuing"], keys["issuing"], cls._issuing_urls(config)),
            Issuer(certs["root"], keys["root"], root_urls),
            load_templates(home),
            clock,
        )

    @staticmethod
    def _audit_unlock(
        config: CaConfig, db_url: str | None, clock: Clock, actor: str, which: str, issuing_ca: str
    ) -> None:
        """Record a refused unlock (a wrong passphrase, or a damaged key file), when the
        database can be reached and is this CA's (another CA's of the same name is not written
        to); the refusal is raised whatever happens here."""
        try:  # never a database made for the occasion: only the CA's own, when it is there
            engine = db.open_existing(
                db_url or config.db_url, ca=config.slug, where="the CA", issuing_ca=issuing_ca
            )
        except LyncPkiError:
            return
        try:
            with db.writer(engine).begin() as conn:
                conn.execute(
                    insert(db.audit),
                    {
                        "at": clock.now(),
                        "actor": _printable(actor, 128),
                        "action": "unlock",
                        "target": config.slug,
                        "outcome": "refused",
                        "detail": f"the {which} CA key did not open: wrong passphrase or "
                        "damaged key file",
                    },
                )
        except SQLAlchemyError:
            pass
        finally:
            engine.dispose()

    # ---------------------------------------------------------------- audit
    def _audit_row(
        self, actor: str, action: str, target: str, outcome: str, detail: str
    ) -> dict[str, Any]:
        return {
            "at": self.clock.now(),
            "actor": _printable(actor, 128),
            "action": action,
            "target": _printable(target, 128),
            "outcome": outcome,
            "detail": detail[:4000].replace("\x00", "\\x00"),  # PostgreSQL text takes no NUL
        }

    def audit(
        self,
        actor: str,
        action: str,
        target: str,
        outcome: str,
        detail: str,
        conn: Connection | None = None,
    ) -> None:
        row = self._audit_row(actor, action, target, outcome, detail)
        if conn is not None:
            conn.execute(insert(db.audit), row)
            return
        with self.writer.begin() as own:
            own.execute(insert(db.audit), row)

    def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(db.audit).order_by(db.audit.c.id.desc()).limit(limit))
            return [dict(r._mapping) for r in rows]

    # ---------------------------------------------------------------- issuance
    def _template(self, csr: x509.CertificateSigningRequest, explicit: str | None) -> Template:
        name = explicit or requested_template(csr) or DEFAULT_TEMPLATE
        return self.templates.get(_printable(name))

    def submit(
        self,
        request: bytes,
        *,
        requester: str,
        template: str | None = None,
        source: str = "the request",
        validity_days: int | None = None,
        hash_name: str | None = None,
    ) -> IssueResult:
        """Evaluate a PKCS#10 request; issue it, or keep it pending when the template needs a
        CA manager's approval. Refusals raise RequestRefused (or RequestError for what is no
        request at all) and are audited.

        `hash_name` (sha256 by default, sha384 or sha512) must be one of the template's
        signature hashes (R-GEN-04)."""
        outcome = self.submit_many(
            [request],
            requester=requester,
            template=template,
            sources=[source],
            validity_days=validity_days,
            hash_name=hash_name,
        )[0]
        if isinstance(outcome, LyncPkiError):
            raise outcome
        return outcome

    def submit_many(
        self,
        requests: Sequence[bytes],
        *,
        requester: str,
        template: str | None = None,
        sources: Sequence[str] | None = None,
        validity_days: int | None = None,
        hash_name: str | None = None,
    ) -> list[IssueResult | LyncPkiError]:
        """Submit several requests at once (a deployment's certificates, a bulk renewal): each
        is evaluated on its own, and those that pass are signed and stored in one transaction.
        The result at each position is the IssueResult, or the refusal (not raised)."""
        names = (
            list(sources)
            if sources is not None
            else [f"request {i + 1}" for i in range(len(requests))]
        )
        outcomes: list[IssueResult | LyncPkiError | None] = [None] * len(requests)
        tickets: list[tuple[int, Ticket]] = []
        refusals: list[dict[str, Any]] = []
        namespaces = self.namespaces  # config.json looked at once for the whole batch
        for index, (request, source) in enumerate(zip(requests, names, strict=True)):
            try:
                read = read_request(request, source)
                csr = read.csr
                chosen = self._template(csr, template)
                signing_hash = _signing_hash(chosen, hash_name)
                _check_validity(chosen, validity_days)
                approved = evaluate(
                    read, chosen, namespaces=namespaces, ca_public_keys=self._ca_keys
                )
            except LyncPkiError as error:
                codes = ",".join(error.codes) if isinstance(error, RequestRefused) else "request"
                refusals.append(
                    self._audit_row(
                        requester, "submit", source, "refused", f"{codes}: {error.message}"
                    )
                )
                outcomes[index] = error
                continue
            ticket = Ticket(
                csr.public_bytes(Encoding.DER),
                chosen,
                approved,
                requester,
                validity_days=validity_days,
                hash_name=signing_hash,
                hash_asked=hash_name is not None,
            )
            if chosen.approval:
                outcomes[index] = self._hold(ticket)
            else:
                tickets.append((index, ticket))
        if refusals:
            with self.writer.begin() as conn:
                conn.execute(insert(db.audit), refusals)
        if tickets:
            try:
                issued: list[IssueResult | LyncPkiError] = list(
                    self._issue([t for _, t in tickets])
                )
            except CaError as error:  # the CA cannot sign (expired, revoked): each refused
                with self.writer.begin() as conn:
                    conn.execute(
                        insert(db.audit),
                        [
                            self._audit_row(
                                requester, "submit", names[index], "refused", error.message
                            )
                            for index, _ in tickets
                        ],
                    )
                issued = [error] * len(tickets)
            for (index, _), result in zip(tickets, issued, strict=True):
                outcomes[index] = result
        return [o for o in outcomes if o is not None]

    def _hold(self, ticket: Ticket) -> IssueResult:
        """Keep a request pending for a CA manager's approval."""
        with self.writer.begin() as conn:
            result = conn.execute(
                _INSERT_REQUEST, self._request_row(ticket, None, self.clock.now(), "pending")
            )
            key = result.inserted_primary_key
            assert key is not None
            request_id = int(key[0])
            asked = _asked(ticket)
            if asked:
                conn.execute(insert(db.request_options).values(request_id=request_id, **asked))
            self.audit(
                ticket.requester,
                "submit",
                f"request {request_id}",
                "ok",
                f"pending approval (template {ticket.template.name}"
                + "".join(f", {k.replace('_', ' ')} {v}" for k, v in asked.items())
                + ")",
                conn,
            )
        return IssueResult("pending", request_id, ticket.template.name)

    def _request_row(
        self, ticket: Ticket, cert: x509.Certificate | None, now: dt.datetime, status: str
    ) -> dict[str, Any]:
        return {
            "ca": self.config.slug,
            "csr": ticket.der,
            "template": ticket.template.name,
            "requester": _printable(ticket.requester, 128),
            "subject": ticket.subject_text,
            "sans": ",".join(ticket.approved.dns_names),
            "key": ticket.approved.key.name,
            "status": status,
            "submitted_at": now,
            "decided_at": now if cert else None,
            "decided_by": (ticket.approver or "policy") if cert else None,
            "serial": serial_hex(cert.serial_number) if cert else None,
        }

    def _sign(self, ticket: Ticket, now: dt.datetime) -> tuple[x509.Certificate, str]:
        """Sign one ticket: a subordinate CA by the root (the issuing CA is path-length 0, as
        an offline AD CS root signs its subordinates; it is revoked on the root's CRL)."""
        template = ticket.template
        signer, ca = (
            (self.root, self.config.root_slug)
            if template.is_ca
            else (self.issuer, self.config.slug)
        )
        _refuse_outside_validity(signer, "sign certificates", now)
        if not template.is_ca and self.issuing_ca_is_revoked:
            raise self.issuing_ca_revoked()
        if signer.key is None and self.issuer.key is not None:  # a service without the root
            pending = ticket.request_id
            raise CaError(
                f"a {template.name} certificate is signed by the root CA, whose key this service "
                "does not hold" + (f" (request {pending} stays pending)" if pending else ""),
                (
                    f"approve it on the CA's machine: lyncpki ca approve {pending}"
                    if pending
                    else f"issue it on the CA's machine: lyncpki ca issue FILE --template "
                    f"{template.name}"
                )
                + " (or run ca serve --root-key, which holds the root key online)",
            )
        cert = end_entity(
            signer,
            subject=ticket.approved.subject,
            dns_names=ticket.approved.dns_names,
            public_key=ticket.approved.public_key,
            template=template,
            serial=random_serial(),
            now=now,
            validity_days=ticket.validity_days,
            hash_name=ticket.hash_name,
        )
        return cert, ca

    def _issue(self, tickets: Sequence[Ticket]) -> list[IssueResult]:
        """Sign every ticket (in the caller's thread) and store them through the group
        commit: with the tickets of concurrent callers, in one transaction. A serial
        collision, never seen in practice, signs again with new serials."""
        for _attempt in range(5):
            now = self.clock.now()
            signed = [Signed(ticket, *self._sign(ticket, now), now) for ticket in tickets]
            try:
                ids = self._commits.run(signed)
            except IntegrityError:
                continue
            return [
                IssueResult("issued", rid, s.ticket.template.name, s.certificate)
                for s, rid in zip(signed, ids, strict=True)
            ]
        raise CaError(
            "could not store the certificates (repeated serial conflicts)", "check the database"
        )

    def _store(self, signed: list[Signed]) -> list[int]:
        """One transaction: request rows (or their decision), certificates, audit rows; the
        request id of each certificate, in order. Run on the driver's cursor (see driver_sql):
        the same rows as Connection.execute would write, at a fraction of its cost."""
        sql = self._sql
        with write_transaction(self.engine, self._held) as cursor:
            new_ids = iter(
                sql.insert_request.returning_ids(
                    cursor,
                    [
                        self._request_row(s.ticket, s.certificate, s.now, "issued")
                        for s in signed
                        if s.ticket.request_id is None
                    ],
                )
            )
            ids = [
                s.ticket.request_id if s.ticket.request_id is not None else next(new_ids)
                for s in signed
            ]
            for s in signed:
                if s.ticket.request_id is None:
                    continue
                decision = {
                    "request_id": s.ticket.request_id,
                    "status": "issued",
                    "serial": serial_hex(s.certificate.serial_number),
                    "decided_at": s.now,
                    "decided_by": s.ticket.approver or "policy",
                }
                if sql.decide_request.execute(cursor, decision) != 1:
                    raise CaError(
                        f"request {s.ticket.request_id} was decided meanwhile",
                        "see its status: lyncpki ca pending / GET /api/v1/requests/ID",
                    )
            sql.insert_certificate.execute_many(
                cursor,
                [
                    self._certificate_row(s.ticket, s.certificate, s.ca, rid, s.now)
                    for s, rid in zip(signed, ids, strict=True)
                ],
            )
            sql.insert_audit.execute_many(
                cursor,
                [
                    self._audit_row(
                        s.ticket.approver or s.ticket.requester,
                        "issue",
                        serial_hex(s.certificate.serial_number),
                        "ok",
                        f"request {rid}, template {s.ticket.template.name}, "
                        f"{s.ticket.approved.common_name or '-'}",
                    )
                    for s, rid in zip(signed, ids, strict=True)
                ],
            )
        return ids

    def _certificate_row(
        self, ticket: Ticket, cert: x509.Certificate, ca: str, request_id: int, now: dt.datetime
    ) -> dict[str, Any]:
        der = cert.public_bytes(Encoding.DER)
        return {
            "serial": serial_hex(cert.serial_number),
            "ca": ca,
            "subject": ticket.subject_text,
            "sans": ",".join(ticket.approved.dns_names),
            "template": ticket.template.name,
            "requester": _printable(ticket.requester, 128),
            "request_id": request_id,
            "not_before": cert.not_valid_before_utc,
            "not_after": cert.not_valid_after_utc,
            "thumbprint": der_thumbprint(der),
            "key": ticket.approved.key.name,
            "issued_at": now,
            "status": "valid",
            "der": der,
        }

    def _request(self, request_id: int) -> dict[str, Any]:
        # the requests table's ids are 32-bit on PostgreSQL (Integer): an id above was an
        # "integer out of range" from the database, unaudited, where it is simply no request
        if not 0 < request_id <= MAX_REQUEST_ID:
            raise _no_request(request_id)
        with self.engine.connect() as conn:
            row = conn.execute(
                _WITH_OPTIONS.where(
                    db.requests.c.id == request_id, db.requests.c.ca == self.config.slug
                )
            ).first()
        if row is None:
            raise _no_request(request_id)
        return dict(row._mapping)

    def _pending_request(self, request_id: int, actor: str, action: str) -> dict[str, Any]:
        """The pending request to approve or deny; a refusal (no such request, already
        decided) is audited and raised."""
        try:
            request = self._request(request_id)
        except CaError as error:
            self.audit(actor, action, f"request {request_id}", "refused", error.message)
            raise
        if request["status"] != "pending":
            verb = "approved" if action == "approve" else "denied"
            refusal = CaError(
                f"request {request_id} is {request['status']}, not pending",
                f"only pending requests can be {verb} (lyncpki ca pending lists them)",
            )
            self.audit(actor, action, f"request {request_id}", "refused", refusal.message)
            raise refusal
        return request

    def _decidable(
        self, request_id: int, actor: str, action: str, forbid_self: bool
    ) -> dict[str, Any]:
        """A pending request `actor` may approve or deny (`action`); with `forbid_self` (the
        API, the console), never one's own: refused and audited."""
        request = self._pending_request(request_id, actor, action)
        if forbid_self and request["requester"] == actor:
            self.audit(actor, action, f"request {request_id}", "denied", "own request")
            raise CaForbidden(
                f"{actor} cannot {action} its own request {request_id}",
                "another CA manager must decide it",
            )
        return request

    def approve(self, request_id: int, *, actor: str, forbid_self: bool = False) -> IssueResult:
        request = self._decidable(request_id, actor, "approve", forbid_self)
        read = read_request(request["csr"], f"request {request_id}")
        try:
            template = self.templates.get(request["template"])
        except LyncPkiError as error:  # removed from templates.yaml since the request came
            refusal = CaError(
                f"request {request_id} asks for template {request['template']}, which this CA "
                "no longer offers",
                f"offer it again in {self.home.templates_file} to approve the request, or deny "
                f"it (lyncpki ca deny {request_id})",
            )
            self.audit(actor, "approve", f"request {request_id}", "refused", refusal.message)
            raise refusal from error
        try:
            approved = evaluate(
                read, template, namespaces=self.namespaces, ca_public_keys=self._ca_keys
            )
        except RequestRefused as error:
            self.audit(actor, "approve", f"request {request_id}", "refused", error.message)
            raise
        days, wanted = request["validity_days"], request["hash_name"]
        try:  # what the request asked, against the template as it is now
            _check_validity(template, days)
            signing_hash = _signing_hash(template, wanted)
        except RequestRefused as error:
            refusal = CaError(
                f"request {request_id} asked for what template {template.name} no longer "
                f"allows: {error.message}",
                f"deny it (lyncpki ca deny {request_id}) and submit the request again, or "
                f"allow it again in {self.home.templates_file}",
            )
            self.audit(actor, "approve", f"request {request_id}", "refused", refusal.message)
            raise refusal from None
        ticket = Ticket(
            request["csr"],
            template,
            approved,
            request["requester"],
            request_id,
            validity_days=days,
            hash_name=signing_hash,
            approver=actor,
        )
        try:
            return self._issue([ticket])[0]
        except CaError as error:
            self.audit(actor, "approve", f"request {request_id}", "refused", error.message)
            raise

    def deny(
        self, request_id: int, *, actor: str, reason: str = "", forbid_self: bool = False
    ) -> None:
        """Deny a pending request; `forbid_self` (the API, the console): never one's own, as
        approval is never one's own — a manager who cannot approve their request cannot
        decide it at all."""
        if len(reason) > MAX_REASON:  # kept whole or refused, never cut without a word
            raise CaError(
                f"the reason is {len(reason)} characters long, at most {MAX_REASON} are kept",
                "shorten it (the request's record keeps the reason whole)",
            )
        if "\x00" in reason:  # PostgreSQL keeps no NUL in text: it was an internal error
            raise CaError("the reason holds a NUL character", "give the reason as plain text")
        self._decidable(request_id, actor, "deny", forbid_self)
        with self.writer.begin() as conn:
            done = conn.execute(
                update(db.requests)
                .where(db.requests.c.id == request_id, db.requests.c.status == "pending")
                .values(
                    status="denied",
                    decided_at=self.clock.now(),
                    decided_by=_printable(actor, 128),
                    reason=reason,
                )
            )
            if done.rowcount == 1:
                self.audit(actor, "deny", f"request {request_id}", "ok", reason, conn)
        if done.rowcount != 1:
            refusal = CaError(
                f"request {request_id} was decided meanwhile", "see its status: lyncpki ca pending"
            )
            self.audit(actor, "deny", f"request {request_id}", "refused", refusal.message)
            raise refusal

    def request_status(self, request_id: int) -> dict[str, Any]:
        request = self._request(request_id)
        request.pop("csr")
        return request

    def request_csr(self, request_id: int) -> bytes:
        """The PKCS#10 request (DER) of a request, for a CA manager to review."""
        csr: bytes = self._request(request_id)["csr"]
        return csr

    def pending(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                _WITH_OPTIONS.where(
                    db.requests.c.ca == self.config.slug, db.requests.c.status == "pending"
                ).order_by(db.requests.c.id)
            )
            return [{k: v for k, v in r._mapping.items() if k != "csr"} for r in rows]

    # ---------------------------------------------------------------- lookup
    def certificates(self, status: str | None = None) -> list[dict[str, Any]]:
        """The CA's certificates (without their DER), oldest first, with when and why each
        revoked one was revoked (None for the others)."""
        revocations = db.revocations
        query = (
            select(
                *[c for c in db.certificates.c if c.name != "der"],
                revocations.c.revoked_at,
                revocations.c.reason.label("revocation_reason"),
            )
            .select_from(
                db.certificates.outerjoin(
                    revocations,
                    (revocations.c.serial == db.certificates.c.serial) & _IN_FORCE,
                )
            )
            .where(db.certificates.c.ca.in_((self.config.slug, self.config.root_slug)))
        )
        if status:
            query = query.where(db.certificates.c.status == status)
        with self.engine.connect() as conn:
            return [
                dict(r._mapping) for r in conn.execute(query.order_by(db.certificates.c.issued_at))
            ]

    def inventory(self, state: str = "all") -> list[dict[str, Any]]:
        """The CA's certificates in one of INVENTORY_STATES, each row's status as a reader
        means it: a valid certificate past its end is "expired" (`ca list`, the console)."""
        if state not in INVENTORY_STATES:
            raise CaError(f"unknown status '{state[:40]}'", f"use {', '.join(INVENTORY_STATES)}")
        now = self.clock.now()
        rows = self.certificates("revoked" if state == "revoked" else None)
        for row in rows:
            not_after = row["not_after"]
            if not_after.tzinfo is None:  # SQLite gives naive datetimes (UTC)
                row["not_after"] = not_after = not_after.replace(tzinfo=dt.UTC)
            if row["status"] == "valid" and not_after < now:
                row["status"] = "expired"
        return rows if state in ("all", "revoked") else [r for r in rows if r["status"] == state]

    def certificate(self, serial: str) -> tuple[dict[str, Any], x509.Certificate]:
        key = serial_hex(parse_serial(serial))
        with self.engine.connect() as conn:
            row = conn.execute(
                select(db.certificates).where(
                    db.certificates.c.serial == key,
                    db.certificates.c.ca.in_((self.config.slug, self.config.root_slug)),
                )
            ).first()
            revocation = conn.execute(
                select(db.revocations).where(
                    db.revocations.c.serial == key,
                    _IN_FORCE,
                )
            ).first()
        own = {  # the CA's own certificates, in the inventory only once the root revokes one
            serial_hex(c.serial_number): c for c in (self.issuer.certificate, self.root.certificate)
        }
        if row is not None:
            data = dict(row._mapping)
        elif key in own:
            data = self._ca_certificate_row(own[key], signer=self.config.root_slug)
        else:
            raise CaError(f"no certificate with serial {key}", "list them: lyncpki ca list")
        cert = x509.load_der_x509_certificate(data.pop("der"))
        if revocation is not None:
            data["revoked_at"] = revocation.revoked_at
            data["revocation_reason"] = revocation.reason
        return data, cert

    def revocation(self, serial: int) -> tuple[dt.datetime, str] | None:
        """When and why the certificate with `serial`, issued by this CA (root or issuing), was
        revoked; None when it was not (or is not this CA's)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(db.revocations.c.revoked_at, db.revocations.c.reason).where(
                    db.revocations.c.serial == serial_hex(serial),
                    db.revocations.c.ca.in_((self.config.slug, self.config.root_slug)),
                    _IN_FORCE,
                )
            ).first()
        return None if row is None else (row.revoked_at, row.reason)

    def change_namespaces(
        self, *, add: Sequence[str] = (), remove: Sequence[str] = (), actor: str
    ) -> NamespaceChange:
        """Add and remove DNS namespaces the CA may sign (a SIP domain added to the deployment
        needs its own); the change is audited with the set it was made to. The change is applied
        to the set as config.json holds it under the lock, not as this process read it: two
        `ca domains --add` at once each kept its own addition only, and the other was lost.
        Refused: removing one the CA does not have, changing a CA that signs any name, and an
        empty set (it would mean "any name", which only `ca init --any-domain` chooses)."""
        added, dropped = tuple(dict.fromkeys(add)), set(remove)
        refusal: CaError | None = None
        with exclusive(self.home.root / CREATION_LOCK):  # one change of config.json at once
            config = self.home.read_config()
            before = config.namespaces
            wanted = tuple(sorted({d for d in (*before, *added) if d not in dropped}))
            unknown = sorted(dropped - set(before))
            if not before and (added or dropped):
                refusal = CaError(
                    "this CA signs any name (made with --any-domain): it has no namespaces to "
                    "change",
                    "make a CA with --domain if it should be limited",
                )
            elif unknown:
                refusal = CaError(
                    f"{', '.join(unknown)}: not a namespace of this CA ({', '.join(before)})",
                    "give one of the namespaces listed by: lyncpki ca domains",
                )
            elif not wanted and before:
                refusal = CaError(
                    "a CA needs at least one namespace (none would let it sign any name)",
                    "keep one domain, or make a CA with lyncpki ca init --any-domain",
                )
            elif wanted != tuple(sorted(before)):
                config = replace(config, namespaces=wanted)
                self.home.write_config(config)
            self.config = config
        if refusal is not None:
            self.audit(actor, "namespaces", self.config.slug, "refused", refusal.message)
            raise refusal
        change = NamespaceChange(before, self.config.namespaces)
        if change.added or change.removed:
            self.audit(
                actor, "namespaces", self.config.slug, "ok",
                f"{', '.join(before) or '(none)'} -> {', '.join(change.after)}",
            )  # fmt: skip
        return change

    def chain(self) -> list[x509.Certificate]:
        """Issuing CA then root: what a relying server must hold."""
        return [self.issuer.certificate, self.root.certificate]

    def chain_for(self, certificate: x509.Certificate) -> list[x509.Certificate]:
        """The CA certificates above `certificate`, from its issuer to the root: the root
        alone for what the root signs (a subordinate CA), else the issuing CA and the root."""
        if self.signed_by_root(certificate):
            return [self.root.certificate]
        return self.chain()

    def signed_by_root(self, certificate: x509.Certificate) -> bool:
        """Whether the root signed `certificate` (its subordinate CAs), not the issuing CA."""
        if certificate.issuer != self.root.certificate.subject:
            return False
        try:
            aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
        except x509.ExtensionNotFound:
            return True
        return aki.value.key_identifier == self.root.aki.key_identifier

    # ---------------------------------------------------------------- revocation and CRLs
    def _publish_if_newest(
        self, crl: x509.CertificateRevocationList, der_path: Path, pem_path: Path
    ) -> int | None:
        """Publish after the commit, under a file lock, unless a newer CRL is already there
        (another process published a later number in the meantime): None when written, else
        the number of the CRL found there."""
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        folder = der_path.parent
        try:  # a folder removed by hand is made again: publishing is what puts CRLs there
            folder.mkdir(parents=True, exist_ok=True)
            with exclusive(folder / ".publish.lock"):
                found = _published_number(der_path)
                if found >= number:
                    return found
                publish(crl, str(der_path), str(pem_path))
        except OSError as error:  # the folder or its lock (write errors come as LyncPkiError)
            raise LyncPkiError(
                f"cannot publish into {folder}: {error.strerror or error}",
                f"make {folder} a folder this user can write",
            ) from None
        return None

    def revoke(
        self,
        serial: str,
        *,
        reason: Reason | str = Reason.UNSPECIFIED,
        actor: str,
        keep_own: bool = False,
    ) -> dict[str, Any]:
        """Revoke a certificate of this CA (or a subordinate CA of its root). `reason` may be
        given as typed (keyCompromise, superseded...); a serial or reason that cannot be read
        is refused and audited like every other refusal. With `keep_own` (the API, the
        console), the issuing CA's own certificate is refused: one call from afar would stop
        every issuance; `lyncpki ca revoke` on the CA's machine still can."""
        try:
            key = serial_hex(parse_serial(serial))
            reason = reason if isinstance(reason, Reason) else Reason.parse(reason)
        except LyncPkiError as error:
            self.audit(actor, "revoke", _printable(serial, 128), "refused", error.message)
            raise
        if keep_own and key == serial_hex(self.issuer.certificate.serial_number):
            raise self._refused(
                actor,
                "revoke",
                key,
                CaForbidden(
                    f"{key} is this issuing CA's own certificate: revoked, it would stop every "
                    "issuance, and it is not revoked from afar",
                    f"on the CA's machine, if that is what you mean: lyncpki ca revoke {key} "
                    "--reason ...",
                ),
            )
        if key == serial_hex(self.root.certificate.serial_number):
            raise self._refused(
                actor,
                "revoke",
                key,
                CaError(
                    f"{key} is the root CA's own certificate: a self-signed root is listed on "
                    "no CRL (nothing above it signs one), so it cannot be revoked",
                    "to stop trusting it, remove it from every machine's trusted roots and "
                    "make a new CA (lyncpki ca init in a new home, then lyncpki deploy)",
                ),
            )
        refusal: CaError | None = None
        signer_ca = self.config.slug
        own = key == serial_hex(self.issuer.certificate.serial_number)  # the issuing CA itself
        with self.writer.begin() as conn:
            db.serialize_revocations(conn)  # ids commit in their order (the watch, deltas)
            now = self.clock.now()  # once the lock is ours: dated in the order they commit
            if own:
                self._record_issuing_ca(conn)  # the root revokes it like any subordinate CA
            row, held = _revocation_state(conn, key)
            if row is None or row.ca not in (self.config.slug, self.config.root_slug):
                refusal = CaError(f"no certificate with serial {key}", "list them: lyncpki ca list")
            elif row.status == "revoked" and (
                held is None
                or held.reason != Reason.CERTIFICATE_HOLD.value
                or reason is Reason.CERTIFICATE_HOLD
            ):
                was = f" ({held.reason})" if held is not None else ""
                refusal = CaError(
                    f"certificate {key} is already revoked{was}",
                    "nothing to do: a revocation is final (only a certificate on hold can be "
                    "revoked again with another reason, or released: lyncpki ca unrevoke)",
                )
            else:
                signer_ca = row.ca
                # a hold made final keeps the date it was first held; a released hold's
                # removeFromCRL entry gives way to the new revocation
                since = held.revoked_at if row.status == "revoked" and held else now
                conn.execute(
                    update(db.certificates)
                    .where(db.certificates.c.serial == key)
                    .values(status="revoked")
                )
                _replace_revocation(conn, key, row.ca, reason, since, _printable(actor, 128))
                detail = (
                    reason.value
                    if row.status != "revoked"
                    else (f"{Reason.CERTIFICATE_HOLD.value} -> {reason.value}")
                )
                self.audit(actor, "revoke", key, "ok", detail, conn)
                now = since
        if refusal is not None:  # audited after the transaction: it holds the write lock
            self.audit(actor, "revoke", key, "refused", refusal.message)
            raise refusal
        if own:
            self.__dict__["_issuing_revoked_at"] = (True, time.monotonic())
        return {
            "serial": key,
            "reason": reason.value,
            "revoked_at": now,
            "ca": signer_ca,
            "issuing_ca": own,
        }

    def _refused(self, actor: str, action: str, target: str, refusal: CaError) -> CaError:
        """`refusal`, audited as `actor`'s refused `action` on `target`: to raise."""
        self.audit(actor, action, target, "refused", refusal.message)
        return refusal

    def release(self, serial: str, *, actor: str) -> dict[str, Any]:
        """Release a certificate on hold (AD CS: Unrevoke Certificate): valid again, gone from
        the next full CRL, listed as removeFromCRL by the next delta CRL (RFC 5280, 5.3.1);
        OCSP says good at once. Any other revocation is final."""
        try:
            key = serial_hex(parse_serial(serial))
        except LyncPkiError as error:
            self.audit(actor, "unrevoke", _printable(serial, 128), "refused", error.message)
            raise
        refusal: CaError | None = None
        with self.writer.begin() as conn:
            db.serialize_revocations(conn)
            now = self.clock.now()  # once the lock is ours (see revoke)
            row, held = _revocation_state(conn, key)
            if row is None or row.ca not in (self.config.slug, self.config.root_slug):
                refusal = CaError(f"no certificate with serial {key}", "list them: lyncpki ca list")
            elif (
                row.status != "revoked"
                or held is None
                or held.reason != Reason.CERTIFICATE_HOLD.value
            ):
                why = (
                    "is not revoked"
                    if row.status != "revoked"
                    else (
                        f"is revoked ({held.reason if held else '?'}), and only a hold is released"
                    )
                )
                refusal = CaError(
                    f"certificate {key} {why}",
                    "nothing to release: lyncpki ca show SERIAL says its status",
                )
            else:
                _replace_revocation(
                    conn, key, row.ca, Reason.REMOVE_FROM_CRL, now, _printable(actor, 128)
                )
                conn.execute(
                    update(db.certificates)
                    .where(db.certificates.c.serial == key)
                    .values(status="valid")
                )
                self.audit(actor, "unrevoke", key, "ok", "certificateHold released", conn)
        if refusal is not None:
            self.audit(actor, "unrevoke", key, "refused", refusal.message)
            raise refusal
        assert row is not None
        if key == serial_hex(self.issuer.certificate.serial_number):  # signs again at once
            self.__dict__["_issuing_revoked_at"] = (False, time.monotonic())
        return {"serial": key, "released_at": now, "ca": row.ca}

    def publish_after(self, done: Mapping[str, Any], *, actor: str) -> str | None:
        """After a revocation or a release from afar (`done`, what revoke or release returned):
        publish the CRL of the CA that signed the certificate, so that relying parties that
        fetch CRLs learn of it now rather than at the next scheduled `ca crl` (a full CRL of
        the issuing CA with its delta; the root's CRL for a subordinate CA). None once
        published; what remains to be done when this process does not hold the root's key.
        A failure to publish is raised (the revocation itself stands)."""
        by_root = done["ca"] == self.config.root_slug
        if by_root and self.root.key is None:
            return (
                "the root CA's CRL says so once published on the CA's machine: "
                "lyncpki ca crl --root"
            )
        self.publish_crl(actor=actor, root=by_root)
        return None

    def issuing_ca_revoked(self) -> CaError:
        """Why this CA cannot sign, its own certificate revoked; how to go on depends on the
        reason (a hold is released, any other revocation is final)."""
        key = serial_hex(self.issuer.certificate.serial_number)
        with self.engine.connect() as conn:
            reason = conn.execute(
                select(db.revocations.c.reason).where(db.revocations.c.serial == key)
            ).scalar()
        message = (
            f"this issuing CA's own certificate (serial {key}) is revoked"
            + (f" ({reason})" if reason else "")
            + ": nothing it signs would validate"
        )
        if reason == Reason.CERTIFICATE_HOLD.value:
            return CaError(
                message, f"release the hold on the CA's machine: lyncpki ca unrevoke {key}"
            )
        return CaError(
            message, "make a new CA (lyncpki ca init in a new home) and reissue (lyncpki deploy)"
        )

    @property
    def issuing_ca_is_revoked(self) -> bool:
        """Whether the root revoked this issuing CA: read again at most every
        REVOCATION_RECHECK seconds (a `ca serve` learns of a CLI's revocation within that
        time; issuance pays one query a second, not one per certificate)."""
        known = self.__dict__.get("_issuing_revoked_at")
        now = time.monotonic()
        if known is not None and now - known[1] < REVOCATION_RECHECK:
            return bool(known[0])
        with self.engine.connect() as conn:
            status = conn.execute(
                select(db.certificates.c.status).where(
                    db.certificates.c.serial == serial_hex(self.issuer.certificate.serial_number)
                )
            ).scalar()
        revoked = status == "revoked"
        self.__dict__["_issuing_revoked_at"] = (revoked, now)
        return revoked

    def _record_issuing_ca(self, conn: Connection) -> None:
        """The issuing CA's own certificate as a certificate of the root (`ca init` signs it
        outside the inventory), so that the root can revoke it and list it on its CRL; once."""
        row = self._ca_certificate_row(self.issuer.certificate, signer=self.config.root_slug)
        found = conn.execute(
            select(db.certificates.c.serial).where(db.certificates.c.serial == row["serial"])
        ).first()
        if found is None:
            conn.execute(insert(db.certificates).values(**row))

    @staticmethod
    def _ca_certificate_row(cert: x509.Certificate, *, signer: str) -> dict[str, Any]:
        """The inventory row of one of the CA's own certificates, which `ca init` signs outside
        the inventory: the issuing CA's (as the root's SubCA), or the root's."""
        spec = spec_of(cert.public_key())
        der = cert.public_bytes(Encoding.DER)
        return {
            "serial": serial_hex(cert.serial_number),
            "ca": signer,
            "subject": _printable(cert.subject.rfc4514_string(), 1024),
            "sans": "",
            "template": "SubCA" if cert.issuer != cert.subject else "root CA (self-signed)",
            "requester": "ca init",
            "request_id": None,
            "not_before": cert.not_valid_before_utc,
            "not_after": cert.not_valid_after_utc,
            "thumbprint": der_thumbprint(der),
            "key": spec.name if spec else "unknown",
            "issued_at": cert.not_valid_before_utc,
            "status": "valid",
            "der": der,
        }

    def _revoked(
        self, conn: Connection, ca: str, after_id: int = 0, *, delta: bool = False
    ) -> tuple[list[x509.RevokedCertificate], int]:
        """The CRL entries of `ca` revoked after `after_id`, built as the rows stream in (no
        intermediate list), and the last revocation id they cover.

        A full CRL covers the released holds too (it lists them by leaving them out): its last
        id is the last of every revocation row, so that a delta based on it lists only what
        changed after it (RFC 5280 5.2.4). Counted from the last listed entry, a hold released
        after every other revocation was listed as removeFromCRL by every later delta, each
        based on a full CRL that no longer listed it. Revocation ids commit in their order
        (db.serialize_revocations): every row up to the last one seen is there to read."""
        bound: list[Any] = []
        last = after_id
        if not delta:
            covered = conn.execute(
                select(func.max(db.revocations.c.id)).where(db.revocations.c.ca == ca)
            ).scalar()
            last = max(after_id, int(covered or 0))
            # a released hold is listed by deltas only (RFC 5280: removeFromCRL)
            bound = [db.revocations.c.id <= last, _IN_FORCE]
        query = DriverQuery(
            select(
                db.revocations.c.id,
                db.revocations.c.serial,
                type_coerce(db.revocations.c.revoked_at, db.CrlDate()),
                db.revocations.c.reason,
            )
            .where(db.revocations.c.ca == ca, db.revocations.c.id > after_id, *bound)
            .order_by(db.revocations.c.id),
            conn.dialect,
        )
        naive_utc = query.processor(2)  # the revocation date as a CRL entry keeps it
        entries: list[x509.RevokedCertificate] = []
        for rows in query.batches(conn, _CRL_BATCH):
            add_entries(entries, rows, naive_utc)
            last = max(last, rows[-1][0])
        return entries, last

    def publish_crl(
        self, *, actor: str = "local", delta: bool = False, root: bool = False
    ) -> CrlInfo:
        """Build and publish the next full or delta CRL of the issuing CA (or the root's).

        A full CRL of the issuing CA is published with a fresh delta based on it (as AD CS
        does): a delta left from the previous base would name a base older than the one
        served, and a relying party checking with deltas would not take it (OpenSSL ignores a
        delta whose number is not above its base's)."""
        if delta or root:
            return self._publish_crl(actor=actor, delta=delta, root=root)
        # one run's full CRL and its delta, together: five `ca crl` at once printed a delta
        # based on another run's full CRL (the files were right; what each run said was not)
        with exclusive(self.home.ca_dir / ".crl-run.lock"):
            info = self._publish_crl(actor=actor, delta=False, root=False)
            try:
                following = self._publish_crl(
                    actor=actor,
                    delta=True,
                    root=False,
                    base=info.number if info.written else info.found_number,
                )
            except LyncPkiError as error:  # the full CRL stands: say so, not "failed"
                raise CaError(
                    f"published full CRL #{info.number} ({info.path}), but not its delta: "
                    f"{error.message} (the delta served still names the previous base; relying "
                    "parties that use deltas take the full CRL alone until the next delta)",
                    error.fix
                    if error.fix and "ca crl --delta" in error.fix
                    else f"{error.fix + '; then ' if error.fix else ''}publish the delta: "
                    "lyncpki ca crl --delta",
                ) from None
            return replace(info, delta_crl=following)

    def _next_crl_number(self, conn: Connection, ca: str, full_served: int) -> int:
        """One above the CRLs recorded in the database and those published in the home (a
        database restored from an older backup must not number a CRL below one relying
        parties already hold: RFC 5280 wants CRL numbers to increase). `full_served`: the
        number of the full CRL the home publishes (read once by the caller)."""
        recorded = conn.execute(select(func.max(db.crls.c.number)).where(db.crls.c.ca == ca))
        published = max(full_served, _published_number(self.home.crl_file(ca, delta=True)))
        return max(recorded.scalar() or 0, published) + 1

    def _delta_base(self, conn: Connection, ca: str, number: int) -> tuple[int, int]:
        """The full CRL a delta is based on: `number`, the one just published with it or the
        one this home serves (its full CRL file), never merely the newest in the database:
        homes sharing one database (several nodes) each serve their own files, and a delta
        naming another node's full CRL listed the revocations neither of this home's files
        did. Its number and the last revocation id it covers."""
        path = self.home.crl_file(ca)
        if number < 0:
            raise CaError(
                "no full CRL to base a delta on: "
                + (
                    f"the file this home publishes ({path}) is no CRL it can read (damaged?)"
                    if path.exists()
                    else f"this home publishes none ({path})"
                ),
                "run lyncpki ca crl (a new full CRL and its delta)",
            )
        base = conn.execute(
            select(db.crls.c.last_revocation_id).where(
                db.crls.c.ca == ca, db.crls.c.number == number, db.crls.c.delta.is_(False)
            )
        ).first()
        if base is None:
            raise CaError(
                f"the full CRL #{number} this home publishes ({path}) is not in the CA "
                "database: a delta based on it could not tell what it lists",
                "run lyncpki ca crl (a new full CRL and its delta)",
            )
        return number, int(base.last_revocation_id)

    def _publish_crl(
        self, *, actor: str, delta: bool, root: bool, base: int | None = None
    ) -> CrlInfo:
        """Sign, record and publish one CRL; a delta is based on the full CRL `base` (the one
        just published), else on the one this home serves (_delta_base)."""
        _sweep_stale_temporaries(self.home.crl_file(self.config.slug).parent)
        signer = self.root if root else self.issuer
        ca = self.config.root_slug if root else self.config.slug
        if root and delta:
            raise CaError("the root CA publishes full CRLs only", "drop --delta with --root")
        try:
            _refuse_outside_validity(signer, "sign CRLs", self.clock.now())
        except CaError as error:
            self.audit(actor, "crl", ca, "refused", error.message)
            raise
        for _attempt in range(5):
            now = self.clock.now()
            try:
                with self.writer.begin() as conn:
                    db.serialize_crls(conn)  # numbered one after another, never in conflict
                    # the full CRL this home serves: a large file, parsed once for both uses
                    full_served = _published_number(self.home.crl_file(ca))
                    number = self._next_crl_number(conn, ca, full_served)
                    base_number = None
                    after = 0
                    if delta:
                        base_number, after = self._delta_base(
                            conn, ca, full_served if base is None else base
                        )
                    entries, last = self._revoked(conn, ca, after, delta=delta)
                    days = self.config.root_crl_days if root else self.config.crl_days
                    period = (
                        dt.timedelta(hours=self.config.delta_crl_hours)
                        if delta
                        else dt.timedelta(days=days)
                    )
                    # never promised beyond the signer's own life (AD CS clamps it the same way)
                    next_update = min(now + period, signer.certificate.not_valid_after_utc)
                    spec = CrlSpec(
                        number=number,
                        # backdated as certificates are: a relying server whose clock runs a
                        # little behind refused a CRL just published as "not yet valid"
                        this_update=now - BACKDATE,
                        next_update=max(next_update, now + dt.timedelta(minutes=1)),
                        base_number=base_number,
                        freshest_url=None
                        if (delta or root)
                        else self.config.crl_url(ca, delta=True),
                    )
                    crl = sign_crl(signer.certificate, signer.signing_key, spec, entries)
                    count = len(entries)
                    del entries  # signed: free them before the CRL is encoded and written
                    conn.execute(
                        insert(db.crls).values(
                            ca=ca,
                            number=number,
                            delta=delta,
                            base_number=base_number,
                            this_update=spec.this_update,
                            next_update=spec.next_update,
                            entries=count,
                            last_revocation_id=last,
                        )
                    )
                    self.audit(
                        actor,
                        "crl",
                        f"{ca} #{number}",
                        "ok",
                        f"{'delta' if delta else 'full'}, {count} entries",
                        conn,
                    )
                path = self.home.crl_file(ca, delta=delta)
                try:
                    found = self._publish_if_newest(
                        crl, path, self.home.crl_file(ca, delta=delta, pem=True)
                    )
                except LyncPkiError as error:  # signed and recorded: its number is spent
                    kind = "delta CRL" if delta else "CRL"
                    again = "lyncpki ca crl" + (" --delta" if delta else " --root" if root else "")
                    raise CrlNotPublished(
                        f"{kind} #{number} of {ca} was signed but not published: {error.message} "
                        f"(the CRLs served are unchanged: {path.parent})",
                        f"{error.fix + '; then ' if error.fix else ''}publish again: {again}",
                        error,
                    ) from None
                return CrlInfo(
                    ca,
                    number,
                    delta,
                    base_number,
                    spec.this_update,
                    spec.next_update,
                    count,
                    str(path),
                    written=found is None,
                    found_number=found,
                )
            except IntegrityError:
                continue  # another process took this CRL number: take the next
            except OperationalError as error:
                raise CaError(
                    f"database error while publishing the CRL: {error.orig}",
                    "retry; check the database",
                ) from None
        raise CaError("could not number the CRL (repeated conflicts)", "retry")


def _published_number(path: Path) -> int:
    try:
        crl = x509.load_der_x509_crl(path.read_bytes())
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except (OSError, ValueError, x509.ExtensionNotFound):
        return -1


__all__ = [
    "CaError",
    "CertificateAuthority",
    "CrlInfo",
    "IssueResult",
    "Refusal",
    "asked_text",
    "sans_list",
]
