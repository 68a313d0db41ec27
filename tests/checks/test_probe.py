"""`check --endpoint/--live` at scale: an endpoint that accepts connections and never answers
(a hung service, a load balancer with no pool member) costs one timeout, not one per handshake;
endpoints are probed --jobs at a time, and reported in the order they were given.

The silent endpoints are plain sockets of this test, not lyncpki code: they count the
connections they accept and how many are open at once."""

from __future__ import annotations

import itertools
import json
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pexpect
import pytest

from lab import CONTOSO, lab_env, run_lyncpki
from lyncpki.checks.probe import resolving


class Silent:
    """Listening sockets that accept and then say nothing until the client hangs up."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: dict[int, int] = {}
        self.accept_times: list[float] = []
        self.open = 0
        self.most_open = 0
        self.stop = threading.Event()

    @contextmanager
    def endpoint(self) -> Iterator[int]:
        listener = socket.create_server(("127.0.0.1", 0), backlog=16)
        listener.settimeout(0.1)
        port = int(listener.getsockname()[1])
        self.accepted[port] = 0
        thread = threading.Thread(target=self._serve, args=(listener, port), daemon=True)
        thread.start()
        try:
            yield port
        finally:
            self.stop.set()
            thread.join(10)
            listener.close()

    def _serve(self, listener: socket.socket, port: int) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with self.lock:
                self.accepted[port] += 1
                self.accept_times.append(time.monotonic())
                self.open += 1
                self.most_open = max(self.most_open, self.open)
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(30)
            try:
                while conn.recv(4096):  # the ClientHello, then nothing: wait for the hang-up
                    pass
            except OSError:
                pass
        with self.lock:
            self.open -= 1


def check(home: Path, *args: str | Path) -> dict[str, Any]:
    process = run_lyncpki("check", "--home", home, "--format", "json", *args, env=lab_env())
    assert "Traceback" not in process.stderr, process.stderr
    assert process.returncode == 1, process.stdout + process.stderr
    return json.loads(process.stdout) | {"exit": process.returncode}  # type: ignore[no-any-return]


def test_a_silent_endpoint_costs_one_timeout_not_one_per_handshake(
    tmp_path: Path, internal_topology: Path
) -> None:
    silent = Silent()
    with silent.endpoint() as port:
        report = check(
            tmp_path,
            "--topology",
            internal_topology,
            "--endpoint",
            f"127.0.0.1:{port}=fe01.contoso.net",
            "--timeout",
            "0.5",
            "--offline",
        )
    handshakes = report["handshakes"]
    assert len(handshakes) == 8  # four planned names, TLS 1.2 and 1.3
    assert silent.accepted[port] == 1  # the first one waited, the others were not tried
    assert all(h["unreachable"] and not h["ok"] for h in handshakes)
    assert "no answer within 0.5 s" in handshakes[0]["problem"]
    assert all(h["problem"].startswith("not tried") for h in handshakes[1:])
    errors = [f for f in report["findings"] if f["id"] == "tls.handshake"]
    assert len(errors) == 2 and all(f["severity"] == "error" for f in errors)
    assert {f["message"].split()[1] for f in errors} == {"TLSv1.2", "TLSv1.3"}


def test_refused_connections_are_not_tried_again(tmp_path: Path) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    report = check(tmp_path, "--endpoint", f"127.0.0.1:{port}", "--offline")
    first, second = report["handshakes"]
    assert first["problem"].startswith("cannot connect")
    assert second["problem"] == f"not tried, the endpoint was unreachable ({first['problem']})"


def test_endpoints_are_probed_jobs_at_a_time_and_reported_in_order(tmp_path: Path) -> None:
    """Three silent endpoints: with --jobs 3 their connections are all open at once; with
    --jobs 1 each is tried only when the previous one has timed out (1 s)."""
    for jobs in ("3", "1"):
        silent = Silent()
        with ExitStack() as stack:
            ports = [stack.enter_context(silent.endpoint()) for _ in range(3)]
            given = [f"127.0.0.1:{p}" for p in reversed(ports)]
            args = [a for g in given for a in ("--endpoint", g)]
            report = check(tmp_path, *args, "--jobs", jobs, "--timeout", "1", "--offline")
        assert sorted(silent.accepted.values()) == [1, 1, 1]
        if jobs == "3":
            assert silent.most_open == 3
        else:
            gaps = [b - a for a, b in itertools.pairwise(silent.accept_times)]
            assert min(gaps) >= 0.9, gaps  # the client's timeout, a floor: never shorter
        assert report["checked"] == given
        assert [h["endpoint"] for h in report["handshakes"]] == [g for g in given for _ in "12"]


def test_resolving_says_each_lookup_as_it_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    known = {"fe01.contoso.net", "dir01.contoso.net"}
    calls: list[tuple[str, bool, str]] = []

    def getaddrinfo(name: str, port: int) -> list[Any]:
        if name not in known:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return []

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    names = ["fe01.contoso.net", "gone.contoso.net", "dir01.contoso.net"]
    found = resolving(
        names,
        5061,
        jobs=2,
        done=lambda n, ok: calls.append((n, ok, threading.current_thread().name)),
    )
    assert list(found.items()) == [(n, n in known) for n in names]
    assert sorted(calls) == sorted((n, n in known, "MainThread") for n in names)


def test_live_shows_a_bar_while_it_resolves_the_servers_names(tmp_path: Path) -> None:
    """`check --live` looked up every server's name before it drew anything: 74 s of a blank
    terminal at 400 servers whose names did not resolve (1.5 s a lookup)."""
    home = tmp_path / "home"
    home.mkdir()
    env = lab_env(TERM="xterm", COLUMNS="120")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "lyncpki", "check", "--live", "--offline", "--topology", str(CONTOSO),
         "--home", str(home), "--jobs", "1"],
        env=env, encoding="utf-8", dimensions=(40, 120), timeout=120,
    )  # fmt: skip
    said = child.read()
    child.close()
    assert re.search(r"resolving\s.*\d+/\d+", said), said[-2000:]
