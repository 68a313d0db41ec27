"""The worker processes of `ca serve --workers N`: each ends with the service's main process,
and a port they still hold is told apart from another program's.

uvicorn's supervisor starts the workers (multiprocessing, spawn) and stops them when it is
stopped; killed (kill -9, the OOM killer), it stopped nothing, and its workers went on serving
enrollment, OCSP and CRLs on the port for as long as nobody found them: their command line names
neither the home nor the port. Each worker now asks to be ended with it (parent_death), and the
port check of the next `ca serve` names such workers, read from /proc."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lyncpki.ca.home import DEFAULT_HOME, HOME_ENV
from lyncpki.parent_death import die_with_parent

HOME_VARIABLE = "LYNCPKI_SERVICE_HOME"  # the CA home, given by `ca serve` to its workers
PARENT_VARIABLE = "LYNCPKI_SERVICE_PARENT"  # the pid of the `ca serve` that started them

_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp


def end_with_service() -> None:
    """In a worker, first: ended (SIGTERM, uvicorn's graceful stop) when the `ca serve` that
    started it ends, however it ends."""
    parent = os.environ.get(PARENT_VARIABLE, "")
    die_with_parent(int(parent) if parent.isdigit() else None)


@dataclass(frozen=True)
class HomeWorkers:
    """The processes of a CA home's service found listening on a port."""

    pids: tuple[int, ...]
    orphaned: bool  # their `ca serve` is gone: nothing stops them
    service: int | None = None  # the `lyncpki ca serve` itself, when it holds the port too


def _listening_inodes(port: int, proc: Path) -> set[str]:
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text("ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != _LISTEN:
                continue
            local_port = fields[1].rpartition(":")[2]
            if int(local_port, 16) == port:
                inodes.add(fields[9])
    return inodes


def _holders(inodes: set[str], proc: Path) -> Iterable[int]:
    """The processes (of this user: others' are not readable) holding one of the sockets."""
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if str(fd.readlink()) in wanted:
                    yield int(entry.name)
                    break
        except OSError:
            continue


def _environment(pid: int, proc: Path) -> dict[str, str]:
    try:
        raw = (proc / str(pid) / "environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.partition(b"=") for item in raw.split(b"\0") if item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, _, v in pairs}


def _parent(pid: int, proc: Path) -> int | None:
    try:
        stat = (proc / str(pid) / "stat").read_text("ascii", "replace")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None


def home_workers(home: Path, port: int, *, proc: Path = Path("/proc")) -> HomeWorkers | None:
    """The worker processes of `home`'s `ca serve --workers N` listening on `port` (Linux: read
    from /proc), or None when none is found (another program, or no /proc to tell)."""
    inodes = _listening_inodes(port, proc)
    if not inodes:
        return None
    holders = set(_holders(inodes, proc))
    wanted = str(home.resolve())
    ours = sorted(p for p in holders if _environment(p, proc).get(HOME_VARIABLE) == wanted)
    # a `ca serve` of one process serves on the port itself (and one of several workers holds
    # the socket it gave them): known by its command line, its environment being its caller's
    served = sorted(p for p in holders if p not in ours and _serve_home(p, proc) == wanted)
    if served:
        return HomeWorkers(tuple(ours), orphaned=False, service=served[0])
    if not ours:
        return None
    # a worker whose parent does not hold the socket is one that `ca serve` left behind
    orphaned = all(_parent(p, proc) not in holders for p in ours)
    return HomeWorkers(tuple(ours), orphaned)


def _serve_home(pid: int, proc: Path) -> str | None:
    """The home a `lyncpki ca serve` process serves, resolved as it resolved it (--home, else
    $LYNCPKI_HOME, else ./lyncpki-data, from its working folder); None for any other process."""
    try:
        argv = (proc / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0")
        cwd = (proc / str(pid) / "cwd").readlink()
    except OSError:
        return None
    words = [w for w in argv if w]
    if not any("lyncpki" in w for w in words) or "serve" not in words:
        return None
    given = None
    for index, word in enumerate(words):
        if word == "--home" and index + 1 < len(words):
            given = words[index + 1]
        elif word.startswith("--home="):
            given = word.removeprefix("--home=")
    home = given or _environment(pid, proc).get(HOME_ENV) or DEFAULT_HOME
    return str((cwd / home).resolve())
