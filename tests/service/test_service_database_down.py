"""The CA's PostgreSQL database unreachable while `ca serve` runs: the service says the CA is
unavailable (503, Retry-After), the client calls it unavailable (not "the CA refused"), and
both recover when the database comes back. It was a generic 500 with a traceback in the log,
reported by the client as a policy refusal."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from service_tools import (
    PASSWORDS,
    free_port,
    init_ca,
    lyncpki,
    openssl_req,
    start_server,
    stop_server,
)
from sqlalchemy import create_engine, text

from lyncpki.ca import database as db
from lyncpki.ca.client import CaClient, CaUnreachable

PKCS10 = {"Content-Type": "application/pkcs10"}

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _connections(database: str, allowed: bool) -> None:
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(
                text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}')
            )
            if not allowed:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name"
                    ),
                    {"name": database},
                )
    finally:
        admin.dispose()


@pytest.mark.external
def test_a_database_outage_is_unavailable_then_recovers(tmp_path: Path, postgres_url: str) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    port = free_port()
    home = tmp_path / "home"
    init_ca(home, port, db=postgres_url, accounts=("fe01",))
    server = start_server(home, port, tmp_path / "serve.log")
    url = f"http://127.0.0.1:{port}"
    try:
        _connections(database, allowed=False)
        try:
            down = httpx.get(f"{url}/health", timeout=30)
            with CaClient(url, timeout=30) as client, pytest.raises(CaUnreachable) as said:
                client.health()
        finally:
            _connections(database, allowed=True)
        up = httpx.get(f"{url}/health", timeout=30)
    finally:
        stop_server(server)
    assert down.status_code == 503, down.text
    assert down.headers["retry-after"] == "30"
    assert down.json()["error"] == "unavailable" and "database" in down.json()["message"]
    assert said.value.status == 503 and "not available" in said.value.message
    assert up.status_code == 200 and up.json()["status"] == "ok"


def _psql(*statements: str) -> None:
    """Each statement on its own (DROP DATABASE runs outside a transaction), by psql."""
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed")
    args = [psql, "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-v", "ON_ERROR_STOP=1"]
    for statement in statements:
        args += ["-c", statement]
    subprocess.run(args, check=True, capture_output=True, timeout=60)


@pytest.mark.external
def test_a_database_made_again_empty_is_503_and_to_be_restored(
    tmp_path: Path, postgres_url: str
) -> None:
    """The CA's database dropped and created again empty while `ca serve` runs: /health said
    "ok" and every enrollment was a 500 internal error. Both are 503 "missing or empty:
    restore it from a backup", as is an empty database with the tables made by hand; the
    command line, when the database is gone, says to restore it (it said "createdb")."""
    database = postgres_url.rsplit("/", 1)[1]
    port = free_port()
    home = tmp_path / "home"
    init_ca(home, port, db=postgres_url, accounts=("fe01",))
    server = start_server(home, port, tmp_path / "serve.log")
    url = f"http://127.0.0.1:{port}"
    csr = openssl_req(tmp_path).read_bytes()
    fe01 = ("fe01", PASSWORDS["fe01"])
    try:
        _psql(f'DROP DATABASE "{database}" WITH (FORCE)', f'CREATE DATABASE "{database}"')
        empty = httpx.get(f"{url}/health", timeout=30)
        enroll = httpx.post(
            f"{url}/api/v1/enroll", content=csr, headers=PKCS10, auth=fe01, timeout=30
        )
        status = httpx.get(f"{url}/api/v1/requests/1", auth=fe01, timeout=30)
        db.connect(postgres_url, create=True).dispose()  # the tables, made again by hand
        tables_only = httpx.get(f"{url}/health", timeout=30)
    finally:
        stop_server(server)
    for answer in (empty, enroll, status, tables_only):
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"] == "unavailable"
        assert "missing or empty: restore it from a backup" in answer.json()["message"]
    assert "Traceback" not in (tmp_path / "serve.log").read_text()

    _psql(f'DROP DATABASE "{database}" WITH (FORCE)')
    listed = lyncpki("ca", "list", "--home", home, check=False)
    assert listed.returncode == 2, listed.stderr
    assert "does not exist" in listed.stderr
    assert "restore the CA database from a backup" in listed.stderr
    assert "createdb NAME) or" not in listed.stderr


def test_a_table_sqlite_lacks_is_503_to_be_restored(tmp_path: Path) -> None:
    """SQLite's "no such table" (a table dropped, the file replaced) is the same 503, not the
    "cannot be reached, retry later" of a database that is down."""
    import json
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from lyncpki.service.errors import response_for

    connection = sqlite3.connect(tmp_path / "x.sqlite")
    try:
        with pytest.raises(sqlite3.OperationalError) as raised:
            connection.execute("SELECT * FROM accounts")
    finally:
        connection.close()
    answer = response_for(OperationalError("SELECT * FROM accounts", None, raised.value))
    assert answer.status_code == 503
    assert json.loads(bytes(answer.body))["message"] == db.CA_DATABASE_GONE
