"""`lyncpki ca serve` on an address it cannot listen on says so before announcing anything, in
lyncpki's words (error + fix, exit status 2), not uvicorn's (`ERROR: [Errno 98] ...`, exit 3)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from service_tools import Service, free_port, service_env, start_server, stop_server

LYNCPKI = (sys.executable, "-m", "lyncpki")


def _serve(service: Service, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lyncpki", "ca", "serve", "--home", str(service.home), *args],
        capture_output=True,
        text=True,
        env=service_env(COLUMNS="200"),
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_an_input_error(service: Service, workers: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = _serve(service, "--port", str(port), "--workers", workers)
    assert refused.returncode == 2, refused
    assert refused.stderr.startswith(f"error: 127.0.0.1:{port} is in use"), refused.stderr
    assert "fix: choose another --port or stop what listens there" in refused.stderr
    assert "lyncpki CA service on" not in refused.stderr + refused.stdout
    assert "Errno" not in refused.stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_a_port_this_homes_running_service_holds_is_said_to_be_its(
    service: Service, workers: int
) -> None:
    """The likeliest way to meet a port in use is to start the same service twice: it was
    blamed on "another program" when the service ran in one process (its environment is its
    caller's; only the workers of `--workers N` carried the home)."""
    port = free_port()
    running = start_server(service.home, port, service.log, workers=workers)
    try:
        refused = _serve(service, "--port", str(port))
    finally:
        stop_server(running)
    said = " ".join(refused.stderr.split())
    assert refused.returncode == 2, refused
    assert (
        f"127.0.0.1:{port} is in use by this home's own CA service (`lyncpki ca serve`, pid "
        f"{running.pid}" in said
    ), said
    assert ("its workers: pid" in said) == (workers > 1), said
    assert f"fix: use the running service, or stop it (kill {running.pid}) first" in said
    assert "another program" not in said


def test_an_address_not_of_this_machine_is_an_input_error(service: Service) -> None:
    refused = _serve(service, "--host", "192.0.2.1", "--port", str(free_port()))  # TEST-NET-1
    assert refused.returncode == 2, refused
    assert refused.stderr.startswith("error: cannot listen on 192.0.2.1:"), refused.stderr
    assert "fix: give an address of this machine with --host" in refused.stderr
    assert "lyncpki CA service on" not in refused.stderr


@pytest.mark.parametrize("host", ["", "  "])
def test_an_empty_host_is_refused_not_read_as_every_interface(service: Service, host: str) -> None:
    """uvicorn binds an empty address to every interface: a CA reachable from anywhere must be
    asked for by name (0.0.0.0 or ::), never by an empty variable in a script."""
    refused = _serve(service, "--host", host, "--port", str(free_port()))
    assert refused.returncode == 2, refused
    assert refused.stderr.startswith("error: --host is empty"), refused.stderr
    assert "0.0.0.0" in refused.stderr
    assert "lyncpki CA service on" not in refused.stderr


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_an_ipv6_address_is_announced_as_a_url_writes_it(service: Service) -> None:
    """The announced address is one a browser or curl takes: http://[::1]:PORT/docs."""
    port = free_port()
    server = subprocess.Popen(
        [
            *LYNCPKI,
            "ca",
            "serve",
            "--home",
            str(service.home),
            "--host",
            "::1",
            "--port",
            str(port),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=service_env(COLUMNS="200"),
    )
    try:
        assert server.stderr is not None
        banner = server.stderr.readline()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert f"http://[::1]:{port}/docs" in banner, banner
