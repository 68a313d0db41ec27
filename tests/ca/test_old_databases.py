"""CA databases made by older lyncpki versions, opened by this one through the command line:
a schema-1 database (no version recorded, no accounts) is upgraded, not refused as one whose
tables are gone, and the CA then lists, issues, revokes and publishes CRLs openssl accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ca_tools import PASSPHRASE, crl_text, make_ca, openssl_req, run_openssl, serial_of, write_pem
from old_databases import SCHEMA_1, make_schema_1, table_names
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner, Result

from lyncpki.ca import database as db
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
