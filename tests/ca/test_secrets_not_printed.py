"""A database password is never printed, whatever the URL's shape or the error: a password in
the URL's query (`?password=`, `?passfile=`), in a URL lacking its `//`, and the values of a
statement the database refused (an account's scrypt hash was printed with the SQL)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from test_cli_init import cli, env, init

from lyncpki.ca import database as db

PASSWORD = "S3cret-Pw-9xq"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg://ca@db:5432/pki?password={PASSWORD}",
        f"postgresql+psycopg://ca@db:5432/pki?sslmode=require&passfile=/etc/{PASSWORD}",
        f"postgresql+psycopg://ca:{PASSWORD}@db:5432/pki?sslpassword={PASSWORD}",
        f"postgresql+psycopg:/postgres:{PASSWORD}@127.0.0.1:5432/x",  # no //
        f"postgresql+psycopg://u:{PASSWORD}@127.0.0.1:54x2/db",  # a port that is no number
        f"postgresql+psycopg://u:{PASSWORD}@[::1/db",
        f"postgresql://u:p@{PASSWORD}@h/d",  # an unescaped @ in the password
        f"host=127.0.0.1 password={PASSWORD} dbname=test",  # libpq's key=value form
        f"host=127.0.0.1 password='{PASSWORD} x' dbname=test",
    ],
)
def test_redact_hides_every_password(url: str) -> None:
    shown = db.redact(url)
    assert PASSWORD not in shown
    assert "***" in shown


def test_redact_keeps_a_url_without_secrets_as_written() -> None:
    for url in (
        "sqlite:////srv/a b/ca.sqlite",
        "postgresql+psycopg://ca@db:5432/pki?sslmode=require",
    ):
        assert db.redact(url) == url


def _psql(database: str, sql: str) -> None:
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed")
    subprocess.run(
        [psql, "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1",
         "-qc", sql],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def test_a_query_password_is_not_in_the_init_output(tmp_path: Path, postgres_url: str) -> None:
    """`ca init --json` printed "database": "...?password=S3cret"; the refusal of a second CA
    in the same database printed it too."""
    url = f"{postgres_url}?password={PASSWORD}"  # trust auth: the password is not checked
    made = init(tmp_path / "h", "--domain", "corp-test.se", "--db", url, "--json")
    assert made.exit_code == 0, made.stderr
    assert PASSWORD not in made.stdout + made.stderr
    assert json.loads(made.stdout)["database"].endswith("?password=***")
    again = init(tmp_path / "h2", "--domain", "corp-test.se", "--db", url)
    assert again.exit_code == 2
    assert "already holds a CA" in again.stderr
    assert PASSWORD not in again.stdout + again.stderr


def test_a_url_without_its_slashes_is_not_echoed(tmp_path: Path) -> None:
    url = f"postgresql+psycopg:/postgres:{PASSWORD}@127.0.0.1:5432/x"
    result = init(tmp_path / "h", "--domain", "corp-test.se", "--db", url)
    assert result.exit_code == 2
    assert "is not a database URL" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr


def test_a_libpq_key_value_string_is_refused_without_its_password(tmp_path: Path) -> None:
    """`--db 'host=... password=S3cret dbname=...'` printed the password in its refusal."""
    result = init(tmp_path / "h", "--domain", "corp-test.se", "--db",
                  f"host=127.0.0.1 password={PASSWORD} dbname=test")  # fmt: skip
    assert result.exit_code == 2
    assert "libpq key=value string is not read" in result.stderr
    assert "postgresql+psycopg://" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr


def test_postgres_urls_of_psql_are_read_with_lyncpkis_driver(
    tmp_path: Path, postgres_url: str
) -> None:
    """`postgres://` (psql's, libpq's) said "Can't load plugin: sqlalchemy.dialects:postgres";
    `postgresql://` asked for psycopg2, which lyncpki does not have. Both are psycopg 3's."""
    rest = postgres_url.partition("://")[2]
    made = init(tmp_path / "h", "--domain", "corp-test.se", "--db", f"postgres://{rest}",
                "--json")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    assert json.loads(made.stdout)["database"].startswith("postgresql+psycopg://")


def test_a_refused_statement_shows_neither_sql_nor_values(
    tmp_path: Path, postgres_url: str
) -> None:
    """A column narrowed by hand (psql): the refused INSERT of an account was an internal
    error (exit 70) printing the statement and its parameters, the scrypt hash among them."""
    home = tmp_path / "h"
    assert init(home, "--domain", "corp-test.se", "--db", postgres_url).exit_code == 0
    _psql(postgres_url.rsplit("/", 1)[1],
          "ALTER TABLE accounts ALTER COLUMN password_hash TYPE varchar(10)")  # fmt: skip
    password_file = tmp_path / "password"
    password_file.write_text("an-account-password-1\n")
    for json_flag in ([], ["--json"]):
        result = cli(
            "ca", "account", "add", "bob", "--home", home, "--password-file", password_file,
            *json_flag, environment=env(),
        )  # fmt: skip
        output = result.stdout + result.stderr
        assert result.exit_code == 2, output
        assert "value too long" in output
        for leaked in ("scrypt", "INSERT", "parameters", "an-account-password"):
            assert leaked not in output, output


def test_a_missing_ca_database_names_a_mistyped_schema_as_a_cause() -> None:
    """A search_path naming a schema that does not exist finds no CA table: the fix said only
    to restore a backup, never to look at the schema's name."""
    with_schema = "postgresql+psycopg://u@h/test?options=-csearch_path%3Dwalk_nosuch"
    said = db.missing_or_empty(with_schema, "the CA in /x")
    assert "options=-csearch_path" in (said.fix or "") and "restore it" in (said.fix or "")
    plain = db.missing_or_empty("postgresql+psycopg://u@h/test", "the CA in /x")
    assert "search_path" not in (plain.fix or "")
