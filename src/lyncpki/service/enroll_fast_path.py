"""`POST /api/v1/enroll` answered before the web framework, for the usual request: a PKCS#10
body (PEM, DER or certreq base64), at most a `template` in the query, and HTTP basic
credentials this process checked less than a minute ago (`Authenticator.recall_basic`). Whether
an account changed since they were checked is asked by `Submissions`, once for all the requests
it takes together; a request whose credentials must be checked again (CredentialsChanged) goes
to the route, which checks them (and refuses a removed account, audited).

Through FastAPI such a request crossed its telemetry check, five middlewares, the router, the
dependency solver and a Request object before the enrollment began: on these machines about
0.4 ms of CPU, more than an EC certificate's whole issuance in the same process. Here the
request is read from the ASGI scope, submitted to the same `Submissions` and answered by the
same function as the route (`issued`, and `errors.response_for` for a refusal or a failure),
so that the answers are identical, headers included.

Everything else goes to the application unchanged: another path or method, a JSON body,
credentials not remembered (the route checks them, throttles and audits), a client certificate,
a query other than one plain template name, a body over the service's limit (the route answers
413 and audits it).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from lyncpki.ca.accounts import Account
from lyncpki.ca.authority import IssueResult
from lyncpki.service import errors
from lyncpki.service.ocsp_http import MAX_BODY
from lyncpki.service.replay import replay
from lyncpki.service.submissions import CredentialsChanged, Submissions
from lyncpki.service.tls import PEER_CERTIFICATE

ENROLL_PATH = "/api/v1/enroll"  # the route's path too
MAX_TEMPLATE_NAME = 64  # the route refuses a longer template name (422)
_TEMPLATE_QUERY = re.compile(rb"^template=([A-Za-z0-9._-]{1,%d})$" % MAX_TEMPLATE_NAME)

_ROUTE_TYPES = (b"application/json", b"application/x-www-form-urlencoded", b"multipart/form-data")
Issued = Callable[[IssueResult, str], Response]


class EnrollFastPath:
    """Answers the usual enrollment itself; hands anything else to `app`."""

    def __init__(
        self,
        *,
        recall: Callable[[str], tuple[Account, int] | None],
        submissions: Submissions,
        issued: Issued,
    ) -> None:
        self._recall = recall
        self._submissions = submissions
        self._issued = issued
        self.answered = 0  # requests answered here (tests read it)

    def _taken(self, scope: Scope) -> tuple[Account, int, str | None, str] | None:
        """The account, the generation its credentials were checked in, the template and the
        Accept header of a request answered here; else None."""
        if scope["method"] != "POST" or scope["path"] != ENROLL_PATH:
            return None
        if scope.get("state", {}).get(PEER_CERTIFICATE):
            return None  # client certificates are checked in the database every time
        query = scope.get("query_string", b"")
        template: str | None = None
        if query:
            found = _TEMPLATE_QUERY.match(query)
            if found is None:
                return None
            template = found.group(1).decode("ascii")
        authorization = content_type = accept = None
        for name, value in scope["headers"]:
            if name == b"authorization" and authorization is None:
                authorization = value
            elif name == b"content-type" and content_type is None:
                content_type = value
            elif name == b"accept" and accept is None:
                accept = value
            elif name == b"content-length" and (not value.isdigit() or int(value) > MAX_BODY):
                return None
        if authorization is None:
            return None
        if content_type is not None and content_type.lower().startswith(_ROUTE_TYPES):
            return None  # JSON, and a form (whose refusal has a fix of its own), go the route
        recalled = self._recall(authorization.decode("latin-1"))
        if recalled is None:
            return None
        account, checked_in = recalled
        return account, checked_in, template, (accept or b"").decode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        taken = self._taken(scope) if scope["type"] == "http" else None
        if taken is None:
            await app(scope, receive, send)
            return
        account, checked_in, template, accept = taken
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away: nobody to answer
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                await app(scope, replay(body, receive), send)  # the route answers 413
                return
        response: Response
        try:
            result = await self._submissions.submit(
                body, requester=account.name, template=template, checked_in=checked_in
            )
            response = self._issued(result, accept)
        except CredentialsChanged:  # an account changed meanwhile: the route checks again
            await app(scope, replay(body, receive, more_body=False), send)
            return
        except Exception as error:  # refused, or failed: answered as the route's handlers do
            response = errors.response_for(error)
        self.answered += 1
        await response(scope, receive, send)


__all__ = ["ENROLL_PATH", "MAX_TEMPLATE_NAME", "EnrollFastPath"]
