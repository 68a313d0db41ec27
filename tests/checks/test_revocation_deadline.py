"""A CRL distribution point that trickles its answer a byte at a time held `check` for as long
as it liked (httpx's timeout bounds each read, and a byte came every read), and `--timeout` did
not apply to CRL or OCSP fetches. Each fetch now has a deadline in all: --timeout."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import lab_env, run_lyncpki
from lyncpki.checks.revocation import RevocationSource
from path_pki import issue, write_pem

BODY = 100  # bytes announced, one sent every TICK: 5 s in all
TICK = 0.05


@pytest.fixture
def dripping() -> Iterator[str]:
    """An HTTP server that announces a CRL of BODY bytes and sends one every TICK seconds."""
    server = socket.create_server(("127.0.0.1", 0))
    stopped = threading.Event()

    def serve(connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(4096)
                connection.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {BODY}\r\n\r\n".encode())
                for _ in range(BODY):
                    if stopped.wait(TICK):
                        return
                    connection.sendall(b"0")
            except OSError:
                return

    def accept() -> None:
        while not stopped.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/slow.crl"
    finally:
        stopped.set()
        server.close()


def test_a_trickling_cdp_is_cut_off_at_the_deadline(dripping: str) -> None:
    source = RevocationSource(timeout=0.5)
    started = time.monotonic()
    try:
        fetched = source.crl(dripping)
    finally:
        source.close()
    assert time.monotonic() - started < 2.5
    assert fetched.crl is None and fetched.problem == "no complete answer within 0.5 s"


def test_check_timeout_bounds_the_crl_fetch(dripping: str, tmp_path: Path) -> None:
    root = issue("Deadline Root", None, ca=True)
    leaf = issue("pool01.contoso.net", root, ca=False, cdp=dripping, sans=("pool01.contoso.net",))
    started = time.monotonic()
    process = run_lyncpki(
        "check", "--cert", write_pem(tmp_path / "leaf.pem", leaf), "--trust",
        write_pem(tmp_path / "root.pem", root), "--timeout", "0.5", "--format", "json",
        "--home", tmp_path / "home", env=lab_env(),
    )  # fmt: skip
    assert time.monotonic() - started < 20
    assert "Traceback" not in process.stderr, process.stderr
    findings = json.loads(process.stdout)["findings"]
    unreachable = [f for f in findings if f["id"] == "cdp.unreachable"]
    assert unreachable and "no complete answer within 0.5 s" in unreachable[0]["message"], findings
    assert process.returncode == 1
