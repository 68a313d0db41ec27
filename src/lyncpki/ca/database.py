"""The CA's database (SQLAlchemy 2 Core): SQLite in WAL mode by default, PostgreSQL by URL.

Tables: certificates, requests (and the options a pending one asked), revocations, crls, audit
(append-only), accounts (and their generation), login failures, and lyncpki_meta (the schema
version the database was made with: a table of it that is gone is refused, never made again
empty). Serial uniqueness and CRL numbers are enforced by the database (primary key, unique
constraint), so several processes can issue and publish at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError

from lyncpki.ca.wal_checkpoint import SAFETY_PAGES
from lyncpki.errors import LyncPkiError
from lyncpki.x509.issuers import signed_by


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A moment in UTC, read back aware: SQLite keeps the UTC time without its offset and gave
    it back naive (the API said "05:45:31" where the command line said "05:45:31+00:00");
    PostgreSQL's timestamptz comes back aware already. Written as DateTime(timezone=True)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None or value.tzinfo is not None:
            return value  # type: ignore[no-any-return]
        return value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]


class CrlDate(TypeDecorator[dt.datetime]):
    """A NOT NULL UtcDateTime column read for a CRL entry: naive UTC, the form pyca's CRL entry
    keeps, read without SQLAlchemy's general date reader. A CRL of a million entries reads a
    million revocation dates; SQLite's (SQLAlchemy's storage format, ISO 8601 without an
    offset) go straight to `datetime.fromisoformat` (no wrapper around it: 100,000 dates,
    30 ms less), PostgreSQL's are made naive UTC. A date that comes back aware all the same is
    left to the reader (`crl.add_entries` converts it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())  # the stored text, unconverted
        return dialect.type_descriptor(DateTime(timezone=True))

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], dt.datetime] | None:
        if dialect.name == "sqlite":
            return dt.datetime.fromisoformat
        return _naive_utc


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


metadata = MetaData()

certificates = Table(
    "certificates",
    metadata,
    Column("serial", String(48), primary_key=True),  # lowercase hex, as openssl prints it
    Column("ca", String(64), nullable=False),
    Column("subject", Text, nullable=False),
    Column("sans", Text, nullable=False),  # comma-separated DNS names
    Column("template", String(64), nullable=False),
    Column("requester", String(128), nullable=False),
    Column("request_id", Integer, nullable=True),
    Column("not_before", UtcDateTime(), nullable=False),
    Column("not_after", UtcDateTime(), nullable=False),
    Column("thumbprint", String(40), nullable=False),
    Column("key", String(16), nullable=False),
    Column("issued_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),  # valid | revoked
    Column("der", LargeBinary, nullable=False),
)
Index("ix_certificates_ca_status", certificates.c.ca, certificates.c.status)
# No index on not_after, nor on the audit log's `at`: no query of the CA looks rows up by them
# (the audit log is read newest first by id), and each index is one more page every issuance
# writes: the two cost a third of SQLite's time per issuance transaction (131 us -> 93 us on
# the issuance's three rows). Databases made before keep theirs; nothing depends on either.

requests = Table(
    "requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ca", String(64), nullable=False),
    Column("csr", LargeBinary, nullable=False),
    Column("template", String(64), nullable=False),
    Column("requester", String(128), nullable=False),
    Column("subject", Text, nullable=False),
    Column("sans", Text, nullable=False),
    Column("key", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # pending | issued | denied
    Column("submitted_at", UtcDateTime(), nullable=False),
    Column("decided_at", UtcDateTime(), nullable=True),
    Column("decided_by", String(128), nullable=True),
    Column("serial", String(48), nullable=True),
    Column("reason", Text, nullable=True),
)
Index("ix_requests_status", requests.c.ca, requests.c.status)

# What a request waiting for approval asked beyond its CSR and template (schema 5): a shorter
# validity, a signature hash. Kept for the approval, which applies them (before, the wait kept
# neither: a SubCA asked with SHA-384 was signed with SHA-256). No row: nothing was asked.
request_options = Table(
    "request_options",
    metadata,
    Column("request_id", Integer, ForeignKey("requests.id"), primary_key=True),
    Column("validity_days", Integer, nullable=True),
    Column("hash_name", String(16), nullable=True),
)

revocations = Table(
    "revocations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # order of revocation
    Column("serial", String(48), ForeignKey("certificates.serial"), nullable=False, unique=True),
    Column("ca", String(64), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=False),
    Column("revoked_by", String(128), nullable=False),
)
Index("ix_revocations_ca", revocations.c.ca, revocations.c.id)

crls = Table(
    "crls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ca", String(64), nullable=False),
    Column("number", Integer, nullable=False),
    Column("delta", Boolean, nullable=False),
    Column("base_number", Integer, nullable=True),
    Column("this_update", UtcDateTime(), nullable=False),
    Column("next_update", UtcDateTime(), nullable=False),
    Column("entries", Integer, nullable=False),
    Column("last_revocation_id", Integer, nullable=False),  # revocations.id covered
    UniqueConstraint("ca", "number", name="uq_crl_number"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", String(128), nullable=False),
    Column("outcome", String(16), nullable=False),  # ok | refused | denied (403) | error
    Column("detail", Text, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("role", String(16), nullable=False),  # requester | manager | auditor
    Column("password_hash", String(256), nullable=False),  # scrypt, never the password
    Column("created_at", UtcDateTime(), nullable=False),
)

# One row (id 1): a number every account change (add, remove) raises in its own transaction, so
# that every service process sees at once that the credentials it remembers, and the console
# sessions it accepts, may no longer hold (accounts.AccountWatch).
account_generation = Table(
    "account_generation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", Integer, nullable=False),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("client", String(64), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)
Index("ix_login_failures_name_at", login_failures.c.name, login_failures.c.at)
Index("ix_login_failures_client_at", login_failures.c.client, login_failures.c.at)

# What the database records about itself, one row a name: `schema`, the version of the tables
# below the CA made it with (SCHEMA_TABLES), so that a table dropped later is told from one a
# newer lyncpki added.
lyncpki_meta = Table(
    "lyncpki_meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# The tables each schema version added (git history of this file): 1 the CA's records, 2 the
# accounts (2026-11-25), 3 the account generation (2026-12-01), 4 this record of the version,
# 5 the options of pending requests (2026-12-03).
SCHEMA_TABLES = {
    1: frozenset({"certificates", "requests", "revocations", "crls", "audit"}),
    2: frozenset({"accounts", "login_failures"}),
    3: frozenset({"account_generation"}),
    4: frozenset({"lyncpki_meta"}),
    5: frozenset({"request_options"}),
}
SCHEMA_VERSION = max(SCHEMA_TABLES)
# The lyncpki_meta row of the issuing CA whose database it is (the SHA-256 thumbprint of its
# certificate, uppercase hex), written at claim; a database made before (81e40ce) gets it at its
# first open with the CA's keys, when its own certificates agree (open_existing).
ISSUING_CA = "issuing_ca_sha256"
# How many of its newest certificates a database without that record must show were signed by
# the home's CA (or its root: the subordinate CAs) before the record is written.
EVIDENCE_CERTIFICATES = 16
# A database made before the version was recorded (4) is of version 1 or 2 (or 3: the
# account_generation it adds, made again, holds only a number every process re-reads). Version
# 1 (lyncpki before 2026-11-25) is told by the tables of version 2 absent and no trace of an
# account in its audit log; anything else must hold the tables of version 2.
_UNVERSIONED = 2
# What only a CA with accounts (version 2 on) writes in its audit log.
_ACCOUNT_ACTIONS = ("account-add", "account-remove", "login")


def tables_of(version: int) -> frozenset[str]:
    """The tables a database of schema `version` holds."""
    return frozenset().union(*(t for v, t in SCHEMA_TABLES.items() if v <= version))


# The audit log is append-only: the database itself refuses to change or delete an entry.
_APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION lyncpki_audit_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS audit_append_only ON audit",
        "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
        "FOR EACH ROW EXECUTE FUNCTION lyncpki_audit_append_only()",
    ],
}


@event.listens_for(audit, "after_create")
def _append_only(target: Table, connection: Connection, **_: Any) -> None:
    for statement in _APPEND_ONLY.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)


@event.listens_for(account_generation, "after_create")
def _first_generation(target: Table, connection: Connection, **_: Any) -> None:
    connection.execute(insert(target).values(id=1, generation=0))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it consistent
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # a safety net: the issuance path's log is checkpointed by its own thread (wal_checkpoint)
    cursor.execute(f"PRAGMA wal_autocheckpoint={SAFETY_PAGES}")
    cursor.close()


# Write transactions take SQLite's write lock at BEGIN (IMMEDIATE), so that two processes
# never both read and then fail to upgrade (SQLITE_BUSY without waiting).
SQLITE_BEGIN_WRITE = "BEGIN IMMEDIATE"


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql(SQLITE_BEGIN_WRITE if immediate else "BEGIN")


def begin_write(dialect: Dialect, cursor: Any) -> None:
    """Open a write transaction on a driver cursor, as `writer` does on a Connection: BEGIN
    IMMEDIATE on SQLite; PostgreSQL's driver opens the transaction at the first statement."""
    if dialect.name == "sqlite":
        cursor.execute(SQLITE_BEGIN_WRITE)


def serialize_revocations(conn: Connection) -> None:
    """Have this transaction's revocation commit after every revocation begun before it, and
    before every one begun after it, so that revocation ids commit in their order: the last
    id seen (RevocationWatch, the OCSP cache) and a delta CRL's "above its base's id" then
    never miss one committed late below it. SQLite's write transactions are serial already
    (BEGIN IMMEDIATE); PostgreSQL takes a lock on the revocations table that conflicts with
    itself and with writes to it, held to the end of the transaction (readers do not wait)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE revocations IN SHARE ROW EXCLUSIVE MODE")


def serialize_crls(conn: Connection) -> None:
    """Have CRL publications of one database number their CRLs one after another: PostgreSQL
    takes a lock on the crls table that conflicts with itself (twenty `ca crl` at once ran out
    of retries on the unique CRL number); SQLite's write transactions are serial already."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE crls IN SHARE ROW EXCLUSIVE MODE")


def writer(engine: Engine) -> Engine:
    """The engine to open write transactions with (BEGIN IMMEDIATE on SQLite)."""
    return engine.execution_options(sqlite_immediate=True)


def _engine(url: str) -> Engine:
    """An engine for `url` without the CA's connection settings (to look into a database)."""
    try:
        return create_engine(url, hide_parameters=True)
    except (ArgumentError, ImportError, ValueError) as error:
        raise _bad_url(url, error) from None


def _bad_url(url: str, error: Exception) -> LyncPkiError:
    """A URL SQLAlchemy cannot use: its scheme, its driver, or (ValueError, the port read as a
    number) its host or port."""
    if isinstance(error, ValueError):
        return LyncPkiError(
            f"cannot use database URL {redact(url)}: the URL's host or port is malformed",
            "write the host as a name, an IPv4 address or [IPv6] in brackets and the port as a "
            "number: postgresql+psycopg://USER@HOST:5432/DB (escape @ : / in a password as "
            "%40 %3A %2F)",
        )
    return LyncPkiError(
        f"cannot use database URL {redact(url)}: {error}",
        "use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB",
    )


def connect(url: str, *, create: bool = False) -> Engine:
    """An engine for the CA database; `create` makes the tables (idempotent)."""
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, hide_parameters=True)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(
                url, hide_parameters=True, pool_pre_ping=True, pool_size=4, max_overflow=4
            )
    except (ArgumentError, ImportError, ValueError) as error:
        raise _bad_url(url, error) from None
    if create:
        _private_sqlite_file(url)
        try:
            metadata.create_all(engine)
        except DBAPIError as error:
            engine.dispose()
            raise unusable(url, error) from None
    return engine


def _private_sqlite_file(url: str) -> None:
    """A new SQLite database file made 0600 before SQLite makes it (0644 by default): it holds
    the CA accounts' password hashes and the whole audit, and outside the home's ca/ (0700)
    any local user read them. SQLite gives its -wal, -shm and -journal the database file's
    mode. An existing file is left as it is; one that cannot be made is SQLite's to report."""
    path = sqlite_path(url)
    if path is None or path.startswith("file:"):
        return
    try:
        descriptor = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
    except OSError:  # it exists (a link too), or its folder does not: SQLite says what is wrong
        return
    os.close(descriptor)


def unusable(
    url: str, error: DBAPIError, doing: str = "open", *, existing: bool = False
) -> LyncPkiError:
    """A database that cannot be used, in words that say where to look: a damaged SQLite
    file is restored, not given more space; a SQLite path that is a folder is no server's
    fault; a PostgreSQL URL whose search_path names no schema says so; an existing CA's
    database that does not exist is restored, not created again empty."""
    said = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else "no reason"
    return LyncPkiError(
        f"cannot {doing} the CA database {redact(url)}: {said}",
        _open_fix(url, said.lower(), existing=existing),
    )


def _open_fix(url: str, said: str, *, existing: bool = False) -> str:
    """What to look at when a database cannot be used (`said`: the driver's reason;
    `existing`: the database of a CA made before, not one a new CA is to take)."""
    path = sqlite_path(url)
    if path is not None:
        if Path(path).is_dir():
            return f"{path} is a folder: give the database file (sqlite:///PATH/ca.sqlite)"
        if "not a database" in said or "malformed" in said:
            return (
                f"{path} is not a SQLite database or is damaged: restore it from a backup "
                "(with its -wal file), or give the right file"
            )
        return (
            f"check the free space and the permissions of {Path(path).parent} (a SQLite "
            "database writes its journal beside it)"
        )
    if "permission denied" in said or "must be owner" in said:
        if existing:  # the schema and tables are there: this user may not do what was asked
            return (
                "the user in the URL lacks a privilege on the CA database: give the home's "
                "db_url (ca/config.json) the user that owns the database, or have the owner "
                "grant this user what it lacks (GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN "
                "SCHEMA public TO USER, and USAGE ON ALL SEQUENCES)"
            )
        return (
            "the user in the URL may not create tables there: use a database it owns "
            "(createdb -O USER NAME), or have the owner grant it CREATE ON SCHEMA public"
        )
    if "no schema has been selected" in said or ("schema" in said and "does not exist" in said):
        return (
            "the URL's search_path names no schema this user may create in: create the schema "
            "(CREATE SCHEMA ...) or correct options=-csearch_path%3D... in the URL"
        )
    if "authentication" in said or "password" in said or "role" in said:
        return "check the user and password in the URL (postgresql+psycopg://USER:PASSWORD@HOST/DB)"
    if "does not exist" in said:
        if existing:  # a new, empty one would forget every certificate and revocation
            return (
                "restore the CA database from a backup (createdb NAME, then load the dump), "
                "or correct its name in db_url of the home's ca/config.json; never create it "
                "empty"
            )
        return "create the database (createdb NAME) or correct its name in the URL"
    return "check that the database server runs and the URL is right"


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite URL as written (None: not SQLite, or an in-memory database)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0].lower() != "sqlite":
        return None
    path = rest.removeprefix("/").partition("?")[0]
    return None if path in ("", ":memory:") else path


def normalize_url(url: str) -> str:
    """The database URL a new CA keeps in its config: a relative SQLite path made absolute
    (against the current folder, where the administrator typed it), so that every later
    command opens the same file wherever it is run from. An in-memory SQLite database is
    refused: the CA would forget every certificate when the command ends."""
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise LyncPkiError(
            f"--db '{redact(url)}' is not a database URL (no // after the scheme"
            + ("; a libpq key=value string is not read" if "=" in url else "")
            + ")",
            "use sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB",
        )
    if scheme.lower() in ("postgres", "postgresql"):  # libpq's and psql's own scheme: the
        return f"postgresql+psycopg://{rest}"  # driver lyncpki has is psycopg 3
    if scheme.split("+", 1)[0].lower() != "sqlite":
        return url
    path = sqlite_path(url)
    if path is None:
        raise LyncPkiError(
            f"--db {redact(url)} is an in-memory database: the CA would lose everything it records",
            "give a file: sqlite:///PATH (or leave out --db for SQLite in the home)",
        )
    if path.startswith("file:") or Path(path).is_absolute():
        return url
    query = rest.partition("?")[2]
    return f"{scheme}:///{Path(path).resolve()}" + (f"?{query}" if query else "")


# The tables whose rows mean "a CA lives here" (login_failures are no CA's records).
_CA_TABLES = ("certificates", "requests", "revocations", "crls", "audit", "accounts")


def contents(engine: Engine) -> dict[str, int]:
    """How many rows each of the CA's tables holds (only the tables that exist, and not
    empty)."""
    try:
        present = set(inspect(engine).get_table_names())
        found: dict[str, int] = {}
        with engine.connect() as conn:
            for name in _CA_TABLES:
                if name in present:
                    count = conn.execute(select(func.count()).select_from(metadata.tables[name]))
                    if rows := int(count.scalar() or 0):
                        found[name] = rows
        return found
    except DBAPIError as error:
        raise unusable(engine.url.render_as_string(hide_password=False), error, "read") from None


_ROW_NAMES = {
    "certificates": "certificate",
    "requests": "request",
    "revocations": "revocation",
    "crls": "CRL",
    "audit": "audit entry",
    "accounts": "account",
}


def describe_contents(found: dict[str, int]) -> str:
    """`3 certificates, 1 account, 12 audit entries`."""

    def plural(name: str, rows: int) -> str:
        if rows == 1:
            return name
        return name[:-1] + "ies" if name.endswith("y") else name + "s"

    return ", ".join(f"{rows} {plural(_ROW_NAMES[name], rows)}" for name, rows in found.items())


def check_new(url: str, *, home_folder: Path | None = None) -> None:
    """Refuse, before anything is written, a database a new CA cannot use: one that already
    holds a CA's records (two CAs would share certificates, revocations and accounts), a SQLite
    file in a folder that does not exist (unless it is the home's, made by init), a server that
    does not answer."""
    path = sqlite_path(url)
    if path is not None and not path.startswith("file:"):
        file = Path(path)
        if not file.exists():
            folder = file.parent
            inside_home = home_folder is not None and (
                folder.resolve() == home_folder.resolve()
                or home_folder.resolve() in folder.resolve().parents
            )
            if not folder.is_dir() and not inside_home:
                raise LyncPkiError(
                    f"cannot create the CA database {file}: folder {folder} does not exist",
                    f"create it first (mkdir -p {folder}) or choose another --db",
                )
            return  # a new file: nothing in it (not created here, to leave nothing behind)
    engine = _engine(url)
    try:
        found = contents(engine)
    finally:
        engine.dispose()
    if found:
        raise _holds_a_ca(url, found)


def _holds_a_ca(url: str, found: dict[str, int]) -> LyncPkiError:
    return LyncPkiError(
        f"the database {redact(url)} already holds a CA ({describe_contents(found)}): two CAs "
        "in one database would share their certificates, revocations and accounts",
        "give each CA a database of its own (e.g. createdb lyncpki_ca2, then --db "
        "postgresql+psycopg://USER@HOST:5432/lyncpki_ca2), or leave out --db for SQLite in the "
        "home",
    )


def claim(engine: Engine, init: dict[str, Any], issuing_ca: str) -> None:
    """Make the (new, empty) database the new CA's: check again that it holds no CA and write
    the CA's `init` audit entry, its schema version and its issuing CA's SHA-256 thumbprint
    (`issuing_ca`: open_existing tells another CA of the same name by it), in one transaction
    that excludes another init doing the same (SQLite: BEGIN IMMEDIATE; PostgreSQL: a lock on
    the audit table)."""
    with writer(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE")
        found: dict[str, int] = {}
        for name in _CA_TABLES:
            count = conn.execute(select(func.count()).select_from(metadata.tables[name]))
            if rows := int(count.scalar() or 0):
                found[name] = rows
        if found:
            raise _holds_a_ca(engine.url.render_as_string(hide_password=False), found)
        conn.execute(audit.insert(), init)
        _set_meta(conn, "schema", str(SCHEMA_VERSION))
        _set_meta(conn, ISSUING_CA, issuing_ca)


def _is_denied(error: DBAPIError) -> bool:
    """Whether the database refused the user the privilege (PostgreSQL's
    insufficient_privilege, 42501)."""
    orig = error.orig
    return (
        getattr(orig, "sqlstate", None) == "42501"
        or type(orig).__name__ == "InsufficientPrivilege"
        or "permission denied" in str(orig).lower()
    )


def is_missing_table(error: DBAPIError) -> bool:
    """Whether the database answered that a table of the CA is not there: PostgreSQL's
    undefined_table (42P01), SQLite's "no such table" (a database dropped and created again
    empty, a table dropped, while a service runs)."""
    orig = error.orig
    return (
        getattr(orig, "sqlstate", None) == "42P01"
        or type(orig).__name__ == "UndefinedTable"
        or "no such table" in str(orig).lower()
    )


CA_DATABASE_GONE = "the CA database is missing or empty: restore it from a backup"


def missing_or_empty(url: str, where: str) -> LyncPkiError:
    schema = (
        # PostgreSQL finds no table of a schema that is not there: a mistyped name
        "; if the URL's search_path names a schema that does not exist (a mistyped name), "
        "correct options=-csearch_path%3D... in db_url of the home's ca/config.json"
        if "search_path" in url.lower()
        else ""
    )
    return LyncPkiError(
        f"the CA database {redact(url)} of {where} is missing or empty: the CA's certificates, "
        "revocations and CRL numbers are not there",
        "restore it from a backup (a new, empty database would forget every certificate and "
        f"revocation); never re-create it{schema}",
    )


def unclaim(engine: Engine) -> None:
    """Undo claim for a creation that failed after it: drop the CA's tables, which hold only
    that creation's records (claim found them empty, under its lock), so that the database is
    as empty as it was for the next attempt (the init record, the first CRLs' numbers).
    Raises SQLAlchemy's error when the database cannot do it."""
    with writer(engine).begin() as conn:
        metadata.drop_all(conn)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS lyncpki_audit_append_only()")


def missing_tables(url: str, where: str, names: set[str]) -> LyncPkiError:
    listed = ", ".join(sorted(names))
    return LyncPkiError(
        f"the CA database {redact(url)} of {where} is missing or empty in part: its "
        f"table{'s' if len(names) > 1 else ''} {listed} {'are' if len(names) > 1 else 'is'} "
        "gone (made again empty, revoked certificates would leave the CRLs, accounts and "
        "requests would be lost)",
        "restore the database from a backup; never re-create its tables",
    )


def recorded_issuing_ca(engine: Engine) -> str | None:
    """The issuing CA thumbprint the database records (None: none recorded, or no CA's
    tables). Raises SQLAlchemy's error when the database cannot be read."""
    if "lyncpki_meta" not in set(inspect(engine).get_table_names()):
        return None
    with engine.connect() as conn:
        return _meta(conn, ISSUING_CA)


def _meta(conn: Connection, name: str) -> str | None:
    value = conn.execute(select(lyncpki_meta.c.value).where(lyncpki_meta.c.name == name))
    return value.scalar()


def _set_meta(conn: Connection, name: str, value: str) -> None:
    changed = conn.execute(
        lyncpki_meta.update().where(lyncpki_meta.c.name == name).values(value=value)
    )
    if not changed.rowcount:
        conn.execute(lyncpki_meta.insert().values(name=name, value=value))


def _schema_version(conn: Connection, present: set[str]) -> int | None:
    """The schema version the database records (None: made before it was recorded)."""
    if "lyncpki_meta" not in present:
        return None
    recorded = _meta(conn, "schema")
    return int(recorded) if recorded is not None and recorded.isdigit() else None


def _unversioned_version(conn: Connection, present: set[str]) -> int:
    """The schema version of a database that records none: 1 when it holds none of the tables
    versions 2 and 3 added and its audit log never saw an account (added, removed, logged in
    with), else 2 (whose tables it must then hold: accounts dropped are not made again empty)."""
    if present & (SCHEMA_TABLES[2] | SCHEMA_TABLES[3]):
        return _UNVERSIONED
    seen = conn.execute(
        select(audit.c.id).where(audit.c.action.in_(_ACCOUNT_ACTIONS)).limit(1)
    ).first()
    return _UNVERSIONED if seen is not None else 1


def another_ca(url: str, where: str, recorded: str, mine: str) -> LyncPkiError:
    return LyncPkiError(
        f"the CA database {redact(url)} of {where} belongs to another CA (issuing CA "
        f"thumbprint {recorded}; this home's issuing.crt is {mine}): its certificates, "
        "revocations and CRL numbers are not this CA's",
        "point this home at this CA's own database (db_url in its ca/config.json), or use "
        "the home of the CA that database belongs to",
    )


def open_existing(
    url: str,
    *,
    ca: str,
    where: str,
    issuing_ca: str | None = None,
    issuers: Sequence[x509.Certificate] = (),
) -> Engine:
    """The engine of an existing CA's database: refused when the database is missing, has no
    tables, holds no record of this CA (its `init` audit entry), records another issuing CA
    than `issuing_ca` (the SHA-256 thumbprint of this home's issuing.crt), or lacks a table of
    the schema it was made with (a dropped `revocations` made again empty took every revoked
    certificate off the CRLs). A SQLite file is never created here (connecting would make an
    empty one); tables added by a newer lyncpki are, and the schema version is then recorded.

    A database made before the issuing CA was recorded gets `issuing_ca` recorded when
    `issuers` are given (the home's issuing and root CA certificates: an open with the CA's
    keys) and its newest certificates were all signed by one of them (or it holds none); one
    whose certificates another CA signed is refused, and nothing is recorded."""
    path = sqlite_path(url)
    if path is not None and not path.startswith("file:") and not Path(path).is_file():
        raise missing_or_empty(url, where)
    engine = connect(url)
    try:
        present = set(inspect(engine).get_table_names())
        if not {"audit", "certificates", "crls"} <= present:
            raise missing_or_empty(url, where)
        with engine.connect() as conn:
            known = conn.execute(
                select(audit.c.id).where(audit.c.action == "init", audit.c.target == ca).limit(1)
            ).first()
            version = _schema_version(conn, present)
            if version is None:
                version = _unversioned_version(conn, present)
            recorded = _meta(conn, ISSUING_CA) if "lyncpki_meta" in present else None
        if known is None:
            raise missing_or_empty(url, where)
        if issuing_ca is not None and recorded is not None and recorded != issuing_ca:
            raise another_ca(url, where, recorded, issuing_ca)
        if missing := set(tables_of(min(version, SCHEMA_VERSION)) - present):
            raise missing_tables(url, where, missing)
        to_record = issuing_ca if issuers and recorded is None else None
        if to_record is not None:  # before anything is written: another CA's is left as it is
            _check_issuers(engine, url, where, to_record, issuers)
        if version < SCHEMA_VERSION:
            _migrate(engine, url, where, version)
        if to_record is not None:
            _record_issuing_ca(engine, url, where, to_record)
    except DBAPIError as error:
        engine.dispose()
        raise unusable(url, error, existing=True) from None
    except LyncPkiError:
        engine.dispose()
        raise
    return engine


def _check_issuers(
    engine: Engine, url: str, where: str, issuing_ca: str, issuers: Sequence[x509.Certificate]
) -> None:
    """Refuse a database that records no issuing CA when one of its newest certificates was
    not signed by one of `issuers` (a home given another home's database of the same CA name
    published that CA's revocations under its own name: a certificate it had revoked verified
    again)."""
    with engine.connect() as conn:
        newest = conn.execute(
            select(certificates.c.serial, certificates.c.der)
            .order_by(certificates.c.issued_at.desc())
            .limit(EVIDENCE_CERTIFICATES)
        ).all()
    for serial, der in newest:
        if not _signed_by_one_of(bytes(der), issuers):
            raise LyncPkiError(
                f"the CA database {redact(url)} of {where} records no issuing CA (it was made "
                f"before lyncpki recorded one) and its certificate {serial} was not signed by "
                f"this home's CA (issuing.crt {issuing_ca}, or its root): it is another CA's "
                "database, whose certificates, revocations and CRL numbers are not this CA's",
                "point this home at this CA's own database (db_url in its ca/config.json), or "
                "restore this CA's database from a backup; nothing was written to this one",
            )


def _record_issuing_ca(engine: Engine, url: str, where: str, issuing_ca: str) -> None:
    """Record `issuing_ca` in a database that records none (its certificates checked); another
    process of the CA (a `ca serve` worker) may record it at the same moment."""
    with contextlib.suppress(IntegrityError), writer(engine).begin() as conn:
        if _meta(conn, ISSUING_CA) is None:
            _set_meta(conn, ISSUING_CA, issuing_ca)
    with engine.connect() as conn:
        recorded = _meta(conn, ISSUING_CA)
    if recorded is not None and recorded != issuing_ca:
        raise another_ca(url, where, recorded, issuing_ca)


def _signed_by_one_of(der: bytes, issuers: Sequence[x509.Certificate]) -> bool:
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:
        return False
    return any(signed_by(certificate, issuer) for issuer in issuers)


def _migrate(engine: Engine, url: str, where: str, version: int) -> None:
    """Bring a database of schema `version` up to SCHEMA_VERSION: the tables of the newer
    versions made (idempotent), the audit log of version 1 made append-only (a database made
    before 2026-11-24 had no triggers), and the version recorded. Every command does it, a
    read too (this version's reads use the newer tables); a user that may not create tables
    (a read-only role) is told to have the owner do it once."""
    try:
        with writer(engine).begin() as conn:
            metadata.create_all(conn)  # the tables of a newer schema (checked first)
            if version < 2:
                for statement in _APPEND_ONLY.get(conn.dialect.name, []):
                    conn.exec_driver_sql(statement)
    except DBAPIError as error:
        if not _is_denied(error):
            raise
        said = str(error.orig).strip().splitlines()[0]
        raise LyncPkiError(
            f"the CA database {redact(url)} of {where} has the tables of an older lyncpki "
            f"(schema {version}; this version's is {SCHEMA_VERSION}), and the user in the URL "
            f"may not add the new ones ({said}): this version reads them too",
            "upgrade it once as the database's owner: run one lyncpki command (lyncpki ca "
            "list) with a db_url naming the owner in the home's ca/config.json, then have the "
            "owner grant this user the new tables as the old ones (GRANT SELECT ON ALL TABLES "
            f"IN SCHEMA public TO {_user_of(url)}); nothing is lost, tables are only added",
        ) from None
    with contextlib.suppress(IntegrityError), writer(engine).begin() as conn:
        _set_meta(conn, "schema", str(SCHEMA_VERSION))  # or another process did


def _user_of(url: str) -> str:
    try:
        return make_url(url).username or "USER"
    except (ArgumentError, ValueError):
        return "USER"


def redact(url: str) -> str:
    """The URL without its secrets, for messages and output: the password of `user:pw@` and
    of a `password=` (or `passfile=`, `sslpassword=`) query, whatever the URL's shape (one
    SQLAlchemy cannot parse is masked by its text)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # no scheme, a malformed host or port
        return _redact_text(url)
    if "@" in (parsed.host or ""):  # a password with an unescaped @: read up to the last
        return _redact_text(url)
    secret_keys = [key for key in parsed.query if _is_secret_key(key)]
    if parsed.password is None and not secret_keys:
        return url  # nothing to hide: as the administrator wrote it
    query = {key: ("***" if key in secret_keys else value) for key, value in parsed.query.items()}
    shown = parsed.set(query=query).render_as_string(hide_password=True)
    return shown.replace("=%2A%2A%2A", "=***")  # the mask as the password's: not escaped


def _is_secret_key(key: str) -> bool:
    return "pass" in key.lower()  # password, passfile, sslpassword


# a query's `...pass...=value`, or a libpq key=value string's (`password='x y'`)
_SECRET_QUERY = re.compile(
    r"(?i)((?:^|[?&\s])[^=&?\s]*pass[^=&?\s]*)\s*=\s*(?:'(?:[^'\\]|\\.)*'|[^&\s]*)"
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/*")


def _redact_text(url: str) -> str:
    """A URL that is no URL SQLAlchemy reads, masked by its text: a `password=` query's value
    and whatever stands between the user name and the last `@`."""
    text = _SECRET_QUERY.sub(r"\1=***", url)
    if "@" not in text:
        return text
    head, _, host = text.rpartition("@")
    scheme = _SCHEME.match(head)
    prefix = scheme.group(0) if scheme else ""
    credentials = head[len(prefix) :]
    user, colon, _ = credentials.partition(":")
    return f"{prefix}{user}{':***' if colon else ''}@{host}"
