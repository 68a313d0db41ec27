"""API calls a web page of another site made a browser send: refused, and audited.

HTTP basic credentials a browser remembers go with any request to the service, so a web page
elsewhere could have a manager's browser revoke or approve (a form can post a JSON body as
text/plain). Scripts and tools send no Origin; the console's forms carry their own CSRF token.
Each refusal is audited, at most once a minute for each origin: a hostile page can make a
browser send them in a loop, and the audit log is append-only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.types import Scope

from lyncpki.service import errors

_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AUDIT_EVERY = 60.0  # seconds between two audit rows of one origin
_ORIGINS_KEPT = 1000  # origins remembered for the throttle (a flood of names is forgotten)

Audit = Callable[[str, str, str, str, str], None]  # actor, action, target, outcome, detail


def cross_site_origin(scope: Scope) -> str | None:
    """The other site a browser sent an API call that changes something from (its Origin, or
    what Sec-Fetch-Site says), or None."""
    if scope["method"] not in _CHANGES or not scope["path"].startswith("/api/"):
        return None
    origin: str | None = None
    host: str | None = None
    fetch_site: str | None = None
    for name, value in scope["headers"]:
        if name == b"origin":
            origin = value.decode("latin-1")
        elif name == b"host":
            host = value.decode("latin-1")
        elif name == b"sec-fetch-site":
            fetch_site = value.decode("latin-1")
    if fetch_site == "cross-site":
        return origin or "another site"
    if origin is None:
        return None
    if origin == "null" or origin.partition("://")[2] != host:
        return origin
    return None


class CrossSiteGuard:
    """Refuses cross-site API calls (403 request.cross_site) and audits them, throttled."""

    def __init__(self, audit: Audit, clock: Callable[[], float] = time.monotonic) -> None:
        self._audit = audit
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, int]] = {}  # origin -> (last row, refused since)

    async def refusal(self, scope: Scope) -> JSONResponse | None:
        """The 403 answer to give instead of the call, or None when the call may go on."""
        origin = cross_site_origin(scope)
        if origin is None:
            return None
        shown = origin[:100]
        if (since := self._due(shown)) is not None:
            more = f" ({since} more since the last row)" if since else ""
            detail = f"a web page of {shown} sent it: refused{more}"
            target = f"{scope['method']} {scope['path'][:200]}"
            await run_in_threadpool(self._audit, "-", "cross-site", target, "refused", detail)
        return JSONResponse(
            errors.error_body(
                "request.cross_site",
                f"a web page of another site ({shown}) sent this request: the CA's API takes "
                "no request made by a page elsewhere (a browser sends the credentials it "
                "remembers with it)",
                "call the API from a script or a tool (curl, certreq, lyncpki), or use the web "
                "console at /ui",
            ),
            403,
        )

    def _due(self, origin: str) -> int | None:
        """The refusals of `origin` not audited yet when a row is due now, else None."""
        now = self._clock()
        with self._lock:
            last = self._seen.get(origin)
            if last is not None and now - last[0] < AUDIT_EVERY:
                self._seen[origin] = (last[0], last[1] + 1)
                return None
            if len(self._seen) >= _ORIGINS_KEPT:
                self._seen.clear()
            self._seen[origin] = (now, 0)
            return last[1] if last is not None else 0


__all__ = ["AUDIT_EVERY", "CrossSiteGuard", "cross_site_origin"]
