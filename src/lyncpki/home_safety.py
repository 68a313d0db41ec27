"""A home that another user could change is refused before anything in it is used or trusted,
as ssh refuses an `authorized_keys` in a folder others can write (its StrictModes).

A home holds the CA's keys and configuration, every server's store (keys, the index, the
trusted roots that `check` judges by), the topology and the published CRLs. If another local
user can write to one of its folders, that user can put a folder of their own in its place
(a server's `keys/` or `trusted/`, `ca/`, `secrets/`) and the next command writes a private key
into it or trusts a root of theirs; files inside are made 0600, but a folder others can write
lets them be replaced, not read. lyncpki itself never makes such folders (the CLI adds 022 to
the umask); earlier versions under `umask 000` did, and so does `mkdir` under a lax umask.

A folder is unsafe when it is writable by its group or by others, or when it belongs to a user
other than the one running lyncpki and root. Every folder of the home is looked at (a few
thousand at most: a couple of milliseconds); a folder reached through a symbolic link is judged
by what the link points to, and not walked into. The folders above the home are judged too,
since whoever can rename the home can put another in its place; there a folder others can write
is safe when its sticky bit is set (`/tmp`: nobody renames another user's entries in it).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import stat
from dataclasses import dataclass
from pathlib import Path

from lyncpki.errors import LyncPkiError


class UnsafeHome(LyncPkiError):
    """A folder of the home that another user could change."""


@dataclass(frozen=True)
class Unsafe:
    folder: Path
    reason: str  # "writable by its group", "writable by everyone", "owned by user x"
    owner_is_other: bool


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _judge(folder: Path, info: os.stat_result, me: int) -> Unsafe | None:
    if info.st_uid not in (me, 0):
        return Unsafe(folder, f"belongs to another user, {_user(info.st_uid)}", owner_is_other=True)
    mode = stat.S_IMODE(info.st_mode)
    if mode & stat.S_IWOTH:
        return Unsafe(folder, f"is writable by every user (mode {mode:04o})", False)
    if mode & stat.S_IWGRP:
        return Unsafe(folder, f"is writable by its group (mode {mode:04o})", False)
    return None


def _judge_above(folder: Path, info: os.stat_result, me: int) -> Unsafe | None:
    if stat.S_IMODE(info.st_mode) & stat.S_ISVTX and info.st_uid in (me, 0):
        return None  # others may add their own entries, not rename the home
    return _judge(folder, info, me)


def _above(root: Path) -> list[tuple[Path, os.stat_result]]:
    """The folders that hold the home (made or to be made), from its parent up to /."""
    found = []
    for folder in root.resolve().parents:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            found.append((folder, folder.stat()))
    return found


def _folders(root: Path) -> list[tuple[Path, os.stat_result]]:
    """The home and every folder below it, with what stat says of each (a link followed, not
    walked into); what cannot be read is left out (a folder of root's, for another user)."""
    found = [(root, root.stat())]
    for top, dirs, _files in os.walk(root, followlinks=False):
        for name in dirs:
            path = Path(top) / name
            try:
                found.append((path, path.stat()))
            except OSError:  # a dangling link, a folder removed meanwhile
                continue
    return found


def unsafe_folder(root: Path, me: int | None = None) -> Unsafe | None:
    """The first folder of the home, or above it, that another user could change, or None (a
    home that does not exist yet is judged by the folders above it: lyncpki makes its own)."""
    uid = os.geteuid() if me is None else me
    for folder, info in _above(root):
        found = _judge_above(folder, info, uid)
        if found is not None:
            return found
    if not root.is_dir():
        return None
    for folder, info in _folders(root):
        found = _judge(folder, info, uid)
        if found is not None:
            return found
    return None


def refuse_unsafe_home(root: Path) -> None:
    """Raise UnsafeHome naming the folder, why, and the command that makes it safe."""
    found = unsafe_folder(root)
    if found is None:
        return
    inside = found.folder.is_relative_to(root) or found.folder.is_relative_to(root.resolve())
    where = f"the home's folder {found.folder}" if inside else f"{found.folder}, above the home,"
    if not inside:
        fix = (
            "keep the home in a folder only you (or root) can change, or take the others' write "
            f"access away: chmod go-w {shlex.quote(str(found.folder))} (chmod +t for a folder "
            "shared on purpose, as /tmp is)"
        )
    elif found.owner_is_other:
        me = _user(os.geteuid())
        fix = (
            "use a home of your own; or, once you have checked what is in it, take it: "
            f"chown -R {shlex.quote(me)} {shlex.quote(str(root))}"
        )
    else:
        fix = (
            "once you have checked that nobody changed its files: "
            f"chmod -R go-w {shlex.quote(str(root))}"
        )
    raise UnsafeHome(
        f"{where} {found.reason}: another user could replace the keys, stores, "
        "trusted roots or topology in the home, so lyncpki will not use it",
        fix,
    )


__all__ = ["Unsafe", "UnsafeHome", "refuse_unsafe_home", "unsafe_folder"]
