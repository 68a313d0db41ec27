"""Publishing CRLs when something goes wrong midway: a dead publisher's temporary files are
swept (one killed between write and rename left them in the folder every node serves, for
good), and a full CRL published without its delta (a disk full between the two) is said to
be published, not "failed"."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from ca_tools import crl_number, crl_pem, make_ca

from lyncpki.ca.authority import CaError, CertificateAuthority
from lyncpki.errors import LyncPkiError


def test_a_dead_publishers_temporary_files_are_swept(fresh_ca: CertificateAuthority) -> None:
    folder = fresh_ca.home.crl_file(fresh_ca.config.slug).parent
    dead = folder / f".{fresh_ca.config.slug}.crl.k1ll3d.tmp"
    live = folder / f".{fresh_ca.config.slug}.crl.wr1t1ng.tmp"
    for path in (dead, live):
        path.write_bytes(b"half a CRL")
    old = time.time() - 600
    os.utime(dead, (old, old))
    fresh_ca.publish_crl(actor="test")
    assert not dead.exists()
    assert live.exists()  # seconds old: it may be a live writer's


def test_a_full_crl_without_its_delta_is_said_published(
    fresh_ca: CertificateAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = fresh_ca
    publish = ca._publish_crl

    def full_only(*, actor: str, delta: bool, root: bool, base: int | None = None) -> object:
        if delta:
            raise LyncPkiError("database or disk is full", "free some space")
        return publish(actor=actor, delta=delta, root=root, base=base)

    before = crl_number(crl_pem(ca))
    monkeypatch.setattr(ca, "_publish_crl", full_only)
    with pytest.raises(CaError) as said:
        ca.publish_crl(actor="test")
    number = crl_number(crl_pem(ca))  # openssl reads the full CRL that was published
    assert number > before
    assert f"published full CRL #{number}" in said.value.message
    assert (
        "not its delta" in said.value.message and "database or disk is full" in said.value.message
    )
    assert "ca crl --delta" in (said.value.fix or "") and "free some space" in (
        said.value.fix or ""
    )


def test_a_crl_that_cannot_be_written_whole_replaces_neither_file(
    fresh_ca: CertificateAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk full while the PEM copy is written (after the DER) left the DER replaced alone:
    now both are written before either is renamed, and the refusal says the CRL was signed but
    not published, and how to publish it."""
    import lyncpki.atomic as atomic

    ca = fresh_ca
    der = ca.home.crl_file(ca.config.slug)
    pem = ca.home.crl_file(ca.config.slug, pem=True)
    before = (der.read_bytes(), pem.read_bytes())
    number = crl_number(pem)
    write = atomic._write_temporary

    def full_disk_on_pem(target: os.PathLike[str], data: bytes, mode: int) -> object:
        if str(target).endswith(".pem"):
            raise LyncPkiError(f"cannot write {target}: No space left on device", "free space")
        return write(target, data, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(atomic, "_write_temporary", full_disk_on_pem)
    with pytest.raises(CaError) as said:
        ca.publish_crl(actor="test")
    assert (der.read_bytes(), pem.read_bytes()) == before
    assert "was signed but not published" in said.value.message
    assert "No space left on device" in said.value.message
    assert said.value.fix == "free space; then publish again: lyncpki ca crl"
    assert not [p for p in der.parent.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    ca.publish_crl(actor="test")  # as the fix says: both files, a higher number
    assert crl_number(crl_pem(ca)) > number


def test_a_removed_crl_folder_is_made_again(fresh_ca: CertificateAuthority) -> None:
    import shutil

    folder = fresh_ca.home.crl_file(fresh_ca.config.slug).parent
    shutil.rmtree(folder)
    fresh_ca.publish_crl(actor="test")
    assert crl_number(crl_pem(fresh_ca)) > 1


def test_ca_init_that_cannot_publish_its_first_crls_keeps_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk full at the first delta CRL advised `ca crl --delta` for a CA that `ca init` had
    just removed: the advice is now to run ca init again, and nothing is left to trip it."""
    import lyncpki.atomic as atomic

    write = atomic._write_temporary

    def full_disk_on_delta(target: Path, data: bytes, mode: int) -> Path:
        if "+.crl" in target.name:
            raise LyncPkiError(f"cannot write {target}: No space left on device", "free space")
        return write(target, data, mode)

    monkeypatch.setattr(atomic, "_write_temporary", full_disk_on_delta)
    with pytest.raises(CaError) as said:
        make_ca(tmp_path / "home")
    assert said.value.message.startswith("could not publish the new CA's first CRLs: ")
    assert "No space left on device" in said.value.message
    assert (
        said.value.fix == "free space; then run lyncpki ca init again (this attempt kept nothing)"
    )
    assert not (tmp_path / "home" / "ca" / "config.json").exists()
    monkeypatch.undo()
    assert make_ca(tmp_path / "home").config.slug  # as the fix says
