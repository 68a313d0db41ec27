"""OCSP answers written by the HTTP protocol itself, for the requests the responder answers at
once (from its caches, or signed now about a certificate whose status it knows).

OCSP is the CA's busiest endpoint: every relying server asks, often, about the same
certificates. Through uvicorn's ASGI cycle a cached answer cost a request scope, an asyncio
task, the application's middleware and two `send` calls — most of the CPU of an answer. Here
`POST /ocsp` and `GET /ocsp/{base64}` are recognised when their headers are read; when the
request is complete, an answer the responder has at once is written to the connection
directly, with the headers the ASGI path would send. Everything else — no answer at once, a
body over the service's limit, `Expect: 100-continue`, a request behind another still being
answered — goes through the ASGI cycle exactly as before (`OcspFastPath`, then the routes), so
the answers are identical either way.

The responder is found on the application (`app.state.ocsp_answer_at_once`, set by
`create_app`); an application without one is served by uvicorn's protocol unchanged.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from lyncpki.service.errors import error_body
from lyncpki.service.ocsp_http import (
    MAX_BODY,
    OCSP_GET_PREFIX,
    OCSP_RESPONSE,
    ocsp_get_headers,
    ocsp_get_request,
)

_PREFIX = OCSP_GET_PREFIX.encode()
_CONTENT_TYPE = b"content-type: " + OCSP_RESPONSE.encode() + b"\r\n"


def _answerer(app: Any) -> Callable[[bytes], bytes | None] | None:
    """The responder's `answer_at_once` of `app`, looked for through the middleware that
    wraps it (uvicorn's proxy headers middleware, ...)."""
    for _ in range(8):
        state = getattr(app, "state", None)
        found = getattr(state, "ocsp_answer_at_once", None) if state is not None else None
        if found is not None:
            return found  # type: ignore[no-any-return]
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


class OcspHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering OCSP requests it can answer at once itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._answer_at_once = _answerer(self.app)
        self._ocsp: tuple[bytes, bytearray] | None = None  # (method, body) of a request held
        self._held_path = b""

    def send_400_response(self, msg: str) -> None:
        """A request HTTP itself cannot read (a malformed request line, a URL or a header
        beyond the parser's bounds), answered as every other error of the service is: JSON
        {error, message, fix}, not uvicorn's plain text. The connection is closed after it."""
        body = json.dumps(
            error_body(
                "request.malformed",
                "the request is not HTTP this service can read (a malformed request line, or a "
                "URL or header too long)",
                "send a well-formed HTTP/1.1 request; an OCSP request longer than a URL allows "
                "goes by POST /ocsp",
            )
        ).encode()
        content = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content += [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
        self.transport.write(b"".join(content))
        self.transport.close()

    def on_headers_complete(self) -> None:
        self._ocsp = None
        if self._answer_at_once is not None and self._takes(self.parser.get_method()):
            return  # held: answered in on_message_complete
        super().on_headers_complete()

    def _takes(self, method: bytes) -> bool:
        """Whether this request is an OCSP one to answer here (else the ASGI cycle's)."""
        if self.expect_100_continue or self.pipeline or self.root_path:
            return False
        if self.cycle is not None and not self.cycle.response_complete:
            return False  # answers leave in order: this one waits behind the other
        if self.parser.should_upgrade():
            return False
        path = self.url.partition(b"?")[0]
        if (method == b"POST" and path == b"/ocsp") or (
            method == b"GET" and path.startswith(_PREFIX)
        ):
            self._ocsp = (method, bytearray())
            self._held_path = path
            return True
        return False

    def on_body(self, body: bytes) -> None:
        if self._ocsp is None:
            super().on_body(body)
            return
        held = self._ocsp[1]
        held += body
        if len(held) > MAX_BODY:  # the route answers (413) and audits it
            self._to_cycle()

    def on_message_complete(self) -> None:
        if self._ocsp is None:
            super().on_message_complete()
            return
        method, body = self._ocsp
        request = (
            bytes(body)
            if method == b"POST"
            else ocsp_get_request(
                urllib.parse.unquote(self._held_path[len(_PREFIX) :].decode("ascii", "replace"))
            )
        )
        assert self._answer_at_once is not None
        try:
            answer = self._answer_at_once(request)
        except Exception:  # the ASGI path asks again, and answers 500 and logs it there
            answer = None
        if answer is None:  # a query, a lock, a signer renewal: the worker-thread path
            self._to_cycle()
            super().on_message_complete()
            return
        self._ocsp = None
        self._write(method, answer)

    def _to_cycle(self) -> None:
        """Hand the held request to the ASGI cycle, as if it had not been held."""
        assert self._ocsp is not None
        body = bytes(self._ocsp[1])
        self._ocsp = None
        super().on_headers_complete()
        if body:
            super().on_body(body)

    def _write(self, method: bytes, answer: bytes) -> None:
        keep_alive = self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()
        head = [STATUS_LINE[200]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [_CONTENT_TYPE, b"content-length: ", str(len(answer)).encode(), b"\r\n"]
        if method == b"GET":
            for name, value in ocsp_get_headers(answer):
                head += [name, b": ", value, b"\r\n"]
        if not keep_alive:
            head.append(b"connection: close\r\n")
        head += [b"\r\n", answer]
        self.transport.write(b"".join(head))
        if self.access_log:
            self.access_logger.info(
                '%s - "%s %s HTTP/%s" %d',
                f"{self.client[0]}:{self.client[1]}" if self.client else "-",
                method.decode("ascii"),
                self.url.decode("ascii", "replace"),
                self.parser.get_http_version(),
                200,
            )
        if not keep_alive:
            self.transport.close()
        self.on_response_complete()  # counts it; arms the keep-alive timer
