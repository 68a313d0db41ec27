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
