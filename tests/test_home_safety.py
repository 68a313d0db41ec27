"""A home another local user could change is refused before it is used (as ssh's StrictModes):
a folder of it, or above it, writable by its group or by everyone, or owned by another user.
Before, a store folder left 0777 by an earlier version under `umask 000` was used as it was: the
next request wrote a server's private key into a folder another user could have put there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lyncpki.home_safety import unsafe_folder

NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder away needs root")


def _home(base: Path) -> Path:
    """A home's folders as lyncpki makes them (0700/0755), without a CA."""
    base.chmod(0o700)
    home = base / "home"
    for sub in ("ca", "secrets", "servers/fe01.contoso.net/keys", "publish/crl"):
        (home / sub).mkdir(parents=True)
    for folder in [home, *home.rglob("*")]:
        folder.chmod(0o700 if "publish" not in folder.parts else 0o755)
    return home


def _lyncpki(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNCPKI_")}
    return subprocess.run(
        [sys.executable, "-m", "lyncpki", *args],
        capture_output=True, text=True, timeout=120, check=False, env=env,
    )  # fmt: skip


def test_a_home_made_as_lyncpki_makes_it_is_safe(tmp_path: Path) -> None:
    assert unsafe_folder(_home(tmp_path)) is None


@pytest.mark.parametrize(("mode", "said"), [(0o777, "every user"), (0o770, "its group")])
def test_a_store_folder_others_can_write_is_refused(tmp_path: Path, mode: int, said: str) -> None:
    home = _home(tmp_path)
    keys = home / "servers" / "fe01.contoso.net" / "keys"
    keys.chmod(mode)
    found = unsafe_folder(home)
    assert found is not None and found.folder == keys and said in found.reason

    ran = _lyncpki("certs", "--home", str(home))
    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert str(keys) in ran.stderr and f"chmod -R go-w {home}" in ran.stderr
    assert "Traceback" not in ran.stderr

    keys.chmod(0o700)  # made safe as the message says: the command goes on (to the next
    ran = _lyncpki("certs", "--home", str(home))  # problem of this bare home: no store.json)
    assert "another user could" not in ran.stderr and "store.json" in ran.stderr


def test_the_refusal_is_json_with_json(tmp_path: Path) -> None:
    home = _home(tmp_path)
    (home / "ca").chmod(0o777)
    ran = _lyncpki("ca", "list", "--home", str(home), "--json")
    assert ran.returncode == 2
    error = json.loads(ran.stdout or ran.stderr)
    assert error["error"] == "UnsafeHome" and str(home / "ca") in error["message"]
    assert "chmod -R go-w" in error["fix"]


def test_a_folder_above_the_home_others_can_write_is_refused_unless_sticky(
    tmp_path: Path,
) -> None:
    home = _home(tmp_path)
    tmp_path.chmod(0o777)  # another user could rename the home and put theirs in its place
    found = unsafe_folder(home)
    assert found is not None and found.folder == tmp_path
    tmp_path.chmod(0o1777)  # as /tmp: nobody renames another user's entries
    assert unsafe_folder(home) is None
    tmp_path.chmod(0o700)


def test_a_home_not_made_yet_is_judged_by_the_folders_above_it(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o700)
    shared.chmod(0o777)
    ran = _lyncpki("ca", "init", "--home", str(shared / "new"), "--domain", "contoso.com")
    assert ran.returncode == 2 and str(shared) in ran.stderr
    assert not (shared / "new").exists()  # refused before anything was made


def test_a_linked_folder_is_judged_by_what_it_points_to(tmp_path: Path) -> None:
    home = _home(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    elsewhere.chmod(0o777)
    (home / "servers" / "se01.contoso.net").symlink_to(elsewhere)
    found = unsafe_folder(home)
    assert found is not None and found.folder == home / "servers" / "se01.contoso.net"


@as_root
def test_a_folder_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    home = _home(tmp_path)
    secrets = home / "secrets"
    os.chown(secrets, NOBODY, -1)
    found = unsafe_folder(home)
    assert found is not None and found.folder == secrets and found.owner_is_other
    ran = _lyncpki("certs", "--home", str(home))
    assert ran.returncode == 2 and "belongs to another user" in ran.stderr
    assert f"chown -R root {home}" in ran.stderr
    os.chown(secrets, 0, -1)
