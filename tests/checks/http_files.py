"""A real HTTP server on a loopback port (stdlib, in a thread) serving the CRLs and OCSP
answers a test made: the relying party's view of a CDP and an OCSP responder."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Files:
    def __init__(self, port: int) -> None:
        self.port = port
        self.files: dict[str, tuple[bytes, str]] = {}
        self.post: Callable[[bytes], bytes] | None = None
        self.gets: dict[str, int] = {}  # GET requests received, by path
        self.delay = 0.0  # seconds each answer waits (a slow CDP)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def serving() -> Iterator[Files]:
    served: Files

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            served.gets[self.path] = served.gets.get(self.path, 0) + 1
            time.sleep(served.delay)
            body, kind = served.files.get(self.path, (b"not found", "text/plain"))
            self._send(200 if self.path in served.files else 404, body, kind)

        def do_POST(self) -> None:
            request = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if served.post is None:
                self._send(404, b"", "text/plain")
            else:
                self._send(200, served.post(request), "application/ocsp-response")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served = Files(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
