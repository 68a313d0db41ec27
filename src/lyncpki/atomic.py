"""Atomic file writes: a temporary file beside the target, fsync, rename, fsync the folder.

A reader sees the old file or the new one, never half of one; a crash leaves no partial file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from lyncpki.errors import LyncPkiError


def _not_special(target: Path, option: str | None = None) -> None:
    """Refuse a target that exists and is no regular file: a rename would put a file where a
    device, a FIFO or a socket was (`-o /dev/null` run as root replaced the device node)."""
    try:
        mode = target.stat().st_mode
    except OSError:  # absent (or a dangling link): a new file is made
        return
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):  # folders: refused by the callers, by name
        return
    kind = (
        "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a regular file"
    )
    raise LyncPkiError(
        f"cannot write {target}: it is {kind}, not a regular file"
        + (" (through a link)" if target.is_symlink() else ""),
        f"give a file name{f' to {option}' if option else ''}; to print the result, leave the "
        "option out",
    )


def _followed(target: Path) -> Path:
    """The file a link names (its final target), so that the file is replaced and the link
    kept; a path that is no link, as it is."""
    return Path(os.path.realpath(target)) if target.is_symlink() else target


# write_atomic's temporary files (`.NAME.RANDOM.tmp`): what a writer killed between writing and
# renaming leaves behind, for whoever sweeps the folder
TEMPORARY_GLOB = ".*.tmp"
_TEMPORARY_NAME_BYTES = 200  # of the target's name in a temporary's (255 in all, with room)


def write_atomic(path: str | Path, data: bytes, *, mode: int = 0o644) -> Path:
    """Write `data` to `path` atomically with permissions `mode`; return the path. A link is
    followed: the file it names is replaced, the link stays; a device, FIFO or socket is
    refused."""
    write_atomic_all([(path, data)], mode=mode)
    return Path(path)


def write_atomic_all(files: Sequence[tuple[str | Path, bytes]], *, mode: int = 0o644) -> None:
    """Write several files, each atomically, so that none is replaced unless all could be
    written: every temporary file is written and synced first, then all are renamed (a disk
    full while writing the second of a CRL's DER and PEM left the first replaced alone)."""
    targets = [_target(Path(path)) for path, _data in files]
    temps: list[Path] = []
    try:
        for target, (_path, data) in zip(targets, files, strict=True):
            temps.append(_write_temporary(target, data, mode))
        for temp, target in zip(temps, targets, strict=True):
            try:
                temp.replace(target)
            except OSError as error:
                raise LyncPkiError(
                    f"cannot write {target}: {error.strerror}",
                    "check the folder's permissions and space",
                ) from error
    finally:
        for temp in temps:
            with contextlib.suppress(OSError):
                temp.unlink()  # renamed ones are gone already
    for folder in dict.fromkeys(
        target.parent if str(target.parent) else Path() for target in targets
    ):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _target(given: Path) -> Path:
    """The file write_atomic replaces for `given` (a link's target), refused when it is no
    regular file or its folder is missing."""
    _not_special(given)
    target = _followed(given)
    folder = target.parent if str(target.parent) else Path()
    if not folder.is_dir():
        raise _no_folder(target, folder, "choose another path")
    if target.is_dir():  # a rename onto a folder fails with a puzzling "Is a directory"
        raise LyncPkiError(
            f"cannot write {target}: it is a folder",
            f"name a file inside it ({target / 'NAME'}) or another path",
        )
    return target


def _no_folder(target: Path, folder: Path, instead: str) -> LyncPkiError:
    """`target`'s folder is not there: missing (made with mkdir -p), or a file stands where a
    folder of its path should be (mkdir -p would fail on it: said as it is)."""
    standing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if standing is not None and not standing.is_dir():
        return LyncPkiError(
            f"cannot write {target}: {standing} is a file, not a folder",
            f"{instead}, or a folder of another name",
        )
    return LyncPkiError(
        f"cannot write {target}: folder {folder} does not exist",
        f"create it first (mkdir -p {folder}) or {instead}",
    )


def _write_temporary(target: Path, data: bytes, mode: int) -> Path:
    """`data` in a new temporary file beside `target`, synced to disk."""
    folder = target.parent if str(target.parent) else Path()
    # the temporary name is kept within the 255 bytes a file name may take: a file name of
    # 245 characters could not be written at all ("File name too long")
    name = target.name
    while len(name.encode("utf-8", "surrogateescape")) > _TEMPORARY_NAME_BYTES:
        name = name[:-1]
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
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
    return temp


def check_writable(path: str | Path, option: str, example: str = "NAME.pem") -> None:
    """Refuse, before the work whose result goes to `path` is done, a path write_atomic could
    not write: a folder, or a file in a folder that does not exist or is not writable. `option`
    is the command's own option (`--out`), named in the fix with an `example` file name."""
    _not_special(Path(path), option)
    target = _followed(Path(path))
    folder = target.parent if str(target.parent) else Path()
    if target.is_dir():
        raise LyncPkiError(
            f"{option} {target} is a folder, not a file",
            f"give a file name in it: {option} {target / example}",
        )
    if not folder.is_dir():
        raise _no_folder(target, folder, f"choose another {option}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise LyncPkiError(
            f"cannot write {target}: folder {folder} is not writable by you",
            f"choose another {option}",
        )
    held = _secret_in(target)
    if held is not None:
        raise LyncPkiError(
            f"{option} {target} holds {held}: the output would destroy it",
            f"choose another file name (an output never replaces a private key, a .pfx or a "
            f"database): {option} {folder / example}",
        )


_SECRET_READ_LIMIT = 4 * 1024 * 1024  # what a key, a .pfx or a bundle ever takes
# what marks a lyncpki CA folder (its keys) or a server store (its index): a file there, or in
# a store's sub-folder (certs/, keys/, trusted/), is never replaced by an output
_KEPT_BESIDE = ("root.key", "issuing.key", "store.json")


def _secret_in(path: Path) -> str | None:
    """What an existing file holds that an output must not replace (`ca issue -o server.key`
    replaced the key of the certificate it issued; `ca chain -o OTHER/ca/root.crt` another
    CA's root), or None. Looked at only when the file exists."""
    try:
        if not path.is_file():
            return None
    except OSError:
        return None
    for folder in (path.parent, path.parent.parent):
        if any((folder / name).exists() for name in _KEPT_BESIDE):
            return "a file of a lyncpki CA or server store"
    if path.suffix.lower() in (".pfx", ".p12"):
        return "a PKCS#12 file (a private key with its certificate)"
    try:
        with path.open("rb") as file:  # a FIFO or device was refused before (_not_special)
            data = file.read(_SECRET_READ_LIMIT)
    except OSError:  # unreadable: nothing known to protect
        return None
    if data.startswith(b"SQLite format 3\x00"):
        return "a SQLite database"
    if b"PRIVATE KEY-----" in data:
        return "a private key"
    if data[:1] == b"\x30":  # DER: a PKCS#12 file, or a PKCS#8 / traditional private key
        from lyncpki.x509.der_secrets import der_secret  # pyca, only when a file is replaced

        return der_secret(data)
    return None


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


def check_outside(
    path: str | Path,
    places: Iterable[tuple[str, Path]],
    option: str,
    what: str = "report",
    example: str = "report.html",
) -> None:
    """Refuse an output that would land on or inside one of `places` (each with what it is:
    "the CA's folder"), wherever a link or a relative path makes it land: a report written
    over the CA's database or a store's index destroyed what the command had just read."""
    target = Path(os.path.realpath(path))
    for label, place in places:
        where = Path(os.path.realpath(place))
        if target == where or target.is_relative_to(where):
            raise LyncPkiError(
                f"{option} {path} is inside {label} ({place}): the {what} would replace "
                "what lyncpki keeps there",
                f"write the {what} outside it (e.g. {option} {example})",
            )
