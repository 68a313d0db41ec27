"""`ca serve` closes a connection whose request headers do not arrive in time (slowloris): a
connection that sent nothing, or a header a few bytes at a time, was held for as long as the
client liked. A request sent whole, and a slow body after whole headers, are served.

Headers too large or too many are refused: a 64 MiB header was read whole into memory and
answered, and 5,000 header fields were taken."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator

import pytest
from service_tools import Service, free_port, start_server, stop_server

from lyncpki.service.header_limits import MAX_HEADER_BYTES, MAX_HEADER_FIELDS

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


def _answer(port: int, request: bytes) -> bytes:
    """What the server answers to `request`, sent whole, read until it closes or 10 s pass."""
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(request)
        client.settimeout(10)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith((b"}", b"\n")):
            chunk = client.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def _refused_as_malformed(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer[:300]
    assert json.loads(body)["error"] == "request.malformed", body


def test_a_header_block_too_large_is_refused_before_it_ends(service: Service) -> None:
    """The answer comes while the header is still being sent (it is not read whole first),
    and the service stays healthy."""
    with socket.create_connection(("127.0.0.1", service.port)) as client:
        client.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
        client.settimeout(10)
        sent = 0
        answer = b""
        try:
            while sent < 1024 * MAX_HEADER_BYTES:
                client.sendall(b"a" * 16384)
                sent += 16384
        except (BrokenPipeError, ConnectionResetError):
            pass
        with contextlib.suppress(ConnectionResetError):
            answer = client.recv(65536)
    assert sent < 1024 * MAX_HEADER_BYTES, "the server read the whole header"
    if answer:
        _refused_as_malformed(answer)
    assert _answer(service.port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n").startswith(
        b"HTTP/1.1 200"
    )


def test_headers_within_the_limit_and_a_large_body_are_served(service: Service) -> None:
    """Up to the limits, a request is served: headers just under the size, exactly the
    number of fields; a body is not counted as header (1 MiB + 1 after small headers is the
    body limit's 413, not a 400)."""
    cookie = b"a" * (MAX_HEADER_BYTES - 200)
    answer = _answer(
        service.port, b"GET /health HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + b"\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    fields = b"".join(b"X-F%d: v\r\n" % n for n in range(MAX_HEADER_FIELDS - 1))
    answer = _answer(service.port, b"GET /health HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    body = b"x" * (1024 * 1024 + 1)
    answer = _answer(
        service.port,
        b"POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body,
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]


def test_too_many_header_fields_are_refused(service: Service) -> None:
    fields = b"".join(b"X-F%d: v\r\n" % n for n in range(MAX_HEADER_FIELDS + 1))
    _refused_as_malformed(
        _answer(service.port, b"GET /health HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    )
