"""A home copied or restored elsewhere (`cp -a`, a backup) uses its own database: config.json
named the first home's SQLite file by its absolute path, so the copy read and wrote the
original's inventory and revocations (a revocation made in the copy renewed certificates of
the original at its next deploy)."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from ca_tools import PASSPHRASE, make_ca, openssl, openssl_req
from sqlalchemy import delete, select

from lyncpki.ca import database as db
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.errors import LyncPkiError


def test_a_copied_home_writes_its_own_database(tmp_path: Path) -> None:
    first = make_ca(tmp_path / "first")
    first.engine.dispose()
    shutil.copytree(tmp_path / "first", tmp_path / "copy", symlinks=True)
    copy = CertificateAuthority.open(CaHome(tmp_path / "copy"), PASSPHRASE)
    try:
        assert copy.engine.url.database == str((tmp_path / "copy" / "ca" / "ca.sqlite").resolve())
        issued = copy.submit(openssl_req(tmp_path), requester="t")
        assert issued.status == "issued"
        copy.revoke(issued.serial, actor="t")
        in_copy = {row["serial"] for row in copy.certificates()}
    finally:
        copy.engine.dispose()
    original = CertificateAuthority.open(CaHome(tmp_path / "first"), PASSPHRASE)
    try:
        assert issued.serial in in_copy
        assert issued.serial not in {row["serial"] for row in original.certificates()}
    finally:
        original.engine.dispose()


def test_a_copy_without_its_database_is_refused_not_sent_to_the_original(tmp_path: Path) -> None:
    """A backup restored without ca.sqlite (or a copy whose database was deleted to start
    afresh) revoked and issued in the original CA's database, which config.json names."""
    first = make_ca(tmp_path / "first")
    issued = first.submit(openssl_req(tmp_path), requester="t")
    first.engine.dispose()
    shutil.copytree(tmp_path / "first", tmp_path / "copy", symlinks=True)
    (tmp_path / "copy" / "ca" / "ca.sqlite").unlink()
    with pytest.raises(LyncPkiError) as refused:
        CertificateAuthority.open(CaHome(tmp_path / "copy"), PASSPHRASE)
    assert "ca.sqlite" in refused.value.message and refused.value.fix
    original = CertificateAuthority.open(CaHome(tmp_path / "first"), PASSPHRASE)
    try:
        assert original.certificate(issued.serial)[0]["status"] == "valid"
    finally:
        original.engine.dispose()


def _issuing_sha256(home: Path) -> str:
    """The SHA-256 thumbprint of the home's issuing.crt, as openssl prints it."""
    out = openssl("x509", "-in", home / "ca" / "issuing.crt", "-noout", "-fingerprint", "-sha256")
    return out.strip().split("=", 1)[1].replace(":", "")


def test_another_ca_of_the_same_name_is_refused_its_database(
    tmp_path: Path, postgres_url: str
) -> None:
    """Two CAs of one name (one slug), the second's home pointed at the first's database:
    the init entry of the same name was all open_existing looked for, and the second CA
    listed, revoked and numbered CRLs in the first's database."""
    first = make_ca(tmp_path / "first", postgres_url)
    issued = first.submit(openssl_req(tmp_path), requester="t")
    first.engine.dispose()
    second = make_ca(tmp_path / "second")  # the same name, its own SQLite database
    second.engine.dispose()
    home = CaHome(tmp_path / "second")
    home.write_config(replace(home.read_config(), db_url=postgres_url))
    with pytest.raises(LyncPkiError, match="belongs to another CA") as refused:
        CertificateAuthority.open(home, PASSPHRASE)
    assert _issuing_sha256(tmp_path / "first") in refused.value.message
    assert _issuing_sha256(tmp_path / "second") in refused.value.message
    assert "config.json" in str(refused.value.fix)
    with pytest.raises(LyncPkiError, match="belongs to another CA"):
        CertificateAuthority.open(home, None)  # read-only commands too (ca list)
    original = CertificateAuthority.open(CaHome(tmp_path / "first"), PASSPHRASE)
    try:
        assert original.certificate(issued.serial)[0]["status"] == "valid"
    finally:
        original.engine.dispose()


def test_a_database_without_the_issuing_ca_recorded_still_opens(
    tmp_path: Path, postgres_url: str
) -> None:
    """A database made before the thumbprint was recorded is told by the CA's name only."""
    first = make_ca(tmp_path / "first", postgres_url)
    with db.writer(first.engine).begin() as conn:
        conn.execute(delete(db.lyncpki_meta).where(db.lyncpki_meta.c.name == db.ISSUING_CA))
    first.engine.dispose()
    opened = CertificateAuthority.open(CaHome(tmp_path / "first"), PASSPHRASE)
    opened.engine.dispose()


def test_a_wrong_passphrase_on_another_cas_home_is_not_audited_in_this_database(
    tmp_path: Path, postgres_url: str
) -> None:
    """The refused unlock was written into whatever database of the same CA name the home
    pointed at: another CA's audit log took a row that was not its CA's."""
    first = make_ca(tmp_path / "first", postgres_url)
    first.engine.dispose()
    second = make_ca(tmp_path / "second")
    second.engine.dispose()
    home = CaHome(tmp_path / "second")
    home.write_config(replace(home.read_config(), db_url=postgres_url))
    with pytest.raises(LyncPkiError, match="passphrase"):
        CertificateAuthority.open(home, b"not the passphrase of either", actor="intruder")
    engine = db.connect(postgres_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(db.audit.c.actor).where(db.audit.c.action == "unlock")).all()
    finally:
        engine.dispose()
    assert rows == []
    with pytest.raises(LyncPkiError, match="passphrase"):  # its own CA's refusal is audited
        CertificateAuthority.open(CaHome(tmp_path / "first"), b"wrong", actor="intruder")
    engine = db.connect(postgres_url)
    try:
        with engine.connect() as conn:
            actors = (
                conn.execute(select(db.audit.c.actor).where(db.audit.c.action == "unlock"))
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    assert actors == ["intruder"]
