"""Files an administrator names: unreadable is a clear error naming the file and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from lyncpki.errors import LyncPkiError
from lyncpki.inputs import (
    MAX_INPUT_BYTES,
    MAX_SECRET_BYTES,
    env_secret,
    read_input,
    read_secret,
)
from lyncpki.store import StoreError


def test_a_missing_file_names_itself_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "fe01.req"
    with pytest.raises(LyncPkiError) as caught:
        read_input(missing, "check the request file's path")
    assert caught.value.message == f"cannot read {missing}: No such file or directory"
    assert caught.value.fix == "check the request file's path"


def test_the_caller_chooses_the_error_and_the_label(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot read the bundle: Is a directory"):
        read_input(tmp_path, "import a file", label="the bundle", error=StoreError)


def test_a_secret_file_is_read_without_its_line_end(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("  s3cret-pass\r\n", "utf-8")
    assert read_secret(secret, "check --password-file") == "s3cret-pass"
    assert read_input(secret, "") == b"  s3cret-pass\r\n"


def test_a_file_past_the_bound_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    """A disk image or /dev/zero named by mistake: refused once past the bound (a MemoryError,
    an internal error, before)."""
    big = tmp_path / "disk.img"
    with big.open("wb") as out:
        out.truncate(MAX_INPUT_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(LyncPkiError, match="larger than 64 MiB"):
        read_input(big, "name the certificate file")
    with pytest.raises(LyncPkiError, match="larger than 64 MiB"):
        read_input(Path("/dev/zero"), "name the certificate file")
    assert len(read_input(big, "", limit=MAX_INPUT_BYTES + 1)) == MAX_INPUT_BYTES + 1


def test_a_secret_file_that_is_not_text_is_a_message(tmp_path: Path) -> None:
    """A binary file given as --passphrase-file was an internal error (UnicodeDecodeError)."""
    binary = tmp_path / "key.der"
    binary.write_bytes(b"\x30\x82\xff\xfe binary")
    with pytest.raises(LyncPkiError, match="is not UTF-8 text") as caught:
        read_secret(binary, "check --passphrase-file", label="passphrase file key.der")
    assert caught.value.fix == "check --passphrase-file"
    huge = tmp_path / "huge"
    huge.write_bytes(b"x" * (MAX_SECRET_BYTES + 1))
    with pytest.raises(LyncPkiError, match="larger than 64 KiB"):
        read_secret(huge, "")


def test_a_secret_in_the_environment_that_is_not_text_is_a_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """LYNCPKI_CA_PASSPHRASE holding bytes that are not UTF-8 was an internal error."""
    monkeypatch.setenv("LYNCPKI_TEST_SECRET", "pass\udcffword")  # what Python makes of b"\xff"
    with pytest.raises(LyncPkiError, match="LYNCPKI_TEST_SECRET is not UTF-8 text"):
        env_secret("LYNCPKI_TEST_SECRET")
    monkeypatch.setenv("LYNCPKI_TEST_SECRET", "påss-wörd")
    assert env_secret("LYNCPKI_TEST_SECRET") == "påss-wörd"
    monkeypatch.delenv("LYNCPKI_TEST_SECRET")
    assert env_secret("LYNCPKI_TEST_SECRET") == ""


def test_an_empty_required_secret_file_is_said_to_be_empty(tmp_path: Path) -> None:
    """An empty --password-file was "shorter than 12 characters"."""
    empty = tmp_path / "pw"
    empty.write_text("\n")
    with pytest.raises(LyncPkiError, match="is empty") as caught:
        read_secret(empty, "check --password-file", required=True)
    assert caught.value.fix == "check --password-file"
    assert read_secret(empty, "") == ""  # the passphrase sources say it in their own words


def test_a_secret_file_of_several_lines_is_refused(tmp_path: Path) -> None:
    """Both lines were taken as the password: a password nobody can type at a prompt."""
    secret = tmp_path / "password"
    secret.write_text("Line-One-Pass1\nLine-Two\n", "utf-8")
    with pytest.raises(LyncPkiError) as refused:
        read_secret(secret, "check --password-file")
    assert "more than one line" in refused.value.message
    assert refused.value.fix == "check --password-file"
