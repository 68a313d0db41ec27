"""API calls a web page of another site made a browser send: refused, and audited.

HTTP basic credentials a browser remembers go with any request to the service, so a web page
elsewhere could have a manager's browser revoke or approve (a form can post a JSON body as
text/plain). Scripts and tools send no Origin; the console's forms carry their own CSRF token.
The refusals are audited, one row a minute at most whatever their origins (which the sender
chooses: a throttle by origin let a loop with a new Origin each time write a row a request
into the append-only audit log, before any login), each row with the count of the refusals
since the row before.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.responses import JSONResponse
from starlette.types import Scope

from lyncpki.service import errors
from lyncpki.service.audit_throttle import AUDIT_EVERY, Audit, AuditThrottle

_CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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
        self._rows = AuditThrottle(audit, clock)

    async def refusal(self, scope: Scope, origin: str) -> JSONResponse:
        """The 403 answer to a call `cross_site_origin` found sent from `origin`, audited."""
        shown = origin[:100]
        target = f"{scope['method']} {scope['path'][:200]}"
        detail = f"a web page of {shown} sent it: refused"
        await self._rows.refused("cross-site", "-", "cross-site", target, "refused", detail)
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


__all__ = ["AUDIT_EVERY", "CrossSiteGuard", "cross_site_origin"]
