"""Atomic file writes: a temporary file beside the target, fsync, rename, fsync the folder.

A reader sees the old file or the new one, never half of one; a crash leaves no partial file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from lyncpki.errors import LyncPkiError


def write_atomic(path: str | Path, data: bytes, *, mode: int = 0o644) -> Path:
    """Write `data` to `path` atomically with permissions `mode`; return the path."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path()
    if not folder.is_dir():
        raise LyncPkiError(
            f"cannot write {target}: folder {folder} does not exist",
            f"create it first (mkdir -p {folder}) or choose another path",
        )
    if target.is_dir():  # a rename onto a folder fails with a puzzling "Is a directory"
        raise LyncPkiError(
            f"cannot write {target}: it is a folder",
            f"name a file inside it ({target / 'NAME'}) or another path",
        )
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as error:  # a read-only folder, one of another user, a pseudo-filesystem
        raise LyncPkiError(
            f"cannot write {target}: {error.strerror}",
            f"check that {folder} is writable by you, or choose another path",
        ) from error
    temp = Path(temp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temp.replace(target)
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise LyncPkiError(
            f"cannot write {target}: {error.strerror}", "check the folder's permissions and space"
        ) from error
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return target


def check_writable(path: str | Path, option: str, example: str = "NAME.pem") -> None:
    """Refuse, before the work whose result goes to `path` is done, a path write_atomic could
    not write: a folder, or a file in a folder that does not exist or is not writable. `option`
    is the command's own option (`--out`), named in the fix with an `example` file name."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path()
    if target.is_dir():
        raise LyncPkiError(
            f"{option} {target} is a folder, not a file",
            f"give a file name in it: {option} {target / example}",
        )
    if not folder.is_dir():
        raise LyncPkiError(
            f"cannot write {target}: folder {folder} does not exist",
            f"create it first (mkdir -p {folder}) or choose another {option}",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LyncPkiError(
            f"cannot write {target}: folder {folder} is not writable by you",
            f"choose another {option}",
        )


def check_not_input(
    path: str | Path,
    inputs: Iterable[tuple[str, str | Path | None]],
    option: str,
    what: str = "report",
) -> None:
    """Refuse an output that is one of the command's own input files, each given with what it
    is ("the topology file", "a --cert file"): the `what` would replace it."""
    target = Path(path)
    if not target.exists():
        return
    for label, given in inputs:
        if given is None:
            continue
        try:
            same = target.samefile(given)
        except OSError:
            continue
        if same:
            raise LyncPkiError(
                f"{option} {target} is {label}: the {what} would replace it",
                f"write the {what} to another file (e.g. {option} report.html)",
            )
