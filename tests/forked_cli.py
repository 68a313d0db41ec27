"""`python -m lyncpki ARGS` in a process of its own, started without paying for the imports.

The tests start about a thousand `lyncpki` commands. Each is a new Python process that spent
0.5-1 s of CPU importing SQLAlchemy, cryptography, typer, rich, pydantic, httpx... before
lyncpki did anything: about half of the suite's CPU. Here a process per xdist worker (the
"zygote") imports those libraries once, then forks a child for every command. The child is a
real process with its own argv, environment, working directory, umask and stdin/stdout/stderr
pipes; it imports lyncpki itself (after its environment is set, so that what lyncpki reads at
import is the command's) and runs `python -m lyncpki` exactly as the interpreter does, with the
interpreter's exit code, traceback and exit-time clean-ups (threads joined, atexit). The caller
gets a `subprocess.CompletedProcess` as `subprocess.run(capture_output=True, text=True)` gives.

Only libraries are preloaded, never lyncpki. Tests about how a process starts (signals while
importing, umask at start) keep starting real interpreters, as does everything that needs a
`Popen` (a service, a process to kill). LYNCPKI_TESTS_FRESH_PROCESSES=1 runs every command in
a new interpreter, as before (slower; for telling whether a failure comes from this).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib
import json
import locale
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

# what the commands import that lyncpki did not write (each a few tens of milliseconds)
PRELOAD = (
    "sqlalchemy",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql",
    "sqlalchemy.exc",
    "psycopg",
    "cryptography.x509",
    "cryptography.x509.ocsp",
    "cryptography.x509.verification",
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "cryptography.hazmat.primitives.asymmetric.ec",
    "cryptography.hazmat.primitives.serialization.pkcs12",
    "cryptography.hazmat.primitives.serialization.pkcs7",
    "pyasn1.codec.der.decoder",
    "pyasn1.codec.der.encoder",
    "click",
    "rich.console",
    "rich.progress",
    "rich.table",
    "rich.markup",
    "pydantic",
    "yaml",
    "httpx",
    "jinja2",
    "email.message",
    "asyncio",
    "ssl",
    "concurrent.futures",
    "multiprocessing",
)

_HEADER = struct.Struct("!I")
_NUMBER = struct.Struct("!q")
_PR_SET_PDEATHSIG = 1


def _fresh() -> bool:
    return os.environ.get("LYNCPKI_TESTS_FRESH_PROCESSES") == "1"


def run(
    args: Sequence[str | Path],
    *,
    env: dict[str, str],
    timeout: float,
    cwd: str | Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """As subprocess.run([sys.executable, "-m", "lyncpki", *args], capture_output=True,
    text=True, env=env, timeout=timeout, cwd=cwd, check=False)."""
    command = [sys.executable, "-m", "lyncpki", *map(str, args)]
    if _fresh():
        return subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd
        )
    return _Zygote.get().run(command, env=env, timeout=timeout, cwd=cwd)


class _Zygote:
    _instance: _Zygote | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="lyncpki-zygote-"))
        self.path = str(self.folder / "socket")
        self.process = subprocess.Popen(
            [sys.executable, __file__, self.path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line == b"ready\n", f"the CLI zygote did not start: {line!r}"
        atexit.register(self.stop)

    @classmethod
    def get(cls) -> _Zygote:
        with cls._lock:
            if cls._instance is None or cls._instance.process.poll() is not None:
                cls._instance = cls()
            return cls._instance

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            (self.folder / "socket").unlink()
            self.folder.rmdir()

    def run(
        self, command: list[str], *, env: dict[str, str], timeout: float, cwd: str | Path | None
    ) -> subprocess.CompletedProcess[str]:
        umask = os.umask(0o022)
        os.umask(umask)
        request = json.dumps(
            {
                "args": command[3:],
                "env": env,
                "cwd": str(cwd if cwd is not None else Path.cwd()),
                "umask": umask,
            }
        ).encode()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        null = os.open(os.devnull, os.O_RDONLY)
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(self.path)
            socket.send_fds(connection, [_HEADER.pack(len(request))], [null, out_w, err_w])
            connection.sendall(request)
        finally:
            for fd in (null, out_w, err_w):
                os.close(fd)
        try:
            pid = _NUMBER.unpack(_receive(connection, _NUMBER.size))[0]
            stdout, stderr, status = _collect(out_r, err_r, connection, pid, command, timeout)
        finally:  # whatever happened: the pipes and the connection are closed once, here
            for fd in (out_r, err_r):
                os.close(fd)
            connection.close()
        assert len(status) == _NUMBER.size, "the CLI zygote ended while a command ran"
        code = _NUMBER.unpack(status)[0]
        return subprocess.CompletedProcess(command, code, _text(stdout), _text(stderr))


def _collect(
    out_r: int, err_r: int, connection: socket.socket, pid: int, command: list[str], timeout: float
) -> tuple[bytes, bytes, bytes]:
    """The child's stdout and stderr read to their end and its exit status from the zygote,
    as subprocess's communicate() reads them; the child killed past `timeout` seconds."""
    outputs: dict[int, list[bytes]] = {out_r: [], err_r: []}
    status = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(out_r, selectors.EVENT_READ)
        selector.register(err_r, selectors.EVENT_READ)
        selector.register(connection, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                raise subprocess.TimeoutExpired(
                    command, timeout, b"".join(outputs[out_r]), b"".join(outputs[err_r])
                )
            for key, _ in selector.select(left):
                if key.fileobj is connection:
                    chunk = connection.recv(_NUMBER.size - len(status))
                    status += chunk
                    if not chunk or len(status) == _NUMBER.size:
                        selector.unregister(connection)
                    continue
                data = os.read(key.fd, 65536)
                if data:
                    outputs[key.fd].append(data)
                else:
                    selector.unregister(key.fd)
    return b"".join(outputs[out_r]), b"".join(outputs[err_r]), status


def _text(data: bytes) -> str:
    """As subprocess's text mode decodes a pipe (universal newlines)."""
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _receive(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the CLI zygote closed the connection")
        data += chunk
    return data


# --- the zygote (run as a script) -------------------------------------------------------------


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:
        os._exit(1)


def _serve(path: str) -> None:
    _die_with_parent()
    for name in PRELOAD:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    while True:
        for key, _ in selector.select():
            if key.data is None:
                connection, _ = listener.accept()
                try:
                    header, fds, _flags, _address = socket.recv_fds(connection, _HEADER.size, 3)
                    request = json.loads(_receive(connection, _HEADER.unpack(header)[0]))
                except (OSError, ValueError, struct.error):
                    connection.close()
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    listener.close()
                    connection.close()
                    _child(request, fds)
                for fd in fds:
                    os.close(fd)
                with contextlib.suppress(OSError):
                    connection.sendall(_NUMBER.pack(pid))
                selector.register(os.pidfd_open(pid), selectors.EVENT_READ, (pid, connection))
            else:
                pid, connection = key.data
                selector.unregister(key.fd)
                os.close(key.fd)
                _, status = os.waitpid(pid, 0)
                with contextlib.suppress(OSError):
                    connection.sendall(_NUMBER.pack(os.waitstatus_to_exitcode(status)))
                connection.close()


def _exit_code(code: object) -> int:
    """As the interpreter turns SystemExit's argument into an exit status."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _child(request: dict[str, object], fds: list[int]) -> None:
    code = 1
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # as subprocess's close_fds
        os.chdir(str(request["cwd"]))
        os.umask(int(request["umask"]))  # type: ignore[call-overload]
        os.environ.clear()
        os.environ.update(request["env"])  # type: ignore[arg-type]
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        sys.argv = ["-m", *request["args"]]  # type: ignore[misc]
        sys.path.insert(0, str(request["cwd"]))  # as `python -m` puts its working directory
        import runpy
        import traceback

        try:
            runpy.run_module("lyncpki", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as ended:
            code = _exit_code(ended.code)
        except BaseException:
            traceback.print_exc()
            code = 1
        threading._shutdown()  # type: ignore[attr-defined]  # as the interpreter's exit does
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    finally:
        os._exit(code)


if __name__ == "__main__":
    sys.path.remove(str(Path(__file__).resolve().parent))  # as `python -m` would not have it
    _serve(sys.argv[1])
