"""A `ca init` killed midway (SIGKILL: no cleanup runs) left its keys, certificates and database
without config.json: every later init was refused ("keys but no config.json: restore it from a
backup", of which there is none) and every command said "no CA". The creation writes down what
it makes as it goes; the next init sweeps a dead one's files, never a live one's, never a CA's.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from ca_tools import PASSPHRASE, make_ca, openssl

from lyncpki.ca.authority import UNFINISHED_INIT, sweep_dead_init
from lyncpki.ca.home import CaHome

# a child that makes a CA and is killed (SIGKILL, by itself) just before the config is written
DIES_BEFORE_THE_CONFIG = """
import os, signal, sys
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.keyspec import KeySpec
CaHome.write_config = lambda self, config: os.kill(os.getpid(), signal.SIGKILL)
CertificateAuthority.create(
    CaHome(sys.argv[1]), passphrase=sys.argv[2].encode(), namespaces=("corp-test.se",),
    root_key=KeySpec("rsa", 2048), key=KeySpec("rsa", 2048),
)
"""


def test_the_next_init_sweeps_what_a_killed_one_made(tmp_path: Path) -> None:
    home = tmp_path / "home"
    child = subprocess.run(
        [sys.executable, "-c", DIES_BEFORE_THE_CONFIG, str(home), PASSPHRASE.decode()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    ca_home = CaHome(home)
    assert ca_home.key_material() and not ca_home.exists()  # the dead init's leftovers
    assert (home / UNFINISHED_INIT).is_file()
    ca = make_ca(home)  # swept, then made
    try:
        assert not (home / UNFINISHED_INIT).exists()
        verified = openssl("verify", "-CAfile", ca_home.cert_file("root"),
                           ca_home.cert_file("issuing"))  # fmt: skip
        assert verified.strip().endswith(": OK")
    finally:
        ca.engine.dispose()
    leftovers = [p.name for p in home.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_ca_is_never_swept(tmp_path: Path) -> None:
    """A journal left beside a real CA (config.json present) is no reason to remove a file."""
    ca = make_ca(tmp_path / "home")
    ca.engine.dispose()
    keys = sorted(p.name for p in ca.home.ca_dir.iterdir())
    journal = tmp_path / "home" / UNFINISHED_INIT
    journal.write_text(json.dumps({"files": [str(ca.home.key_file("root"))], "folders": []}))
    assert sweep_dead_init(ca.home) is False
    assert sorted(p.name for p in ca.home.ca_dir.iterdir()) == keys
    assert Path(ca.home.key_file("root")).exists()
