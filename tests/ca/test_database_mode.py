"""A SQLite CA database given with --db outside the home: made 0600, and its -wal and -shm
with it (judged by stat). It was SQLite's default 0644: any local user read the CA accounts'
password hashes, and the whole audit, from a folder others may enter."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ENV = {k: v for k, v in os.environ.items() if not k.startswith("LYNCPKI_")} | {
    "LYNCPKI_CA_PASSPHRASE": "correct horse battery",
    "LYNCPKI_ACCOUNT_PASSWORD": "AcctPassw0rd-xyz",
}


def _lyncpki(*args: str) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "lyncpki", *args], env=ENV, capture_output=True, text=True,
        check=False, preexec_fn=lambda: os.umask(0o022),  # the usual umask
    )  # fmt: skip
    assert process.returncode == 0, process.stdout + process.stderr


def _mode(path: Path) -> str:
    return subprocess.run(
        ["stat", "-c", "%a", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.external
def test_a_sqlite_database_outside_the_home_is_0600(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    folder.mkdir(mode=0o755)
    database = folder / "ca.sqlite"
    _lyncpki("ca", "init", "--home", str(tmp_path / "h"), "--name", "D CA", "--domain",
             "contoso.net", "--root-key", "ec-p384", "--key", "ec-p256",
             "--db", f"sqlite:///{database}")  # fmt: skip
    _lyncpki("ca", "account", "add", "admin1", "--role", "manager", "--home", str(tmp_path / "h"))
    assert _mode(database) == "600"
    with sqlite3.connect(database) as reader:  # a reader holding it open: -wal and -shm exist
        reader.execute("select count(*) from accounts").fetchone()
        reader.execute("create table probe (x)")
        assert _mode(Path(f"{database}-wal")) == "600"
        assert _mode(Path(f"{database}-shm")) == "600"
    _lyncpki("ca", "init", "--home", str(tmp_path / "h2"), "--name", "E CA", "--domain",
             "contoso.net", "--root-key", "ec-p384", "--key", "ec-p256")  # fmt: skip
    assert _mode(tmp_path / "h2" / "ca" / "ca.sqlite") == "600"
