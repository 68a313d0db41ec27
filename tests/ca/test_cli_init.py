"""`lyncpki ca init` refusing what it cannot make a sound CA of, each with exit 2, a message and
a fix, and leaving nothing behind (no skeleton home, no lock file): malformed names and base
URLs, contradicting options, empty or short passphrases, a database that already holds a CA, a
SQLite path that would be read from another folder later."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ca_tools import openssl, openssl_req, serial_of
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner, Result

from lyncpki.ca import database as db
from lyncpki.ca.accounts import Accounts, Role
from lyncpki.cli.main import app
from lyncpki.errors import LyncPkiError

SECRET = "pw-init-tests-Lq2-9"
FAST = ("--root-key", "ec-p384", "--key", "ec-p256")  # CA keys made in milliseconds

runner = CliRunner()


def env(**more: str) -> dict[str, str]:
    return {"LYNCPKI_CA_PASSPHRASE": SECRET, "COLUMNS": "200"} | more


def cli(*args: str | Path, environment: dict[str, str] | None = None) -> Result:
    result = runner.invoke(app, [str(a) for a in args], env=environment or env())
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "internal error" not in output, output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def init(home: Path, *args: str | Path, environment: dict[str, str] | None = None) -> Result:
    return cli("ca", "init", "--home", home, *FAST, *args, environment=environment)


def assert_refused(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "error:" in result.stderr and "fix:" in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


# ---------------------------------------------------------------- inputs, nothing left behind
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--base-url", "http://"], ["names no host"]),
        (["--base-url", "http://:8080/pki"], ["names no host"]),
        (["--base-url", "http://pki.contoso.com?x=1#f"], ["query or fragment"]),
        (["--base-url", "http://pki.contoso.com/#f"], ["query or fragment"]),
        (["--base-url", "http://pki.con toso.com"], ["spaces"]),
        (["--base-url", "http://pki.contoso.com:99999"], ["invalid port"]),
        (["--base-url", "http://user:pw@pki.contoso.com"], ["credentials"]),
        (["--base-url", "http://pki_1.contoso.com"], ["invalid host"]),
        (["--base-url", "ftp://pki.contoso.com"], ["not an http(s) URL"]),
        # an internationalised host was an internal error (exit 70) deep in cryptography
        (["--base-url", "http://pkí.contoso.com"], ["A-label", "http://xn--pk-oja.contoso.com"]),
        # a non-ASCII path was an internal error (exit 70); port 0 and 999.1.1.1 were accepted
        (["--base-url", "http://pki.contoso.com/é"], ["not ASCII", "/%C3%A9"]),
        (["--base-url", "http://pki.contoso.com:0"], ["port 0"]),
        (["--base-url", "http://999.1.1.1"], ["invalid host"]),
        # a name longer than a certificate's CN (64) or empty was an internal error (exit 70)
        (["--name", ""], ["--name is empty"]),
        (["--name", "   "], ["--name is empty"]),
        (["--name", "A" * 70], ["--name is 70 characters long", "at most 64"]),
        (["--name", "A" * 62], ["root CA's name", "67 characters", "--root-name"]),
        (["--root-name", "R" * 65], ["--root-name is 65 characters"]),
        (["--name", "Issuing\x1b[31m CA"], ["--name holds control"]),
        (["--org", "Contoso\x1b]0;owned\x07"], ["--org holds control"]),
        (["--org", "Contoso\nLtd"], ["--org holds control"]),
        (["--org", "O" * 65], ["--org is 65 characters"]),
        (["--name", "Corp CA", "--root-name", "corp-ca"], ["same file and URL name"]),
        (["--key", "ec-p521"], ["not offered for a CA key"]),
        (["--db", "nosuchdb://x"], ["cannot use database URL"]),
        (["--db", "sqlite://"], ["in-memory database"]),
        (["--db", "postgresql+psycopg://postgres:pw@127.0.0.1:1/none"], ["cannot read"]),
        # a port or host SQLAlchemy cannot read was a ValueError: "a bug in lyncpki", exit 70
        (["--db", "postgresql+psycopg://u:pw@127.0.0.1:54x2/db"], ["host or port is malformed"]),
        (["--db", "postgresql+psycopg://u:pw@[::1/db"], ["host or port is malformed"]),
    ],
)
def test_refused_inputs_leave_nothing(tmp_path: Path, args: list[str], words: list[str]) -> None:
    home = tmp_path / "h"
    result = init(home, "--domain", "contoso.com", *args)
    assert_refused(result, *words)
    assert not home.exists(), sorted(p.name for p in home.rglob("*"))
    assert sorted(tmp_path.iterdir()) == []


def test_a_sqlite_file_in_a_missing_folder(tmp_path: Path) -> None:
    result = init(
        tmp_path / "h", "--domain", "contoso.com", "--db", f"sqlite:///{tmp_path}/no/ca.sqlite"
    )
    assert_refused(result, f"folder {tmp_path}/no does not exist", "mkdir -p")
    assert sorted(tmp_path.iterdir()) == []


def test_no_passphrase_leaves_nothing(tmp_path: Path) -> None:
    result = init(tmp_path / "h", "--domain", "contoso.com", environment={"COLUMNS": "200"})
    assert_refused(result, "no passphrase given")
    assert sorted(tmp_path.iterdir()) == []


def test_an_empty_passphrase_file_is_an_error(tmp_path: Path) -> None:
    """An empty --passphrase-file was passed over for LYNCPKI_CA_PASSPHRASE (or the prompt):
    the CA's keys were protected by another passphrase than the one in the file named."""
    empty = tmp_path / "pf"
    empty.write_text("\n")
    result = init(tmp_path / "h", "--domain", "contoso.com", "--passphrase-file", empty)
    assert_refused(result, f"passphrase file {empty} is empty")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pf"]


@pytest.mark.parametrize(
    ("passphrase", "words"),
    [
        ("pw-Zq8", "shorter than 12 characters"),
        ("eleven-char", "shorter than 12 characters"),
        ("x" * 12, "fewer than 5 different characters"),  # was taken
        (" " * 12, "begins or ends with a space"),  # was taken
        ("a-passphrase-of-mine ", "begins or ends with a space"),  # a file could not give it
    ],
)
def test_a_weak_passphrase_is_refused(tmp_path: Path, passphrase: str, words: str) -> None:
    result = init(
        tmp_path / "h",
        "--domain",
        "contoso.com",
        environment=env(LYNCPKI_CA_PASSPHRASE=passphrase),
    )
    assert_refused(result, words)
    if passphrase.strip():
        assert passphrase.strip() not in result.stdout + result.stderr
    assert sorted(tmp_path.iterdir()) == []


def test_twelve_characters_of_five_kinds_are_enough(tmp_path: Path) -> None:
    result = init(
        tmp_path / "h",
        "--domain",
        "contoso.com",
        environment=env(LYNCPKI_CA_PASSPHRASE="xyzzy" * 2 + "ab"),
    )
    assert result.exit_code == 0, result.stderr


# ---------------------------------------------------------------- contradicting options
def test_passphrase_file_and_generate(tmp_path: Path) -> None:
    """The file was silently ignored for a generated passphrase."""
    pf = tmp_path / "pf"
    pf.write_text("a-passphrase-of-mine\n")
    result = init(
        tmp_path / "h", "--domain", "contoso.com", "--passphrase-file", pf,
        "--generate-passphrase", environment={"COLUMNS": "200"},
    )  # fmt: skip
    assert_refused(result, "--generate-passphrase contradicts --passphrase-file")
    assert not (tmp_path / "h").exists()


def test_environment_passphrase_and_generate(tmp_path: Path) -> None:
    """The environment was ignored at init but taken by every later command, which then
    failed with "wrong passphrase"."""
    result = init(tmp_path / "h", "--domain", "contoso.com", "--generate-passphrase")
    assert_refused(result, "LYNCPKI_CA_PASSPHRASE is set", "unset LYNCPKI_CA_PASSPHRASE")
    assert not (tmp_path / "h").exists()


@pytest.mark.parametrize("namespaces", [["--domain", "contoso.com"], ["--topology", "t.yaml"]])
def test_domain_and_any_domain(tmp_path: Path, namespaces: list[str]) -> None:
    """--any-domain was silently ignored beside --domain."""
    result = init(tmp_path / "h", *namespaces, "--any-domain")
    assert_refused(result, "--any-domain contradicts --domain/--topology")
    assert not (tmp_path / "h").exists()


def test_generated_passphrase_opens_the_ca_later(tmp_path: Path) -> None:
    home = tmp_path / "h"
    clean = {"COLUMNS": "200"}
    made = init(home, "--domain", "contoso.com", "--generate-passphrase", environment=clean)
    assert made.exit_code == 0, made.stderr
    crl = cli("ca", "crl", "--home", home, environment=clean)
    assert crl.exit_code == 0, crl.stderr


def test_key_help_lists_what_is_accepted() -> None:
    """--key took ec-p384 while its help listed rsa2048|rsa4096|ec-p256."""
    text = cli("ca", "init", "--help", environment={"COLUMNS": "300"}).stdout
    assert "Issuing CA key: rsa2048 | rsa4096 | ec-p256 | ec-p384" in " ".join(text.split())
    assert "Root CA key: rsa4096 | rsa2048 | ec-p384" in " ".join(text.split())


def test_every_key_in_the_help_is_accepted(tmp_path: Path) -> None:
    for index, key in enumerate(("rsa2048", "ec-p256", "ec-p384")):
        result = cli(
            "ca", "init", "--home", tmp_path / str(index), "--domain", "contoso.com",
            "--root-key", "ec-p384", "--key", key,
        )  # fmt: skip
        assert result.exit_code == 0, (key, result.stderr)


# ---------------------------------------------------------------- the database
def test_a_relative_sqlite_path_is_kept_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, work: Path
) -> None:
    """`--db sqlite:///rel.sqlite` was kept relative and opened against the current folder of
    each later command: run from elsewhere, the CA was split in two databases."""
    monkeypatch.chdir(tmp_path)
    made = init(Path("rel"), "--domain", "corp-test.se", "--db", "sqlite:///rel.sqlite")
    assert made.exit_code == 0, made.stderr
    config = json.loads((tmp_path / "rel" / "ca" / "config.json").read_text())
    assert config["db_url"] == f"sqlite:///{(tmp_path / 'rel.sqlite').resolve()}"
    (work / "r.csr").write_bytes(openssl_req(work))
    issued = cli("ca", "issue", work / "r.csr", "-o", work / "r.pem", "--home", "rel")
    assert issued.exit_code == 0, issued.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    listed = cli("ca", "list", "--json", "--home", tmp_path / "rel")
    assert listed.exit_code == 0, listed.stderr
    assert [r["serial"] for r in json.loads(listed.stdout)] == [serial_of(work / "r.pem").lower()]
    assert list(elsewhere.iterdir()) == []  # no second database made here


def _serials(home: Path) -> list[str]:
    listed = cli("ca", "list", "--json", "--home", home)
    assert listed.exit_code == 0, listed.stderr
    return sorted(r["serial"] for r in json.loads(listed.stdout))


def _refuses_a_second_ca(tmp_path: Path, url: str, work: Path) -> None:
    first = init(tmp_path / "a", "--domain", "corp-test.se", "--db", url)
    assert first.exit_code == 0, first.stderr
    (work / "a.csr").write_bytes(openssl_req(work))
    assert cli("ca", "issue", work / "a.csr", "--home", tmp_path / "a").exit_code == 0
    before = _serials(tmp_path / "a")

    second = init(tmp_path / "b", "--domain", "corp-test.se", "--db", url)
    assert_refused(second, "already holds a CA", "1 certificate", "a database of its own")
    assert not (tmp_path / "b").exists()
    assert _serials(tmp_path / "a") == before  # the first CA untouched


def test_init_refuses_a_sqlite_database_holding_a_ca(tmp_path: Path, work: Path) -> None:
    _refuses_a_second_ca(tmp_path, f"sqlite:///{tmp_path / 'shared.sqlite'}", work)


def test_init_refuses_a_postgresql_database_holding_a_ca(
    tmp_path: Path, work: Path, postgres_url: str
) -> None:
    """On PostgreSQL the second CA listed the first's certificates and put the first's
    revocations on its own CRL; the accounts table made a manager of one a manager of both."""
    _refuses_a_second_ca(tmp_path, postgres_url, work)


def test_init_refuses_a_database_holding_only_accounts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'accounts.sqlite'}"
    engine = db.connect(url, create=True)
    Accounts(engine).add("boss", Role.MANAGER, "a-manager-password")
    engine.dispose()
    result = init(tmp_path / "h", "--domain", "corp-test.se", "--db", url)
    assert_refused(result, "already holds a CA (1 account)")


@pytest.mark.parametrize("lost", [["config.json", "ca.sqlite"], ["config.json"]])
def test_init_keeps_the_keys_of_a_ca_whose_config_is_lost(tmp_path: Path, lost: list[str]) -> None:
    """With config.json gone (and the database, or not), `ca init` wrote new root and issuing
    keys over the CA's: exit 0, the old keys destroyed (found by an exploratory test)."""
    home = tmp_path / "h"
    assert init(home, "--domain", "corp-test.se").exit_code == 0
    for name in lost:
        (home / "ca" / name).unlink()
    before = {
        p.name: p.read_bytes() for p in (home / "ca").iterdir() if p.suffix in {".key", ".crt"}
    }
    assert set(before) == {"root.key", "root.crt", "issuing.key", "issuing.crt"}
    result = init(home, "--domain", "corp-test.se")
    assert_refused(result, "no config.json", "root.key", "never overwritten")
    after = {
        p.name: p.read_bytes() for p in (home / "ca").iterdir() if p.suffix in {".key", ".crt"}
    }
    assert after == before
    assert not (home / "ca" / "config.json").exists()


def test_init_refuses_a_lone_root_key(tmp_path: Path) -> None:
    home = tmp_path / "h"
    (home / "ca").mkdir(parents=True)
    (home / "ca" / "root.key").write_bytes(b"a key kept by hand")
    assert_refused(init(home, "--domain", "corp-test.se"), "(root.key)")
    assert (home / "ca" / "root.key").read_bytes() == b"a key kept by hand"


def test_an_empty_postgresql_database_is_taken(tmp_path: Path, postgres_url: str) -> None:
    made = init(tmp_path / "h", "--domain", "corp-test.se", "--db", postgres_url)
    assert made.exit_code == 0, made.stderr
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        inits = conn.execute(
            select(func.count()).select_from(db.audit).where(db.audit.c.action == "init")
        ).scalar()
    engine.dispose()
    assert inits == 1


def test_a_failed_creation_removes_what_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the checks (here: the database claimed by another init at the last
    moment) removes the keys, folders, lock file and new SQLite database it made."""

    def taken(*_: object, **__: object) -> None:
        raise LyncPkiError("the database was taken meanwhile", "retry")

    monkeypatch.setattr(db, "claim", taken)
    result = init(tmp_path / "h", "--domain", "corp-test.se")
    assert_refused(result, "taken meanwhile")
    assert sorted(tmp_path.iterdir()) == []


def test_a_failed_creation_in_an_existing_home_keeps_what_was_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "h"
    (home / "stores").mkdir(parents=True)
    (home / "stores" / "keep.txt").write_text("a server store")

    def taken(*_: object, **__: object) -> None:
        raise LyncPkiError("the database was taken meanwhile", "retry")

    monkeypatch.setattr(db, "claim", taken)
    assert_refused(init(home, "--domain", "corp-test.se"), "taken meanwhile")
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == [
        "stores",
        "stores/keep.txt",
    ]


def test_openssl_reads_the_base_url_given(tmp_path: Path) -> None:
    home = tmp_path / "h"
    made = init(home, "--domain", "corp-test.se", "--base-url", "HTTP://PKI.corp-test.se:8080/pki/")
    assert made.exit_code == 0, made.stderr
    text = openssl(
        "x509", "-in", home / "ca" / "issuing.crt", "-noout", "-ext", "crlDistributionPoints"
    )
    assert "URI:http://PKI.corp-test.se:8080/pki/crl/lyncpki-root-ca.crl" in text


def test_an_https_base_url_is_made_with_a_warning(tmp_path: Path) -> None:
    """HTTPS CRL and AIA URLs went into every certificate without a word (R-GEN-03: CRLs are
    fetched over HTTP); they are kept (some sites publish so) and said, in text and JSON."""
    said = init(
        tmp_path / "h", "--domain", "contoso.com", "--base-url", "https://pki.contoso.com:8443"
    )
    assert said.exit_code == 0, said.stderr
    assert said.stderr.startswith("warning: the CRL and AIA URLs are HTTPS"), said.stderr
    cdp = openssl("x509", "-in", tmp_path / "h" / "ca" / "issuing.crt", "-noout", "-ext",
                  "crlDistributionPoints")  # fmt: skip
    assert "URI:https://pki.contoso.com:8443/crl/" in cdp
    quiet = init(tmp_path / "j", "--any-domain", "--base-url", "https://pki.contoso.com", "--json")
    assert "R-GEN-03" in json.loads(quiet.stdout)["warnings"][0] and quiet.stderr == ""
    plain = init(tmp_path / "k", "--any-domain", "--base-url", "http://pki.contoso.com")
    assert "warning" not in plain.stderr


def _tables(url: str) -> list[str]:
    """The tables in the database, as its own tool lists them (psql, sqlite3)."""
    import shutil
    import subprocess

    path = db.sqlite_path(url)
    if path is not None:
        command = [shutil.which("sqlite3") or "sqlite3", path, ".tables"]
    else:
        command = [shutil.which("psql") or "psql", "-h", "127.0.0.1", "-U", "postgres", "-d",
                   url.rsplit("/", 1)[1], "-Atc",
                   "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"]  # fmt: skip
    process = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return process.stdout.split()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_creation_that_cannot_publish_its_crls_leaves_the_database_empty(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    """A folder where the first CRL must go: init failed saying "this attempt kept nothing",
    but the database kept its tables, init record and CRL numbers, and the next init (the
    folder removed) was refused: "already holds a CA"."""
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_url")
    else:  # a database file given, made beforehand (empty): not this creation's to remove
        (tmp_path / "given.sqlite").write_bytes(b"")
        url = f"sqlite:///{tmp_path / 'given.sqlite'}"
    home = tmp_path / "h"
    blocked = home / "publish" / "crl" / "corp-issuing-ca.crl"
    blocked.mkdir(parents=True)
    failed = init(home, "--name", "Corp Issuing CA", "--domain", "corp-test.se", "--db", url)
    assert_refused(failed, "could not publish the new CA's first CRLs", "kept nothing")
    assert _tables(url) == []
    blocked.rmdir()
    again = init(home, "--name", "Corp Issuing CA", "--domain", "corp-test.se", "--db", url)
    assert again.exit_code == 0, again.stderr
    assert "audit" in _tables(url)
