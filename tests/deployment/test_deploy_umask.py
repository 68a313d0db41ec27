"""What lyncpki creates under a permissive umask (`umask 000`): nothing writable by another
local user (judged by find and stat). It inherited the umask: the home, servers/, publish/,
proof/ and a store's certs/ and trusted/ were 0777 and serve.log 0666, and another user
swapped the topology, replaced a server's store folder and deleted the published CRLs. The
published CRLs stay world-readable (they are served); a stricter umask is kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab import CONTOSO, lab_env


def _deploy(home: Path, umask: int) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "lyncpki", "deploy", str(CONTOSO), "--home", str(home),
         "--no-live"],
        env={k: v for k, v in lab_env().items() if not k.startswith("LYNCPKI_")},
        capture_output=True, text=True, timeout=300, check=False,
        preexec_fn=lambda: os.umask(umask),  # the umask lyncpki is started with
    )  # fmt: skip
    assert process.returncode == 0, process.stdout + process.stderr


def _modes(*paths: Path) -> list[str]:
    return subprocess.run(
        ["stat", "-c", "%a", *map(str, paths)], capture_output=True, text=True, check=True
    ).stdout.split()


@pytest.mark.external
def test_nothing_is_writable_by_others_under_umask_000(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _deploy(home, 0o000)
    writable = subprocess.run(
        ["find", str(home), "-perm", "/022"], capture_output=True, text=True, check=True
    ).stdout
    assert writable == "", writable
    crls = sorted((home / "publish" / "crl").glob("*.crl"))
    assert crls
    assert set(_modes(*crls)) == {"644"}  # served: readable by all
    assert _modes(home / "publish", home / "publish" / "crl") == ["755", "755"]
    assert _modes(home / "serve.log", home / "ca", home / "secrets") == ["600", "700", "700"]


@pytest.mark.external
def test_a_stricter_umask_is_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _deploy(home, 0o077)
    assert _modes(home, home / "servers", home / "publish") == ["700", "700", "700"]
