"""PKCS#12 files opened with a time limit.

A .pfx chooses its own key-derivation cost: each of its MAC, certificate bag and key bag names
an iteration count, up to 2^31, and pyca/cryptography (OpenSSL) runs whatever it says. A file
made to take hours would hang `lyncpki import`, `check --cert` or the wizard with no way to
tell why, and a file's counts cannot all be read before opening it (the key bag's may sit inside
the encrypted part). So files are opened in a child process (`pkcs12_child`), which is stopped
when a file takes longer than `LIMIT_SECONDS`; real exports (Windows: 2,000 iterations, OpenSSL:
2,048) open in milliseconds. The child is started once (about 0.1 s) and opens every file the
process reads after that, one at a time; it ends with its parent (the end of its input), and a
stopped one is started again for the next file. The private key comes back encrypted with a
one-time password.
"""

from __future__ import annotations

import atexit
import base64
import json
import math
import os
import secrets
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import load_der_private_key

LIMIT_SECONDS = 20.0


class Pkcs12TooSlow(Exception):
    """The file did not open within the time limit."""


@dataclass(frozen=True)
class Opened:
    """What a PKCS#12 file holds, as pyca/cryptography read it."""

    certificate: x509.Certificate | None
    friendly_name: bytes | None = None
    additional: list[x509.Certificate] = field(default_factory=list)
    key: PrivateKeyTypes | None = None


def looks_like_pkcs12(data: bytes) -> bool:
    """Whether `data` begins as a PFX does: a DER (or BER) SEQUENCE whose first element is
    INTEGER 3, its version. Looked at before a child process is asked about what is no PKCS#12
    at all (a truncated PEM, a text file); pyca/cryptography reads everything else."""
    if len(data) < 5 or data[0] != 0x30:
        return False
    length = data[1]
    start = 2 + (length & 0x7F if length & 0x80 else 0)
    return data[start : start + 3] == b"\x02\x01\x03"


def open_pkcs12(data: bytes, password: bytes | None, *, limit: float | None = None) -> Opened:
    """Open `data`; ValueError (pyca's message) when it cannot be, Pkcs12TooSlow past `limit`
    seconds (LIMIT_SECONDS when not given)."""
    limit = LIMIT_SECONDS if limit is None else limit
    transport = secrets.token_bytes(32)
    request = {
        "data": base64.b64encode(data).decode("ascii"),
        "password": None if password is None else base64.b64encode(password).decode("ascii"),
        "transport": base64.b64encode(transport).decode("ascii"),
        # the child's own stop, for when this process is gone: a little after the limit
        "alarm": math.ceil(limit) + 1,
    }
    answer = _READER.ask(json.dumps(request).encode("ascii") + b"\n", limit)
    if "error" in answer:
        raise ValueError(answer["error"])
    key = answer["key"]
    return Opened(
        certificate=_certificate(answer["certificate"]),
        friendly_name=None if answer["friendly_name"] is None else _bytes(answer["friendly_name"]),
        additional=[c for c in map(_certificate, answer["additional"]) if c is not None],
        # the child has just read this key from the file and checked it: no second RSA check
        key=None
        if key is None
        else load_der_private_key(_bytes(key), transport, unsafe_skip_rsa_key_validation=True),
    )


class _Reader:
    """The child process that opens the files, started when first needed; one file at a time
    (a lock), each answer awaited at most the file's limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._errors: IO[bytes] | None = None

    def ask(self, line: bytes, limit: float) -> dict[str, Any]:
        with self._lock:
            if self._child is not None and self._child.poll() is not None:
                self.stop()  # ended since the last file (killed by someone): a new one
            child = self._child if self._child is not None else self._start()
            assert child.stdin is not None and child.stdout is not None
            try:
                child.stdin.write(line)
                child.stdin.flush()
                answer = _read_line(child.stdout, time.monotonic() + limit)
            except BrokenPipeError:
                answer = b""
            if answer is None:
                self.stop(busy=True)
                raise Pkcs12TooSlow(f"it did not open within {limit:g} s")
            if not answer.endswith(b"\n"):  # the child ended (killed, out of memory)
                message = self._ended()
                self.stop()
                raise ValueError(message)
            parsed: dict[str, Any] = json.loads(answer)
            return parsed

    def _start(self) -> subprocess.Popen[bytes]:
        # what the child says when it fails, kept open for as long as it runs
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115
        self._child = subprocess.Popen(
            [sys.executable, "-m", "lyncpki.x509.pkcs12_child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        return self._child

    def _ended(self) -> str:
        assert self._child is not None and self._errors is not None
        code = self._child.wait()
        self._errors.seek(0)
        said = self._errors.read().decode("utf-8", "replace").strip()[-300:]
        return f"the reader stopped ({code})" + (f": {said}" if said else "")

    def stop(self, *, busy: bool = False) -> None:
        """End the child (at exit, after it ended; `busy`: still opening a file that took too
        long, killed at once)."""
        child, self._child = self._child, None
        if child is not None:
            if busy:
                child.kill()
            for stream in (child.stdin, child.stdout):
                if stream is not None:
                    stream.close()
            try:
                child.wait(timeout=1)  # its input ended: it ends
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if self._errors is not None:
            self._errors.close()
            self._errors = None

    def forget(self) -> None:
        """In a forked child: the pipes are the parent's; this process starts its own."""
        self._lock = threading.Lock()
        self._child = None
        self._errors = None


def _read_line(stream: IO[bytes], deadline: float) -> bytes | None:
    """One line of `stream` (what there is, without a line end, when the stream ends); None when
    `deadline` passes first."""
    fd = stream.fileno()
    chunks: list[bytes] = []
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                return None
            chunk = os.read(fd, 1 << 16)
            chunks.append(chunk)
            if not chunk or chunk.endswith(b"\n"):  # one request at a time: a line ends it
                return b"".join(chunks)


_READER = _Reader()
atexit.register(_READER.stop)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_READER.forget)


def _bytes(text: str) -> bytes:
    return base64.b64decode(text)


def _certificate(text: str | None) -> x509.Certificate | None:
    return None if text is None else x509.load_der_x509_certificate(_bytes(text))
