"""Files an administrator names: unreadable is a clear error naming the file and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from lyncpki.errors import LyncPkiError
from lyncpki.inputs import read_input, read_secret
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
