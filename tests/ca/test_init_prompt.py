"""A new CA's passphrase typed at a terminal (pexpect): typed twice, and a mismatch refused
before anything is written. It was asked once, and a typo became the passphrase of the root
and issuing keys, locking them for good."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import pytest

from lab import openssl

PROMPT = "CA key passphrase: "
AGAIN = "CA key passphrase \\(again\\): "


def _init(home: Path) -> pexpect.spawn:  # type: ignore[type-arg]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNCPKI_")}
    return pexpect.spawn(
        sys.executable,
        ["-m", "lyncpki", "ca", "init", "--home", str(home), "--name", "P CA",
         "--domain", "contoso.net", "--root-key", "ec-p384", "--key", "ec-p256"],
        env=env,
        encoding="utf-8",
        timeout=120,
    )  # fmt: skip


@pytest.mark.external
def test_a_new_ca_passphrase_is_typed_twice(tmp_path: Path) -> None:
    home = tmp_path / "pki"
    child = _init(home)
    child.expect(PROMPT)
    child.sendline("correct horse battery")
    child.expect(AGAIN)
    child.sendline("correct horse batttery")  # a typo
    child.expect("the two entries differ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert not (home / "ca" / "root.key").exists()

    child = _init(home)
    child.expect(PROMPT)
    child.sendline("correct horse battery")
    child.expect(AGAIN)
    child.sendline("correct horse battery")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    for key in ("root", "issuing"):
        openssl("pkey", "-in", home / "ca" / f"{key}.key", "-passin",
                "pass:correct horse battery", "-noout")  # fmt: skip
