"""`lyncpki ca serve --workers N` killed hard (kill -9, the OOM killer, a supervisor's stop
timeout that signals the main process only) takes its workers with it: they held the CA's port
and went on serving, and the next `ca serve` was refused over "another program". A port still
held by this home's own workers is said to be theirs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from service_tools import SERVE, Service, free_port, service_env, start_server, stop_server

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="Linux only")


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie holds nothing


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _serve(home: Path, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SERVE, "--home", str(home), "--port", str(port), "--workers", "2"],
        capture_output=True,
        text=True,
        env=service_env(COLUMNS="200"),
        timeout=60,
        check=False,
    )


def test_workers_end_with_a_killed_ca_serve_and_the_port_is_free_again(
    service: Service, tmp_path: Path
) -> None:
    port = free_port()
    process = start_server(service.home, port, tmp_path / "serve.log", workers=2)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 30  # /health answered: at least one worker is up
        while len(workers) < 2 and time.monotonic() < deadline:
            workers = {p for p in _children(process.pid) if "spawn_main" in _cmdline(p)}
            time.sleep(0.1)
        assert len(workers) == 2, _children(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            any(_alive(w) for w in workers) or not _port_free(port)
        ):
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)], "workers outlived their ca serve"
        assert _port_free(port)
        again = start_server(service.home, port, tmp_path / "serve-again.log", workers=2)
        stop_server(again)
    finally:
        stop_server(process)
        for worker in workers:
            if _alive(worker):
                os.kill(worker, signal.SIGKILL)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


# a listener as a worker left by a killed `ca serve` of an earlier version is: this home's
# service variable in its environment, its parent gone (it is reparented by the time it listens)
_ORPHAN = """
import os, socket, sys, time
parent = os.getpid()
if os.fork():
    os._exit(0)
while os.getppid() == parent:
    time.sleep(0.01)
listener = socket.socket()
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen()
print(os.getpid(), flush=True)
time.sleep(120)
"""


def test_a_port_held_by_this_homes_orphaned_workers_is_said_to_be_theirs(
    service: Service,
) -> None:
    port = free_port()
    env = service_env(LYNCPKI_SERVICE_HOME=str(service.home.resolve()))
    starter = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN, str(port)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert starter.stdout is not None
    pid = 0
    try:
        starter.wait(10)  # its forked child goes on, reparented
        pid = int(starter.stdout.readline())
        refused = _serve(service.home, port)
        assert refused.returncode == 2, refused
        assert (
            f"127.0.0.1:{port} is in use by this home's own CA service workers (pid {pid}), "
            "left running by a `lyncpki ca serve` that ended" in " ".join(refused.stderr.split())
        ), refused.stderr
        assert f"fix: stop them (kill {pid}), then start the service again" in refused.stderr
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
