"""Limits on a request's headers: time, size and count. uvicorn (httptools) has none.

- **Time.** A connection that sends nothing, or a request line and a header a few bytes at a
  time (the "slowloris" attack), held one of the service's connections — and its file
  descriptor — as long as the client liked: uvicorn times out only an idle connection between
  two requests (keep-alive). Here every request must have sent its whole header block within
  HEADER_SECONDS of the connection's opening, or of the previous answer; else the connection is
  closed. A request's body is not bounded by it (a slow upload of a large request stays
  served), only by the service's body limit.
- **Size.** A header of 64 MiB was read whole into memory (the process grew by 130 MB for
  one request, no login needed) and answered. The request line and headers may take
  MAX_HEADER_BYTES together (a Lync server's or a browser's take a few hundred bytes; Apache
  allows about 800 KB in 100 fields of 8 KB, nginx 32 KB); past that, before the parser is
  given more, the answer is the service's JSON `400 request.malformed` and the connection is
  closed.
- **Count.** At most MAX_HEADER_FIELDS header fields (Apache's LimitRequestFields): 5,000
  headers were taken.
"""

from __future__ import annotations

import asyncio
import os

from lyncpki.service.ocsp_protocol import OcspHttpProtocol

HEADER_SECONDS_VARIABLE = "LYNCPKI_SERVICE_HEADER_SECONDS"
DEFAULT_HEADER_SECONDS = 20.0  # Apache's RequestReadTimeout gives headers 20-40 s
MAX_HEADER_BYTES = 64 * 1024  # the request line and every header, with their line ends
MAX_HEADER_FIELDS = 100
_END = b"\r\n\r\n"


def header_seconds() -> float:
    """The deadline, from the environment (set by an administrator, inherited by workers)."""
    text = os.environ.get(HEADER_SECONDS_VARIABLE, "")
    try:
        seconds = float(text)
    except ValueError:
        return DEFAULT_HEADER_SECONDS
    return seconds if seconds > 0 else DEFAULT_HEADER_SECONDS


HEADER_SECONDS = header_seconds()  # read once: a worker's environment is its service's


class _TooManyFields(Exception):
    """Raised from the parser's callback: httptools stops and uvicorn answers 400."""


class HeaderLimitsProtocol(OcspHttpProtocol):
    """The service's HTTP protocol, closing a connection whose request headers do not arrive
    in time, and refusing headers too large or too many."""

    _deadline: asyncio.TimerHandle | None = None
    _header_bytes = 0  # of the request whose headers are awaited
    _tail = b""  # the last bytes read, where a header block's end may begin
    _fields = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is not None:  # headers awaited: count them up to their end
            end = (self._tail + data).find(_END)
            if end < 0:
                self._header_bytes += len(data)
                self._tail = data[-3:]
            else:
                self._header_bytes += end - len(self._tail)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._disarm()
                self.send_400_response("headers too large")
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # a second request on the connection: its own headers, its own deadline

    def on_header(self, name: bytes, value: bytes) -> None:
        self._fields += 1
        if self._fields > MAX_HEADER_FIELDS:
            raise _TooManyFields
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(HEADER_SECONDS, self._too_slow)
            self._header_bytes, self._tail, self._fields = 0, b"", 0

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.cycle is None or self.cycle.response_complete:  # no request being answered
            self.transport.close()
