"""A deadline for a request's headers: uvicorn waits for them for ever.

A connection that sends nothing, or a request line and a header a few bytes at a time (the
"slowloris" attack), held one of the service's connections — and its file descriptor — as long
as the client liked: uvicorn times out only an idle connection between two requests
(keep-alive). Here every request must have sent its whole header block within
HEADER_SECONDS of the connection's opening, or of the previous answer; else the connection is
closed. A request's body is not bounded by it (a slow upload of a large request stays served),
only by the service's body limit.
"""

from __future__ import annotations

import asyncio
import os

from lyncpki.service.ocsp_protocol import OcspHttpProtocol

HEADER_SECONDS_VARIABLE = "LYNCPKI_SERVICE_HEADER_SECONDS"
DEFAULT_HEADER_SECONDS = 20.0  # Apache's RequestReadTimeout gives headers 20-40 s


def header_seconds() -> float:
    """The deadline, from the environment (set by an administrator, inherited by workers)."""
    text = os.environ.get(HEADER_SECONDS_VARIABLE, "")
    try:
        seconds = float(text)
    except ValueError:
        return DEFAULT_HEADER_SECONDS
    return seconds if seconds > 0 else DEFAULT_HEADER_SECONDS


HEADER_SECONDS = header_seconds()  # read once: a worker's environment is its service's


class HeaderDeadlineProtocol(OcspHttpProtocol):
    """The service's HTTP protocol, closing a connection whose request headers do not arrive
    in time."""

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # a second request on the connection: its own headers, its own deadline

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(HEADER_SECONDS, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.cycle is None or self.cycle.response_complete:  # no request being answered
            self.transport.close()
