"""CA databases made by older lyncpki versions, opened by this one through the command line:
a schema-1 database (no version recorded, no accounts) is upgraded, not refused as one whose
tables are gone, and the CA then lists, issues, revokes and publishes CRLs openssl accepts."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from ca_tools import PASSPHRASE, crl_text, make_ca, openssl_req, run_openssl, serial_of, write_pem
from cryptography import x509
from old_databases import SCHEMA_1, make_schema_1, table_names
from sqlalchemy import create_engine, delete, select, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner, Result

from lyncpki.ca import database as db
from lyncpki.ca.authority import issuing_thumbprint
from lyncpki.cli.main import app

ENV = {"LYNCPKI_CA_PASSPHRASE": PASSPHRASE.decode(), "COLUMNS": "200"}
runner = CliRunner()


def cli(*args: str | Path) -> Result:
    result = runner.invoke(app, [str(a) for a in args], env=ENV)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """None: SQLite in the home; else a PostgreSQL database of this test alone."""
    return request.getfixturevalue("postgres_url") if request.param == "postgresql" else None


@pytest.mark.external
def test_a_schema_1_database_is_upgraded_and_used(
    db_url: str | None, tmp_path: Path, work: Path
) -> None:
    """A CA whose database lyncpki c81c1b5 made (the five tables of the CA's records, no
    version recorded) was refused: "its tables accounts, login_failures are gone ... restore
    the database from a backup", which no backup could help with."""
    ca = make_ca(tmp_path / "home", db_url)
    home = ca.home.root
    old = ca.submit(openssl_req(work, subject="/CN=old.corp-test.se", sans=None), requester="t")
    assert old.certificate is not None
    old_pem = write_pem(work, "old.pem", old.certificate)
    url = ca.config.db_url
    ca.engine.dispose()
    make_schema_1(url)

    listed = cli("ca", "list", "--json", "--home", home)
    assert listed.exit_code == 0, listed.stderr
    assert serial_of(old_pem).lower() in [row["serial"] for row in json.loads(listed.stdout)]
    engine = db.connect(url)
    try:
        assert set(db.tables_of(db.SCHEMA_VERSION)) <= set(table_names(engine))
        with engine.connect() as conn:
            version = conn.execute(
                select(db.lyncpki_meta.c.value).where(db.lyncpki_meta.c.name == "schema")
            ).scalar()
        assert version == str(db.SCHEMA_VERSION)
        # the audit log of schema 1 had no triggers: it is append-only now
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(update(db.audit).values(detail="rewritten"))
    finally:
        engine.dispose()

    (work / "new.csr").write_bytes(openssl_req(work, subject="/CN=new.corp-test.se", sans=None))
    new_pem = work / "new.pem"
    issued = cli("ca", "issue", work / "new.csr", "-o", new_pem, "--home", home)
    assert issued.exit_code == 0, issued.stderr
    assert _recorded(url) == _thumbprint(home)  # its certificate was this CA's
    revoked = cli("ca", "revoke", serial_of(old_pem), "--reason", "keyCompromise", "--home", home)
    assert revoked.exit_code == 0, revoked.stderr
    published = cli("ca", "crl", "--json", "--home", home)
    assert published.exit_code == 0, published.stderr
    crl = Path(json.loads(published.stdout)["file"])
    text = crl_text(crl)
    assert f"Serial Number: {serial_of(old_pem)}" in text and "Key Compromise" in text
    assert serial_of(new_pem) not in text

    def verify(cert: Path) -> str:
        process = run_openssl(
            "verify", "-crl_check", "-CAfile", home / "ca" / "root.crt",
            "-untrusted", home / "ca" / "issuing.crt", "-CRLfile", crl, cert,
        )  # fmt: skip
        return process.stdout + process.stderr

    assert "certificate revoked" in verify(old_pem)
    assert verify(new_pem).strip() == f"{new_pem}: OK"


def test_schema_1_needs_all_five_of_its_tables(tmp_path: Path) -> None:
    """A schema-1 database that lost a table of its own is still refused (never made again
    empty)."""
    ca = make_ca(tmp_path / "home")
    url = ca.config.db_url
    ca.engine.dispose()
    make_schema_1(url)
    engine = db.connect(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE revocations")
    engine.dispose()
    result = cli("ca", "list", "--home", ca.home.root)
    assert result.exit_code == 2
    assert "table revocations is gone" in result.stderr
    assert "login_failures" not in result.stderr
    engine = db.connect(url)
    assert set(SCHEMA_1) - {"revocations"} == set(table_names(engine))  # nothing made
    engine.dispose()


def test_an_unversioned_database_that_had_accounts_is_not_taken_for_schema_1(
    tmp_path: Path,
) -> None:
    """Its audit log shows an account: its accounts table dropped is refused, not made again
    empty (the accounts would be lost)."""
    ca = make_ca(tmp_path / "home")
    ca.audit("local", "account-add", "mgr", "ok", "manager")
    url = ca.config.db_url
    ca.engine.dispose()
    make_schema_1(url)  # schema 1's tables, with this audit log
    result = cli("ca", "list", "--home", ca.home.root)
    assert result.exit_code == 2
    assert "accounts, login_failures are gone" in result.stderr


# ---------------------------------------------------------------- the issuing CA recorded
def _recorded(url: str) -> str | None:
    engine = db.connect(url)
    try:
        return db.recorded_issuing_ca(engine)
    finally:
        engine.dispose()


def _forget_issuing_ca(url: str) -> None:
    """The database as lyncpki before 81e40ce left it: no issuing CA recorded."""
    engine = db.connect(url)
    with engine.begin() as conn:
        conn.execute(delete(db.lyncpki_meta).where(db.lyncpki_meta.c.name == db.ISSUING_CA))
    engine.dispose()


def _give(home: Path, url: str) -> str:
    """Give `home` the database at `url` (a restore from the wrong backup): a SQLite file copied
    over the home's own (a home never uses another home's ca/ca.sqlite by path), a PostgreSQL
    URL written to its config.json. The URL the home then uses."""
    path = db.sqlite_path(url)
    if path is not None:
        mine = home / "ca" / "ca.sqlite"
        for stale in mine.parent.glob("ca.sqlite*"):
            stale.unlink()
        for suffix in ("", "-wal"):  # what is not checkpointed yet is in the -wal file
            if Path(path + suffix).exists():
                shutil.copyfile(path + suffix, str(mine) + suffix)
        return f"sqlite:///{mine}"
    config = home / "ca" / "config.json"
    data = json.loads(config.read_text())
    data["db_url"] = url
    config.write_text(json.dumps(data))
    return url


def _thumbprint(home: Path) -> str:
    return issuing_thumbprint(
        x509.load_pem_x509_certificate((home / "ca" / "issuing.crt").read_bytes())
    )


@pytest.mark.external
def test_an_older_database_gets_its_issuing_ca_recorded(
    db_url: str | None, tmp_path: Path, work: Path
) -> None:
    """A database made before 81e40ce recorded no issuing CA, and no later open wrote it: a
    home of another CA of the same (default) name given that database published CRLs of this
    CA's revocations under its own key. The first open with the keys records it when the
    database's certificates were signed by the home's CA; the other CA is then refused."""
    ca = make_ca(tmp_path / "a", db_url)
    issued = ca.submit(openssl_req(work), requester="t")
    assert issued.certificate is not None
    url = ca.config.db_url
    ca.engine.dispose()
    _forget_issuing_ca(url)

    assert cli("ca", "list", "--home", ca.home.root).exit_code == 0
    assert _recorded(url) is None  # a read (no keys) writes nothing
    published = cli("ca", "crl", "--home", ca.home.root)
    assert published.exit_code == 0, published.stderr
    assert _recorded(url) == _thumbprint(ca.home.root)

    other = make_ca(tmp_path / "b")  # the same CA name, its own keys
    other.engine.dispose()
    _give(other.home.root, url)
    refused = cli("ca", "crl", "--home", other.home.root)
    assert refused.exit_code == 2
    assert "belongs to another CA" in refused.stderr


@pytest.mark.external
def test_another_cas_older_database_is_refused_and_left_as_it_is(
    db_url: str | None, tmp_path: Path, work: Path
) -> None:
    """Home B given home A's database (a restore from the wrong backup), which records no
    issuing CA: B's CRL listed A's revocations and A's revoked certificate verified again."""
    a = make_ca(tmp_path / "a", db_url)
    issued = a.submit(openssl_req(work), requester="t")
    assert issued.certificate is not None
    url = a.config.db_url
    a.engine.dispose()
    _forget_issuing_ca(url)
    engine = db.connect(url)
    with engine.connect() as conn:
        crls_before = conn.execute(select(db.crls.c.number)).scalars().all()
    engine.dispose()

    b = make_ca(tmp_path / "b")
    b.engine.dispose()
    wrong = _give(b.home.root, url)
    refused = cli("ca", "crl", "--home", b.home.root)
    assert refused.exit_code == 2
    assert "records no issuing CA" in refused.stderr
    assert f"certificate {issued.serial} was not signed by this home's CA" in refused.stderr
    assert "db_url" in refused.stderr  # the fix
    assert _recorded(wrong) is None
    engine = db.connect(wrong)
    with engine.connect() as conn:
        assert conn.execute(select(db.crls.c.number)).scalars().all() == crls_before
    engine.dispose()
    # A itself records it at its next open with the keys
    assert cli("ca", "crl", "--home", a.home.root).exit_code == 0
    assert _recorded(url) == _thumbprint(a.home.root)


def test_an_older_database_without_certificates_is_recorded_as_the_homes(tmp_path: Path) -> None:
    """No certificate to tell by: the database is taken as the home's (its init entry names
    the CA), and recorded."""
    ca = make_ca(tmp_path / "home")
    url = ca.config.db_url
    ca.engine.dispose()
    _forget_issuing_ca(url)
    assert cli("ca", "crl", "--home", ca.home.root).exit_code == 0
    assert _recorded(url) == _thumbprint(ca.home.root)


# ---------------------------------------------------------------- a read-only PostgreSQL role
@pytest.fixture
def reader(postgres_url: str) -> Iterator[tuple[str, str]]:
    """A role of this test that may only read the CA tables of `postgres_url` (an auditor's,
    a monitoring job's): (its name, its URL). Dropped afterwards."""
    role = f"lyncpki_reader_{secrets.token_hex(4)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
    host, name = postgres_url.rsplit("@", 1)[1].rsplit("/", 1)
    try:
        yield role, f"postgresql+psycopg://{role}@{host}/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
            )
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
        admin.dispose()


def _grant_reads(url: str, role: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    engine.dispose()


def test_a_read_only_role_on_an_older_database_is_told_to_have_the_owner_upgrade_it(
    postgres_url: str, reader: tuple[str, str], tmp_path: Path, work: Path
) -> None:
    """`ca list` through a role with only SELECT on a database of an older schema ran the
    migration and failed with "permission denied for schema public" and the fix "create the
    schema (CREATE SCHEMA ...) or correct options=-csearch_path": the schema was there."""
    role, reader_url = reader
    ca = make_ca(tmp_path / "owner", postgres_url)
    assert ca.submit(openssl_req(work), requester="t").certificate is not None
    ca.engine.dispose()
    make_schema_1(postgres_url)
    _grant_reads(postgres_url, role)
    audit_home = tmp_path / "auditor"
    shutil.copytree(ca.home.root, audit_home)
    _give(audit_home, reader_url)

    refused = cli("ca", "list", "--home", audit_home)
    assert refused.exit_code == 2
    assert "has the tables of an older lyncpki (schema 1" in refused.stderr
    assert "permission denied" in refused.stderr
    assert "owner" in refused.stderr and "search_path" not in refused.stderr
    assert f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}" in refused.stderr

    assert cli("ca", "list", "--home", ca.home.root).exit_code == 0  # the owner upgrades it
    _grant_reads(postgres_url, role)  # the new tables, as the old ones were
    listed = cli("ca", "list", "--json", "--home", audit_home)
    assert listed.exit_code == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 1


def test_a_permission_error_on_an_existing_schema_gets_no_search_path_advice() -> None:
    """The fix of "permission denied for schema public" named the URL's search_path; for an
    existing CA database it now names the user and its privileges."""
    url = "postgresql+psycopg://reader@db/pki"
    existing = db._open_fix(url, "permission denied for schema public", existing=True)
    assert "search_path" not in existing and "owns the database" in existing
    new = db._open_fix(url, "permission denied for schema public")
    assert "search_path" not in new and "CREATE ON SCHEMA" in new
    unset = db._open_fix(url, "no schema has been selected to create in")
    assert "search_path" in unset
