"""A store file the user may not read is said to be a permission problem, not a missing key or a
damaged index (whose fixes — import again, restore from a backup — would not help). Run as root
with the capabilities that bypass file modes dropped (setpriv), as any other user would be."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pfx_files import make_pfx

from lab import lab_env, ok, openssl, run_lyncpki

SETPRIV = shutil.which("setpriv")
pytestmark = pytest.mark.skipif(
    SETPRIV is None or os.geteuid() != 0, reason="needs root and setpriv to drop DAC override"
)
DROP = ["--bounding-set=-dac_override,-dac_read_search,-fowner", "--inh-caps=-all"]


def test_unreadable_key_and_index_are_permission_problems(tmp_path: Path) -> None:
    pfx, cert = make_pfx(tmp_path, "fe01", "pfx-pass-1234")
    home = tmp_path / "home"
    env = lab_env(LYNCPKI_PFX_PASSWORD="pfx-pass-1234", LYNCPKI_STORE_PASSPHRASE="store-pass-12345")
    ok(run_lyncpki("import", "--home", home, "--server", "fe01.contoso.net", pfx, env=env))
    store = home / "servers" / "fe01.contoso.net"
    (stored,) = (store / "keys").iterdir()
    stored.chmod(0)
    thumbprint = openssl("x509", "-in", cert, "-noout", "-fingerprint", "-sha1")
    thumbprint = thumbprint.strip().split("=")[1].replace(":", "")

    def dropped(*args: str | Path) -> subprocess.CompletedProcess[str]:
        assert SETPRIV is not None
        return subprocess.run([SETPRIV, *DROP, sys.executable, "-m", "lyncpki", *map(str, args)],
                              capture_output=True, text=True, env=env, timeout=120)  # fmt: skip

    export = dropped("export", "--home", home, "--server", "fe01.contoso.net",
                     "--thumbprint", thumbprint, "--pfx", tmp_path / "out.pfx")  # fmt: skip
    assert export.returncode == 2
    said = " ".join(export.stderr.split())
    assert "permission denied" in said and "missing" not in said and "0600" in said
    (store / "store.json").chmod(0)
    listed = dropped("certs", "--home", home)
    said = " ".join(listed.stderr.split())
    assert listed.returncode == 1
    assert "permission denied" in said and "backup" not in said and "intact" in said


def test_an_import_that_fails_leaves_no_key_behind(tmp_path: Path) -> None:
    """The key was written before the certificate: an import refused at the certificate's
    file (its folder read-only) left a key no index named, which nothing reported."""
    pfx, _ = make_pfx(tmp_path, "fe02", "pfx-pass-1234")
    home = tmp_path / "home"
    env = lab_env(LYNCPKI_PFX_PASSWORD="pfx-pass-1234", LYNCPKI_STORE_PASSPHRASE="store-pass-12345")
    first, _ = make_pfx(tmp_path, "first", "pfx-pass-1234")  # makes the store, its folders
    ok(run_lyncpki("import", "--home", home, "--server", "fe02.contoso.net", first, env=env))
    store = home / "servers" / "fe02.contoso.net"
    keys_before = sorted(p.name for p in (store / "keys").iterdir())
    (store / "certs").chmod(0o555)
    assert SETPRIV is not None
    refused = subprocess.run(
        [SETPRIV, *DROP, sys.executable, "-m", "lyncpki", "import", "--home", str(home),
         "--server", "fe02.contoso.net", str(pfx)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    (store / "certs").chmod(0o700)
    assert refused.returncode == 2, refused.stderr
    assert sorted(p.name for p in (store / "keys").iterdir()) == keys_before
