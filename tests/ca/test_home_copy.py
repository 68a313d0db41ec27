"""A home copied or restored elsewhere (`cp -a`, a backup) uses its own database: config.json
named the first home's SQLite file by its absolute path, so the copy read and wrote the
original's inventory and revocations (a revocation made in the copy renewed certificates of
the original at its next deploy)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ca_tools import PASSPHRASE, make_ca, openssl_req

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
