"""`ca serve` closes a connection whose request headers do not arrive in time (slowloris): a
connection that sent nothing, or a header a few bytes at a time, was held for as long as the
client liked. A request sent whole, and a slow body after whole headers, are served."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from service_tools import Service, free_port, start_server, stop_server

DEADLINE = 1.0


@pytest.fixture(scope="module")
def strict(service: Service) -> Iterator[int]:
    """A second `ca serve` of the session's home with a one-second deadline: its port."""
    port = free_port()
    process = start_server(
        service.home,
        port,
        service.log,
        env={"LYNCPKI_SERVICE_HEADER_SECONDS": str(DEADLINE)},
    )
    try:
        yield port
    finally:
        stop_server(process)


def _closed_after(connection: socket.socket, drip: bytes = b"") -> float | None:
    """Seconds until the server closed `connection` (sending `drip` a byte every 0.2 s
    meanwhile), or None if it was still open after 10 s."""
    started = time.monotonic()
    connection.settimeout(0.2)
    sent = 0
    while time.monotonic() - started < 10:
        try:
            if connection.recv(4096) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.monotonic() - started
        if sent < len(drip):
            try:
                connection.sendall(drip[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started
            sent += 1
    return None


def test_a_silent_connection_is_closed_after_the_deadline(strict: int) -> None:
    with socket.create_connection(("127.0.0.1", strict)) as silent:
        took = _closed_after(silent)
    assert took is not None and DEADLINE * 0.8 <= took < DEADLINE + 3, took


def test_headers_sent_a_byte_at_a_time_are_cut_off(strict: int) -> None:
    endless = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    with socket.create_connection(("127.0.0.1", strict)) as slow:
        took = _closed_after(slow, endless)
    assert took is not None and took < DEADLINE + 3, took


def test_a_whole_request_is_answered_and_a_slow_body_after_its_headers_too(strict: int) -> None:
    with socket.create_connection(("127.0.0.1", strict)) as client:
        client.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        client.settimeout(10)
        assert client.recv(4096).startswith(b"HTTP/1.1 200")
    body = b"x" * 8
    with socket.create_connection(("127.0.0.1", strict)) as client:
        client.sendall(
            b"POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        for byte in body:  # the body over twice the deadline: not cut off
            time.sleep(DEADLINE * 2 / len(body))
            client.sendall(bytes([byte]))
        client.settimeout(10)
        answer = client.recv(4096)
    assert answer.startswith(b"HTTP/1.1 "), answer  # answered (a malformed request, not 500)
    assert not answer.startswith(b"HTTP/1.1 5"), answer
