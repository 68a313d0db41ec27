"""Atomic writes: the old file or the new one, never half; no temp file left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lyncpki.atomic import check_writable, write_atomic
from lyncpki.errors import LyncPkiError


def test_replaces_content_and_sets_mode(tmp_path: Path) -> None:
    target = tmp_path / "key.pem"
    target.write_bytes(b"old")
    write_atomic(target, b"new", mode=0o600)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.pem"]


def test_missing_folder_is_a_domain_error(tmp_path: Path) -> None:
    with pytest.raises(LyncPkiError, match="does not exist"):
        write_atomic(tmp_path / "nope" / "x", b"1")


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "plan.json"
    target.write_bytes(b"previous")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(LyncPkiError, match="No space left"):
        write_atomic(target, b"partial")
    assert target.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_a_folder_where_no_file_can_be_made_is_a_domain_error() -> None:
    """/proc exists but takes no new file (as a read-only folder, or another user's, would not):
    the temporary file could not be made, which was an internal error."""
    with pytest.raises(LyncPkiError, match="cannot write /proc/version") as caught:
        write_atomic("/proc/version", b"report")
    assert "choose another path" in caught.value.fix


def test_a_folder_given_as_the_file_is_named(tmp_path: Path) -> None:
    """`export --pfx DIR`, `plan -o DIR`, `ca issue -o DIR` said "check the folder's permissions
    and space" (the rename onto a folder failed); the folder is named as what is wrong."""
    with pytest.raises(LyncPkiError, match="it is a folder") as caught:
        write_atomic(tmp_path, b"report")
    assert str(tmp_path / "NAME") in caught.value.fix
    assert list(tmp_path.iterdir()) == []


def test_check_writable_names_the_commands_option(tmp_path: Path) -> None:
    """Checked before the work is done (a certificate signed, then not written): a missing
    folder and a folder given as the file are refused with the command's own option."""
    with pytest.raises(LyncPkiError, match=r"folder .*nope does not exist") as caught:
        check_writable(tmp_path / "nope" / "c.pem", "--out")
    assert "another --out" in str(caught.value.fix)
    with pytest.raises(LyncPkiError, match="is a folder, not a file") as caught:
        check_writable(tmp_path, "--out")
    assert "--out" in str(caught.value.fix)
    check_writable(tmp_path / "c.pem", "--out")  # a new file in a folder that exists
    assert list(tmp_path.iterdir()) == []  # nothing made by the check


@pytest.mark.external
def test_an_output_never_replaces_a_key_a_pfx_or_a_database(tmp_path: Path) -> None:
    """`ca issue csr -o server.key` replaced the key of the certificate it issued (and the
    -o of another CA's issuing.key): made by openssl and sqlite3, each is refused, unchanged."""
    import shutil
    import sqlite3
    import subprocess

    openssl = shutil.which("openssl")
    assert openssl is not None
    run = lambda *a: subprocess.run([openssl, *a], check=True, capture_output=True)  # noqa: E731
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-out", tmp_path / "plain.key")  # fmt: skip
    run("pkey", "-in", tmp_path / "plain.key", "-aes256", "-passout", "pass:secret-pass",
        "-out", tmp_path / "encrypted.key")  # fmt: skip
    run("ec", "-in", tmp_path / "plain.key", "-out", tmp_path / "traditional.pem")
    run("req", "-x509", "-key", tmp_path / "plain.key", "-subj", "/CN=a.contoso.com",
        "-out", tmp_path / "cert.pem")  # fmt: skip
    run("pkcs12", "-export", "-inkey", tmp_path / "plain.key", "-in", tmp_path / "cert.pem",
        "-passout", "pass:pfx-pass", "-out", tmp_path / "bundle.pfx")  # fmt: skip
    sqlite3.connect(tmp_path / "ca.sqlite").execute("CREATE TABLE t (x)").connection.commit()
    for name, held in [
        ("plain.key", "a private key"),
        ("encrypted.key", "a private key"),
        ("traditional.pem", "a private key"),
        ("bundle.pfx", "PKCS#12"),
        ("ca.sqlite", "SQLite database"),
    ]:
        before = (tmp_path / name).read_bytes()
        with pytest.raises(LyncPkiError, match=held) as caught:
            check_writable(tmp_path / name, "--out")
        assert "--out" in str(caught.value.fix)
        assert (tmp_path / name).read_bytes() == before
    check_writable(tmp_path / "cert.pem", "--out")  # a certificate may be written over


@pytest.mark.external
def test_an_output_never_replaces_a_der_key_a_renamed_pfx_or_another_cas_file(
    tmp_path: Path,
) -> None:
    """A DER PKCS#8 key, a PKCS#12 named .bin, a PEM key after 64 KiB of text, and another CA
    home's root.crt (`ca chain -o OTHER/ca/root.crt`) were replaced."""
    import shutil
    import subprocess

    openssl = shutil.which("openssl")
    assert openssl is not None
    run = lambda *a: subprocess.run([openssl, *a], check=True, capture_output=True)  # noqa: E731
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-out", tmp_path / "k.pem")  # fmt: skip
    run("pkey", "-in", tmp_path / "k.pem", "-outform", "DER", "-out", tmp_path / "k.der")
    run("pkcs8", "-topk8", "-in", tmp_path / "k.pem", "-outform", "DER", "-v2", "aes256",
        "-passout", "pass:secret-pass", "-out", tmp_path / "enc.der")  # fmt: skip
    run("req", "-x509", "-key", tmp_path / "k.pem", "-subj", "/CN=a.contoso.com",
        "-out", tmp_path / "c.pem")  # fmt: skip
    run("pkcs12", "-export", "-inkey", tmp_path / "k.pem", "-in", tmp_path / "c.pem",
        "-passout", "pass:pfx-pass", "-out", tmp_path / "bundle.bin")  # fmt: skip
    (tmp_path / "big.txt").write_bytes(b"x" * 70_000 + (tmp_path / "k.pem").read_bytes())
    other_ca = tmp_path / "other" / "ca"
    other_ca.mkdir(parents=True)
    (other_ca / "root.key").write_bytes(b"(an encrypted key)")
    (other_ca / "root.crt").write_bytes((tmp_path / "c.pem").read_bytes())
    for path, held in [
        (tmp_path / "k.der", "a private key"),
        (tmp_path / "enc.der", "a private key"),
        (tmp_path / "bundle.bin", "PKCS#12"),
        (tmp_path / "big.txt", "a private key"),
        (other_ca / "root.crt", "lyncpki CA or server store"),
    ]:
        before = path.read_bytes()
        with pytest.raises(LyncPkiError, match=held):
            check_writable(path, "--out")
        assert path.read_bytes() == before
    check_writable(tmp_path / "c.pem", "--out")  # an ordinary certificate elsewhere may go


def test_a_file_name_near_the_limit_is_written(tmp_path: Path) -> None:
    """A 245-character name (valid: `touch` makes it) could not be written: the temporary
    file's name, the target's plus a prefix and a suffix, passed 255 bytes."""
    target = tmp_path / ("a" * 245 + ".csv")
    write_atomic(target, b"data")
    assert target.read_bytes() == b"data"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


@pytest.mark.parametrize("check", ["write", "check"])
def test_a_file_where_a_folder_should_be_is_said_as_such(tmp_path: Path, check: str) -> None:
    """`plan t.yaml -o t.yaml/x.csv` said "folder t.yaml does not exist", fix "mkdir -p t.yaml",
    which fails on the file standing there."""
    blocking = tmp_path / "t.yaml"
    blocking.write_text("kept")
    with pytest.raises(LyncPkiError) as caught:
        if check == "write":
            write_atomic(blocking / "sub" / "x.csv", b"report")
        else:
            check_writable(blocking / "x.csv", "--output")
    assert f"{blocking} is a file, not a folder" in caught.value.message
    assert "mkdir" not in (caught.value.fix or "")
    assert blocking.read_text() == "kept"


def test_a_name_too_long_is_told_to_be_shortened(tmp_path: Path) -> None:
    """The fix named --home / --output, options `plan` does not have; the reason is the name."""
    from lyncpki.cli.output import filesystem_error

    target = tmp_path / ("a" * 300 + ".csv")
    try:
        target.write_bytes(b"x")
    except OSError as error:
        said = filesystem_error(error)
    else:  # pragma: no cover - a filesystem without the 255-byte limit
        pytest.skip("this filesystem takes 300-byte names")
    assert "longer than the filesystem takes" in said.message
    assert said.fix == "choose a shorter name" and "--home" not in said.fix
