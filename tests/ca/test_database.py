"""The CA database itself: append-only audit on SQLite and PostgreSQL, clear URL errors, and an
existing CA never opening a database that is missing or empty (which it re-created)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ca_tools import PASSPHRASE, openssl_req
from sqlalchemy import delete, insert, inspect, select, update
from sqlalchemy.exc import DBAPIError

from lyncpki.ca import database as db
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.errors import LyncPkiError


def _audit_row() -> dict[str, object]:
    return {"at": dt.datetime.now(dt.UTC), "actor": "t", "action": "init", "target": "x",
            "outcome": "ok", "detail": "first"}  # fmt: skip


def _assert_append_only(url: str) -> None:
    engine = db.connect(url, create=True)
    with engine.begin() as conn:
        conn.execute(insert(db.audit), _audit_row())
    for statement in (update(db.audit).values(detail="rewritten"), delete(db.audit)):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    with engine.connect() as conn:
        rows = conn.execute(db.audit.select()).all()
    assert [r.detail for r in rows] == ["first"]
    engine.dispose()


def test_audit_is_append_only_on_sqlite(tmp_path: Path) -> None:
    _assert_append_only(f"sqlite:///{tmp_path / 'ca.sqlite'}")


def test_audit_is_append_only_on_postgresql(postgres_url: str) -> None:
    _assert_append_only(postgres_url)


def test_create_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ca.sqlite'}"
    db.connect(url, create=True).dispose()
    db.connect(url, create=True).dispose()  # triggers and tables already there: no error


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(LyncPkiError, match="cannot use database URL"):
        db.connect("nosuchdb://x")


@pytest.mark.parametrize("create", [False, True])
@pytest.mark.parametrize("hostport", ["127.0.0.1:54x2", "[::1", "[::1]:port"])
def test_a_malformed_host_or_port_is_a_clear_error(hostport: str, create: bool) -> None:
    """A ValueError from SQLAlchemy's URL reader was "a bug in lyncpki" (exit 70)."""
    with pytest.raises(LyncPkiError, match="the URL's host or port is malformed") as caught:
        db.connect(f"postgresql+psycopg://ca:s3cret@{hostport}/pki", create=create)
    assert "s3cret" not in str(caught.value)


def test_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(LyncPkiError, match="cannot open the CA database") as caught:
        db.connect("postgresql+psycopg://postgres:secret@127.0.0.1:1/none", create=True)
    assert "secret" not in str(caught.value)


def test_a_search_path_without_a_schema_is_named(postgres_url: str) -> None:
    """PostgreSQL's "no schema has been selected to create in" was an internal error with the
    whole CREATE TABLE statement; now the URL's search_path is named as what to correct."""
    url = postgres_url + "?options=-csearch_path%3Dnope"
    with pytest.raises(LyncPkiError) as caught:
        db.connect(url, create=True)
    assert "no schema has been selected" in caught.value.message
    assert "CREATE TABLE" not in str(caught.value)
    assert "search_path" in (caught.value.fix or "")


def test_a_sqlite_path_that_is_a_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(LyncPkiError) as caught:
        db.connect(f"sqlite:///{tmp_path}", create=True)
    assert f"{tmp_path} is a folder" in (caught.value.fix or "")


def test_a_file_that_is_no_sqlite_database_is_to_be_restored(tmp_path: Path) -> None:
    """Not "check the free space": the file is damaged or another one."""
    path = tmp_path / "ca.sqlite"
    path.write_bytes(b"not a database at all " * 100)
    with pytest.raises(LyncPkiError) as caught:
        db.open_existing(f"sqlite:///{path}", ca="x", where="the CA")
    assert "file is not a database" in caught.value.message
    assert "restore it from a backup" in (caught.value.fix or "")


def test_a_database_that_does_not_exist_is_named(postgres_url: str) -> None:
    with pytest.raises(LyncPkiError) as caught:
        db.connect(postgres_url + "_absent", create=True)
    assert "does not exist" in caught.value.message
    assert "createdb" in (caught.value.fix or "")


def test_passwords_are_redacted() -> None:
    assert db.redact("postgresql+psycopg://ca:s3cret@db:5432/pki") == (
        "postgresql+psycopg://ca:***@db:5432/pki"
    )
    assert "s3cret" not in db.redact("postgresql://u:s3cret@h/d")


# ---------------------------------------------------------------- an existing CA's database
def _missing(ca: CertificateAuthority) -> pytest.ExceptionInfo[LyncPkiError]:
    with pytest.raises(LyncPkiError, match="is missing or empty") as caught:
        CertificateAuthority.open(ca.home, PASSPHRASE)
    assert "restore it from a backup" in str(caught.value.fix)
    return caught


def test_a_missing_sqlite_database_is_refused_not_recreated(fresh_ca: CertificateAuthority) -> None:
    """A CA whose database was removed opened a new, empty one: no certificates, CRLs
    numbered from 1, every revocation lost."""
    fresh_ca.engine.dispose()
    database = fresh_ca.home.ca_dir / "ca.sqlite"
    for path in fresh_ca.home.ca_dir.glob("ca.sqlite*"):
        path.unlink()
    _missing(fresh_ca)
    assert not database.exists()  # not made again by the attempt


def test_an_empty_database_file_is_refused(fresh_ca: CertificateAuthority) -> None:
    fresh_ca.engine.dispose()
    for path in fresh_ca.home.ca_dir.glob("ca.sqlite*"):
        path.unlink()
    (fresh_ca.home.ca_dir / "ca.sqlite").write_bytes(b"")
    _missing(fresh_ca)


def test_a_database_without_this_ca_is_refused(fresh_ca: CertificateAuthority) -> None:
    """Tables but no record of this CA (another database, or one made again by hand)."""
    fresh_ca.engine.dispose()
    for path in fresh_ca.home.ca_dir.glob("ca.sqlite*"):
        path.unlink()
    db.connect(fresh_ca.config.db_url, create=True).dispose()
    _missing(fresh_ca)


def test_an_emptied_database_is_refused(backend_ca: CertificateAuthority) -> None:
    """Its tables dropped (SQLite, PostgreSQL): refused, and not made again."""
    ca = backend_ca
    ca.engine.dispose()
    engine = db.connect(ca.config.db_url)
    db.metadata.drop_all(engine)
    engine.dispose()
    _missing(ca)
    check = db.connect(ca.config.db_url)
    assert inspect(check).get_table_names() == []
    check.dispose()


def test_the_database_of_the_ca_opens(backend_ca: CertificateAuthority) -> None:
    opened = CertificateAuthority.open(backend_ca.home, None)
    assert opened.certificates() == []
    opened.engine.dispose()


# ---------------------------------------------------------------- a table of the CA dropped
def _sql(url: str, *statements: str) -> None:
    """Run SQL with the database's own tool (psql, sqlite3), as an administrator would."""
    path = db.sqlite_path(url)
    if path is not None:
        tool = shutil.which("sqlite3")
        command = [tool, path] if tool else []
    else:
        tool = shutil.which("psql")
        database = url.rsplit("/", 1)[1]
        command = [tool, "-h", "127.0.0.1", "-U", "postgres", "-d", database,
                   "-v", "ON_ERROR_STOP=1", "-q"] if tool else []  # fmt: skip
    if not command:
        pytest.skip("sqlite3 or psql is not installed")
    process = subprocess.run(
        [str(part) for part in command],
        input=";\n".join(statements) + ";\n",
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert process.returncode == 0 and not process.stderr.strip(), process.stderr


@pytest.mark.parametrize(
    "table", ["revocations", "accounts", "requests", "certificates", "request_options"]
)
def test_a_dropped_table_is_refused_not_recreated(
    backend_ca: CertificateAuthority, table: str
) -> None:
    """A dropped `revocations` (or `accounts`, `requests`) was made again, empty, at the next
    open: the revoked certificates left the CRLs silently."""
    ca = backend_ca
    ca.engine.dispose()
    url = ca.config.db_url
    drops = [f"DROP TABLE {table}"]
    if table == "certificates":  # revocations name certificates: both go, as a restore would
        drops.insert(0, "DROP TABLE revocations")
    if table == "requests":  # and the options of requests name requests
        drops.insert(0, "DROP TABLE request_options")
    _sql(url, *drops)
    with pytest.raises(LyncPkiError, match="is missing or empty") as caught:
        CertificateAuthority.open(ca.home, PASSPHRASE)
    if table != "certificates":  # certificates: refused by the first check, as before
        gone = re.search(r"tables? ([a-z_, ]+) (is|are) gone", caught.value.message)
        assert gone is not None and table in gone.group(1).split(", "), caught.value.message
    assert "from a backup" in str(caught.value.fix)
    check = db.connect(url)
    assert table not in inspect(check).get_table_names()  # not made again
    check.dispose()


def test_a_database_made_before_the_schema_was_recorded_opens(
    backend_ca: CertificateAuthority,
) -> None:
    """A database of an older lyncpki (no lyncpki_meta, no account_generation) opens: the
    newer tables are added and the schema version recorded; a table it had is required."""
    ca = backend_ca
    ca.engine.dispose()
    url = ca.config.db_url
    _sql(url, "DROP TABLE lyncpki_meta", "DROP TABLE account_generation")
    opened = CertificateAuthority.open(ca.home, PASSPHRASE)
    assert opened.certificates() == []
    assert {"lyncpki_meta", "account_generation"} <= set(inspect(opened.engine).get_table_names())
    with opened.engine.connect() as conn:
        recorded = conn.execute(
            select(db.lyncpki_meta.c.value).where(db.lyncpki_meta.c.name == "schema")
        ).scalar()
    assert recorded == str(db.SCHEMA_VERSION)
    opened.engine.dispose()
    _sql(url, "DROP TABLE lyncpki_meta", "DROP TABLE revocations")
    with pytest.raises(LyncPkiError, match="table revocations is gone"):
        CertificateAuthority.open(ca.home, PASSPHRASE)


def test_a_schema_4_database_gets_the_options_of_pending_requests(
    backend_ca: CertificateAuthority, tmp_path: Path
) -> None:
    """A database of schema 4 (before pending requests kept their options) opens: the table is
    added, version 5 recorded, and a request that waited there from before is approved with
    its template's defaults."""
    ca = backend_ca
    request = openssl_req(tmp_path, subject="/CN=Corp Test Sub CA", sans=None)
    waiting = ca.submit(request, requester="t", template="SubCA")
    assert waiting.request_id is not None
    ca.engine.dispose()
    url = ca.config.db_url
    _sql(
        url,
        "DROP TABLE request_options",
        "UPDATE lyncpki_meta SET value = '4' WHERE name = 'schema'",
    )
    opened = CertificateAuthority.open(ca.home, PASSPHRASE)
    assert "request_options" in set(inspect(opened.engine).get_table_names())
    with opened.engine.connect() as conn:
        recorded = conn.execute(
            select(db.lyncpki_meta.c.value).where(db.lyncpki_meta.c.name == "schema")
        ).scalar()
    assert recorded == "5"
    issued = opened.approve(waiting.request_id, actor="manager")
    assert issued.certificate is not None
    opened.engine.dispose()
