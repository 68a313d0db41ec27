"""The store passphrase typed at a terminal (pexpect): chosen, it is typed twice and must have
12 characters or more (a typo, or "a", became the passphrase of keys no one could open, or
anyone could guess); checked against a store that has one, it is asked once."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pexpect
import pytest
from pfx_files import make_pfx

from lab import openssl

PFX_PASSWORD = "pfx-Pass-4471"
PROMPT = "Passphrase of the server stores' keys: "
AGAIN = "Passphrase of the server stores' keys \\(again\\): "


def importing(home: Path, pfx: Path) -> pexpect.spawn:  # type: ignore[type-arg]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNCPKI_")}
    env["LYNCPKI_PFX_PASSWORD"] = PFX_PASSWORD
    return pexpect.spawn(
        sys.executable,
        [
            "-m",
            "lyncpki",
            "import",
            "--home",
            str(home),
            "--server",
            "fe01.contoso.net",
            str(pfx),
        ],
        env=env,
        encoding="utf-8",
        timeout=60,
    )


def choosing(home: Path, pfx: Path, passphrase: str, said: str) -> int | None:
    """An import whose passphrase is typed twice, alike; its exit status once `said` shows."""
    child = importing(home, pfx)
    child.expect(PROMPT)
    child.sendline(passphrase)
    child.expect(AGAIN)
    child.sendline(passphrase)
    child.expect(said)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


@pytest.mark.external
def test_a_store_passphrase_is_chosen_twice_and_long_enough(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first, second = (make_pfx(tmp_path, n, PFX_PASSWORD)[0] for n in ("fe01", "fe01b"))
    child = importing(home, first)
    child.expect(PROMPT)
    child.sendline("a-passphrase-of-mine")
    child.expect(AGAIN)
    child.sendline("a-passphrase-of-mime")  # a typo
    child.expect("the two entries differ")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert not (home / "servers" / "fe01.contoso.net" / "keys").exists() or not any(
        (home / "servers" / "fe01.contoso.net" / "keys").iterdir()
    )
    assert choosing(home, first, "short", "shorter than 12 characters") == 2
    assert choosing(home, first, "a-passphrase-of-mine", "installed") == 0
    (stored,) = (home / "servers" / "fe01.contoso.net" / "keys").iterdir()
    openssl("pkey", "-in", stored, "-passin", "pass:a-passphrase-of-mine", "-noout")
    child = importing(home, second)  # the store has its passphrase: asked once, checked
    child.expect(PROMPT)
    child.sendline("a-passphrase-of-mine")
    index = child.expect(["installed", "again"])
    assert index == 0, child.before
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
