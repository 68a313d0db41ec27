"""A `ca init` killed midway (SIGKILL: no cleanup runs) left its keys, certificates and database
without config.json: every later init was refused ("keys but no config.json: restore it from a
backup", of which there is none) and every command said "no CA". The creation writes down what
it makes as it goes; the next init sweeps a dead one's files, never a live one's, never a CA's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from ca_tools import PASSPHRASE, make_ca, openssl

from lyncpki.ca.authority import UNFINISHED_INIT, CertificateAuthority, sweep_dead_init
from lyncpki.ca.home import CaHome

# a child that makes a CA and is killed (SIGKILL, by itself) just before the config is written
DIES_BEFORE_THE_CONFIG = """
import os, signal, sys
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.keyspec import KeySpec
CaHome.write_config = lambda self, config: os.kill(os.getpid(), signal.SIGKILL)
CertificateAuthority.create(
    CaHome(sys.argv[1]), passphrase=sys.argv[2].encode(), namespaces=("corp-test.se",),
    root_key=KeySpec("rsa", 2048), key=KeySpec("rsa", 2048),
    db_url=sys.argv[3] if len(sys.argv) > 3 else None,
)
"""


def test_the_next_init_sweeps_what_a_killed_one_made(tmp_path: Path) -> None:
    home = tmp_path / "home"
    child = subprocess.run(
        [sys.executable, "-c", DIES_BEFORE_THE_CONFIG, str(home), PASSPHRASE.decode()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    ca_home = CaHome(home)
    assert ca_home.key_material() and not ca_home.exists()  # the dead init's leftovers
    assert (home / UNFINISHED_INIT).is_file()
    ca = make_ca(home)  # swept, then made
    try:
        assert not (home / UNFINISHED_INIT).exists()
        verified = openssl("verify", "-CAfile", ca_home.cert_file("root"),
                           ca_home.cert_file("issuing"))  # fmt: skip
        assert verified.strip().endswith(": OK")
    finally:
        ca.engine.dispose()
    leftovers = [p.name for p in home.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_ca_is_never_swept(tmp_path: Path) -> None:
    """A journal left beside a real CA (config.json present) is no reason to remove a file."""
    ca = make_ca(tmp_path / "home")
    ca.engine.dispose()
    keys = sorted(p.name for p in ca.home.ca_dir.iterdir())
    journal = tmp_path / "home" / UNFINISHED_INIT
    journal.write_text(json.dumps({"files": [str(ca.home.key_file("root"))], "folders": []}))
    assert sweep_dead_init(ca.home) is False
    assert sorted(p.name for p in ca.home.ca_dir.iterdir()) == keys
    assert Path(ca.home.key_file("root")).exists()


def test_a_relative_home_is_swept_where_it_is_not_where_one_stands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal named its files relative to the directory the killed init ran in; a later
    sweep resolved them against its own, and deleted the keys of another CA standing there."""
    ran, other = tmp_path / "ran", tmp_path / "other"
    ran.mkdir()
    other.mkdir()
    child = subprocess.run(
        [sys.executable, "-c", DIES_BEFORE_THE_CONFIG, "home", PASSPHRASE.decode()],
        capture_output=True, text=True, timeout=120, check=False, cwd=ran,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    victim = make_ca(other / "home")  # another CA, at the same relative path from `other`
    victim.engine.dispose()
    kept = sorted(p.name for p in victim.home.ca_dir.iterdir())
    monkeypatch.chdir(other)
    result = run_init(ran / "home")  # the CLI, as an administrator runs it
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in victim.home.ca_dir.iterdir()) == kept


def test_a_journal_naming_files_elsewhere_is_not_followed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "ca").mkdir(parents=True)
    (home / "ca" / "root.key").write_text("a dead init's key")
    elsewhere = tmp_path / "precious.key"
    elsewhere.write_text("not the init's")
    (home / UNFINISHED_INIT).write_text(
        json.dumps({"files": [str(home / "ca" / "root.key"), str(elsewhere)], "folders": []})
    )
    assert sweep_dead_init(CaHome(home)) is False
    assert elsewhere.exists() and (home / "ca" / "root.key").exists()


def run_init(home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNCPKI_")}
    env["LYNCPKI_CA_PASSPHRASE"] = PASSPHRASE.decode()
    return subprocess.run(
        [sys.executable, "-m", "lyncpki", "ca", "init", "--home", str(home), "--domain",
         "corp-test.se", "--root-key", "rsa2048"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.external
def test_a_killed_init_on_postgresql_leaves_the_database_to_the_next(
    tmp_path: Path, postgres_url: str
) -> None:
    """Killed after it had claimed a PostgreSQL database (its tables, its init record), an
    init left it claimed: the next `ca init` was refused, "already holds a CA", and told to
    make another database. The next one now drops what the dead one claimed, and goes on."""
    home = tmp_path / "home"
    child = subprocess.run(
        [sys.executable, "-c", DIES_BEFORE_THE_CONFIG, str(home), PASSPHRASE.decode(),
         postgres_url],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    database = postgres_url.rsplit("/", 1)[1]
    psql = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-Atc"]
    count = "SELECT count(*) FROM audit WHERE action = 'init'"
    before = subprocess.run([*psql, count], capture_output=True, text=True, check=True)
    assert before.stdout.strip() == "1"  # the dead init's claim
    ca = make_ca(home, postgres_url)  # swept, database and all, then made
    try:
        assert not (home / UNFINISHED_INIT).exists()
    finally:
        ca.engine.dispose()
    after = subprocess.run([*psql, count], capture_output=True, text=True, check=True)
    assert after.stdout.strip() == "1"  # this init's own record alone


@pytest.mark.external
def test_a_journal_never_drops_another_cas_database(tmp_path: Path, postgres_url: str) -> None:
    """The sweep drops a database's tables only when it records the dead init's own issuing
    CA: a journal naming a live CA's database (by mistake, or a copied home) leaves it be."""
    live = make_ca(tmp_path / "live", postgres_url)
    live.engine.dispose()
    dead = tmp_path / "dead"
    dead.mkdir()
    claimed = {"url": postgres_url, "issuing_ca": "00" * 32}
    listed = {"files": [], "folders": [], "database": claimed}
    (dead / UNFINISHED_INIT).write_text(json.dumps(listed))
    assert sweep_dead_init(CaHome(dead))
    reopened = CertificateAuthority.open(CaHome(tmp_path / "live"), PASSPHRASE)
    try:
        assert reopened.audit_log(50)  # its tables and records are all there
    finally:
        reopened.engine.dispose()
