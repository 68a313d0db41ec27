"""The web console of the CA service (`/ui`): certificate web enrollment as AD CS offers it
under /certsrv, CA managers' approvals, the inventory, the deployment dashboard and the CA's
downloads. Server-rendered (Jinja2), no script needed, every asset inside the package.

Every page needs a signed-in CA account (the roles of the CA service) that still exists as it
was at sign-in (checked at every page against the accounts' generation, so that a removed
account is refused at once); every form carries the session's CSRF token; managers and auditors
alone approve, deny and revoke. Refusals are audited (those anyone can cause before signing in,
a forged sign-in form or a throttled client's attempts, a row a minute of each kind).
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any, cast
from urllib.parse import quote, urlencode

import jinja2
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.routing import Match

from lyncpki.ca.accounts import Accounts, AccountWatch
from lyncpki.ca.authority import INVENTORY_STATES, CaError, CertificateAuthority, asked_text
from lyncpki.ca.crl import Reason
from lyncpki.ca.policy import RequestRefused, evaluate
from lyncpki.checks.home_check import run_home_check
from lyncpki.errors import LyncPkiError
from lyncpki.planning import Severity
from lyncpki.reports.visible import shown
from lyncpki.service.audit_throttle import AuditThrottle
from lyncpki.service.replay import replay
from lyncpki.web.dashboard import chain_rows, crl_status, dashboard
from lyncpki.web.session import (
    EndedSessions,
    Session,
    Sessions,
    equal,
    login_token,
    same,
    session_key,
    set_login_cookie,
)
from lyncpki.x509.identifiers import serial_hex
from lyncpki.x509.keys import describe
from lyncpki.x509.requests import read_request, requested_dns_names

MAX_UPLOAD = 64 * 1024
REQUEST_FORM_BYTES = 4 * MAX_UPLOAD  # the request page's form: a request pasted or uploaded
FORM_BYTES = 16 * 1024  # any other form of the console: a few short fields
MAX_FORM_FIELDS = 16
MAX_FORM_FILES = 1  # the request page's .req file
SORTABLE = ("subject", "sans", "serial", "template", "requester", "not_after", "status")
PAGE_ROWS = 500
DOWNLOADS = {
    "cer": "application/pkix-cert",
    "pem": "application/x-pem-file",
    "p7b": "application/pkcs7-mime",
}


def _page_of(request: Request) -> str:
    """Where to come back after signing in: the page itself, or for a form's action (approve,
    revoke, check now: POST only) the page the form is on (/ui/pending/7/approve: /ui/pending)
    — coming back to the action by GET ended on a 405 in JSON."""
    path = request.url.path
    if request.method == "GET":  # with its query: a filtered list comes back filtered
        query = request.url.query
        return f"{path}?{query}" if query else path
    page = "/".join(path.split("/")[:3])
    return page if page in _PAGES else "/ui/dashboard"


def safe_next(target: str | None) -> str:
    """Where sign-in may lead: a page of this console (a local /ui/ path, nothing that a
    browser could read as another host), else the request page."""
    if (
        target
        and target.startswith("/ui/")
        and ".." not in target
        and "\\" not in target
        and target.isprintable()
        and len(target) <= 2048
    ):
        return target
    return "/ui/request"


_ANY_METHOD = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_PAGES = frozenset({"/ui/request", "/ui/pending", "/ui/certificates", "/ui/dashboard", "/ui/ca"})


async def _read_form(request: Request) -> Any:
    """The posted form, its body refused beyond the page's cap (413) before anything parses it:
    the declared Content-Length first, then the bytes as they come (a chunked body declares
    none). Before, the parser read any body — a 1.5 GB file part spooled to /tmp before the
    sign-in form's token was even looked at. One the parser refuses (a pasted request over
    MAX_UPLOAD, too many fields, a multipart body without its boundary) is the console's error
    page, not the API's JSON."""
    limit = _form_limit(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and (len(declared) > 12 or int(declared) > limit):
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    read = Request(request.scope, replay(b"".join(chunks), request.receive, more_body=False))
    try:
        return await read.form(
            max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_UPLOAD
        )
    except (MultiPartException, StarletteHTTPException) as error:  # starlette raises the
        # parser's refusal as an HTTPException(400) inside an application
        reason = str(getattr(error, "detail", None) or error)
        raise Refused(
            413 if "exceeded" in reason.lower() else 400,
            "Form refused",
            f"the form could not be read ({reason}): a certificate request is a few KB; paste "
            "it whole, or upload the .req file",
        ) from None


def _form_limit(request: Request) -> int:
    """The most a form posted to this address may weigh: the request page's a request of
    MAX_UPLOAD pasted (percent-encoded: up to three bytes a character) or uploaded; every other
    form (sign-in, approve, deny, revoke...) a few short fields."""
    return REQUEST_FORM_BYTES if request.url.path == "/ui/request" else FORM_BYTES


def _too_large(limit: int) -> Refused:
    return Refused(
        413,
        "Form too large",
        f"the form is larger than the {limit // 1024} KiB this page takes: a certificate "
        "request is a few KB; paste it whole, or upload the .req file",
    )


class Redirect(Exception):
    def __init__(self, location: str) -> None:
        self.location = location


# Every console page: never cached, never framed by another site (clickjacking), its content
# type obeyed, and only this service's own style sheet and images (the pages run no script).
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'",
    "Referrer-Policy": "same-origin",
}


HSTS = "max-age=31536000"  # a year: served over HTTPS, never again over plain HTTP


def page_headers(request: Request) -> dict[str, str]:
    """PAGE_HEADERS, and over HTTPS Strict-Transport-Security: the browser then never sends
    the session cookie's sign-in over plain HTTP to this host (a typed http:// address)."""
    if request.url.scheme == "https":
        return {**PAGE_HEADERS, "Strict-Transport-Security": HSTS}
    return PAGE_HEADERS


def _status(error: LyncPkiError) -> int:
    """A refused action's status: the CA's own (404 missing, 403 forbidden), else 409."""
    return error.status if isinstance(error, CaError) else 409


def _said(error: LyncPkiError) -> str:
    """A refusal as the console shows it: what happened, then what to do."""
    return f"{error.message} ({error.fix})" if error.fix else error.message


class Refused(Exception):
    def __init__(
        self, status: int, title: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self.status, self.title, self.message = status, title, message
        self.headers = headers or {}


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("lyncpki.web", "templates"),
        autoescape=True,
        finalize=shown,  # control and direction characters shown, not obeyed
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["wordbreaks"] = wordbreaks
    return environment


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def wordbreaks(name: str) -> Markup:
    """A usage name (WebServicesInternal) with a line-break opportunity between its words, so
    that a narrow column breaks it there and nowhere else."""
    return Markup("<wbr>").join(escape(part) for part in _CAMEL.split(name))


def _when(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


async def _upload(value: object) -> bytes | None:
    read = getattr(value, "read", None)
    if read is None:
        return None
    data: bytes = await read(MAX_UPLOAD + 1)
    return data or None


class Console:
    """The pages, bound to one opened CA."""

    def __init__(self, ca: CertificateAuthority, watch: AccountWatch | None = None) -> None:
        self.ca = ca
        self.accounts = Accounts(ca.engine, ca.clock)
        self.accounts.ready_for_sign_ins()
        self.watch = watch or AccountWatch(ca.engine)
        self.sessions = Sessions(
            session_key(ca.home.secrets), EndedSessions(ca.home.secrets / "web-ended.json")
        )
        # sign-in refusals anyone can cause, whatever name they send: a row a minute of each
        # kind, with the count of the others (wrong passwords: a row each, as the throttle
        # of failed sign-ins bounds them)
        self.refusals = AuditThrottle(ca.audit)

    # ------------------------------------------------------------------ plumbing
    def render(
        self,
        name: str,
        request: Request,
        session: Session | None,
        status: int = 200,
        **values: Any,
    ) -> HTMLResponse:
        page = (
            _environment()
            .get_template(name)
            .render(session=session, path=request.url.path, when=_when, **values)
        )
        # no copy kept by the browser or a proxy: the pages hold the CSRF token, the pending
        # requests and the inventory, shown again by Back after sign-out
        return HTMLResponse(page, status, headers=page_headers(request))

    def _still_valid(self, session: Session) -> bool:
        """Whether the session's account still exists with the role and password it had at
        sign-in (as committed now, by any process)."""
        current = self.watch.current(session.account)
        return (
            current is not None
            and current[0].value == session.role
            and equal(current[1], session.version)
        )

    def shown_session(self, request: Request) -> Session | None:
        """The session an error page shows as signed in: none for an account removed or
        changed since sign-in (nothing audited: the page refuses nothing more)."""
        found = self.sessions.read(request)
        return found if found is not None and self._still_valid(found) else None

    def session(self, request: Request, *, manager: bool = False) -> Session:
        found = self.sessions.read(request)
        client = request.client.host if request.client else "unknown"
        if found is not None and not self._still_valid(found):
            self.ca.audit(
                found.account,
                "login",
                client,
                "refused",
                "web: the session's account was removed or changed since sign-in",
            )
            found = None
        if found is None:
            raise Redirect(f"/ui/login?next={quote(_page_of(request))}")
        if manager and not found.manager:
            self.ca.audit(
                found.account,
                "access",
                request.url.path[:128],
                "denied",
                f"web: {found.role} may not do this (CA managers and auditors only)",
            )
            raise Refused(
                403,
                "Not allowed",
                f"{found.account} ({found.role}) may not do this: CA managers and auditors only",
            )
        return found

    async def signed_in(self, request: Request, *, manager: bool = False) -> Session:
        """`session` from a coroutine: in a worker thread (the accounts' database, the audit),
        the event loop free meanwhile."""
        return await run_in_threadpool(self.session, request, manager=manager)

    async def form(self, request: Request, session: Session) -> dict[str, Any]:
        """The posted form, refused without the session's CSRF token."""
        form = await _read_form(request)
        if not same(session.csrf, _text(form.get("csrf"))):
            await run_in_threadpool(
                self.ca.audit, session.account, "form", request.url.path, "refused",
                "web: CSRF token missing or wrong",
            )  # fmt: skip
            raise Refused(
                403,
                "Form refused",
                "the form's security token is missing or wrong: reload the page and send it again",
            )
        return dict(form)

    # ------------------------------------------------------------------ sign-in
    def login_page(
        self, request: Request, error: str = "", status: int = 200, target: str | None = None
    ) -> HTMLResponse:
        """The sign-in form, leading to `target` (by default the page that sent here)."""
        token = login_token(request)
        target = safe_next(request.query_params.get("next") if target is None else target)
        response = self.render(
            "login.html.j2", request, None, status, error=error, token=token, next=target
        )
        set_login_cookie(response, request, token)
        return response

    async def login(self, request: Request) -> Response:
        form = await _read_form(request)
        if not same(request.cookies.get("lyncpki_login", ""), _text(form.get("token"))):
            client = request.client.host if request.client else "unknown"
            await self.refusals.refused(
                "login-token", _text(form.get("name")) or "-", "login", client, "refused",
                "web: sign-in form's token missing or wrong",
            )  # fmt: skip
            raise Refused(
                403,
                "Form refused",
                "the sign-in form's security token is missing or wrong: reload the page and "
                "sign in again",
            )
        name, password = _text(form.get("name")) or "", _text(form.get("password")) or ""
        target = safe_next(_text(form.get("next")))  # kept when the form is shown again
        client = request.client.host if request.client else "unknown"
        attempt = await run_in_threadpool(self.accounts.attempt, name, password, client)
        if attempt.throttled:
            await self.refusals.refused(
                "login-throttled", name or "-", "login", client, "refused", "web: throttled"
            )
            return self.login_page(request, "Too many failed sign-ins: wait a minute.", 429, target)
        checked = attempt.checked
        if checked is None:
            await run_in_threadpool(
                self.ca.audit, name or "-", "login", client, "refused",
                "web: wrong name or password",
            )  # fmt: skip
            return self.login_page(request, "Wrong account name or password.", 401, target)
        await run_in_threadpool(self.ca.audit, name, "login", client, "ok", "web console")
        response = RedirectResponse(target, 303)
        account, version = checked
        await run_in_threadpool(
            self.sessions.issue, response, request, account.name, account.role.value, version
        )
        return response

    async def logout(self, request: Request) -> Response:
        session = await self.signed_in(request)
        await self.form(request, session)
        response = RedirectResponse("/ui/login", 303)
        await run_in_threadpool(self.sessions.end, response, session)
        return response

    # ------------------------------------------------------------------ request
    def request_page(self, request: Request) -> HTMLResponse:
        session = self.session(request)
        return self.render("request.html.j2", request, session, templates=list(self.ca.templates))

    async def submit(self, request: Request) -> HTMLResponse:
        session = await self.signed_in(request)
        form = await self.form(request, session)
        uploaded = await _upload(form.get("file"))
        text = (_text(form.get("csr")) or "").strip()
        data = uploaded or text.encode()
        template = _text(form.get("template")) or None
        values: dict[str, Any] = {"templates": list(self.ca.templates), "csr": text}
        if not data or (uploaded and text):  # both: the file won and the text stayed shown
            return self.render(
                "request.html.j2",
                request,
                session,
                400,
                error="Paste a request or choose a .req file."
                if not data
                else "Give the request once: a .req file or pasted text, not both.",
                **values,
            )
        if len(data) > MAX_UPLOAD:
            await run_in_threadpool(
                self.ca.audit,
                session.account,
                "enroll",
                request.client.host if request.client else "unknown",
                "refused",
                f"413: web: a request of more than {MAX_UPLOAD} bytes",
            )
            return self.render(
                "request.html.j2",
                request,
                session,
                413,
                error="That file is too large for a certificate request.",
                **values,
            )
        try:
            result = await run_in_threadpool(
                self.ca.submit,
                data,
                requester=session.account,
                template=template,
                source="the uploaded request",
            )
        except RequestRefused as refused:
            return self.render(
                "request.html.j2", request, session, 422, refusals=refused.refusals, **values
            )
        except LyncPkiError as error:
            return self.render(
                "request.html.j2",
                request,
                session,
                400,
                error=error.message,
                fix=error.fix,
                **values,
            )
        return self.render("request_result.html.j2", request, session, result=result)

    # ------------------------------------------------------------------ pending
    def _reviewed(self, row: dict[str, Any], namespaces: tuple[str, ...]) -> dict[str, Any]:
        """A pending request with what a manager needs: its key, names and policy findings —
        judged as approving it would judge it (the namespaces the CA signs now, config.json read
        again when `ca domains` changed it; the CA's own keys refused)."""
        review = dict(row)
        review["asked"] = asked_text(row)
        try:
            read = read_request(self.ca.request_csr(int(row["id"])), f"request {row['id']}")
            review["key_text"] = describe(read.csr.public_key())
            review["names"] = requested_dns_names(read.csr)
            evaluate(
                read,
                self.ca.templates.get(row["template"]),
                namespaces=namespaces,
                ca_public_keys=self.ca.ca_public_keys,
            )
            review["refusals"] = []
        except RequestRefused as refused:
            review["refusals"] = [f"{r.code}: {r.message}" for r in refused.refusals]
        except LyncPkiError as error:
            review["refusals"] = [error.message]
        return review

    def pending_page(self, request: Request, message: str = "", status: int = 200) -> HTMLResponse:
        session = self.session(request, manager=True)
        waiting = self.ca.pending()
        # the oldest PAGE_ROWS, each CSR judged again: a requester's thousands of submissions
        # made a page of megabytes that re-read every request at each load
        namespaces = self.ca.namespaces  # config.json looked at once for the page
        rows = [self._reviewed(r, namespaces) for r in waiting[:PAGE_ROWS]]
        return self.render(
            "pending.html.j2", request, session, status, rows=rows, total=len(waiting),
            message=message,
        )  # fmt: skip

    async def decide(self, request: Request, request_id: int, approve: bool) -> HTMLResponse:
        session = await self.signed_in(request, manager=True)
        form = await self.form(request, session)
        try:
            if approve:
                result = await run_in_threadpool(
                    self.ca.approve, request_id, actor=session.account, forbid_self=True
                )
                message = f"Request {request_id} approved: certificate {result.serial} issued."
            else:
                reason = _text(form.get("reason")) or ""  # too long: refused, never cut
                await run_in_threadpool(
                    self.ca.deny,
                    request_id,
                    actor=session.account,
                    reason=reason,
                    forbid_self=True,
                )
                message = f"Request {request_id} denied."
        except LyncPkiError as error:
            return await run_in_threadpool(
                self.pending_page, request, f"Not done: {_said(error)}", _status(error)
            )
        return await run_in_threadpool(self.pending_page, request, message)

    # ------------------------------------------------------------------ certificates
    def certificates_page(
        self, request: Request, message: str = "", status_code: int = 200
    ) -> HTMLResponse:
        session = self.session(request)
        params = request.query_params
        query = (params.get("q") or "").strip().lower()
        wanted = params.get("sort") or ""
        sort = wanted if wanted in SORTABLE else "not_after"
        # by default the newest first (the longest to run): oldest first, a CA's first 500
        # certificates hid every one issued since
        descending = params.get("dir", "desc" if sort != wanted else "asc") == "desc"
        status = params.get("status") or None
        rows = self.ca.inventory(status if status in INVENTORY_STATES else "all")
        if query:
            rows = [r for r in rows if any(query in str(r.get(k, "")).lower() for k in SORTABLE)]
        rows.sort(key=lambda r: str(r.get(sort) or ""), reverse=descending)
        pages = max(1, -(-len(rows) // PAGE_ROWS))
        number = params.get("page") or "1"
        wished = int(number) if number.isdigit() and len(number) <= 9 else 1
        page = min(max(wished, 1), pages)
        first = (page - 1) * PAGE_ROWS
        kept = {"q": query, "status": status or "", "sort": sort}
        kept["dir"] = "desc" if descending else "asc"

        def page_link(n: int) -> str:
            return "/ui/certificates?" + urlencode({**kept, "page": str(n)})

        return self.render(
            "certificates.html.j2",
            request,
            session,
            status_code,
            rows=rows[first : first + PAGE_ROWS],
            first=first,
            page=page,
            pages=pages,
            previous=page_link(page - 1) if page > 1 else None,
            next_page=page_link(page + 1) if page < pages else None,
            total=len(rows),
            query=query,
            sort=sort,
            descending=descending,
            status_filter=status or "",
            reasons=_reasons(held=False),
            message=message,
            columns=SORTABLE,
            own=_own_serials(self.ca),
        )

    async def _certificates(
        self, request: Request, message: str, status_code: int = 200
    ) -> HTMLResponse:
        """The certificates page after an action, rendered in a worker thread."""
        return await run_in_threadpool(self.certificates_page, request, message, status_code)

    def _revocable(self, serial: str) -> dict[str, Any]:
        """The inventory row of the certificate a manager would revoke; the CA's own
        certificates (issuing CA, root) are refused here: revoked from a browser in one click,
        the CA stopped working (`lyncpki ca revoke` on the CA's machine still can)."""
        row, _ = self.ca.certificate(serial)
        if row["serial"] in _own_serials(self.ca):
            raise Refused(
                403,
                "Not allowed",
                f"{row['serial']} is the certificate of this CA itself: the console does not "
                "revoke it (on the CA's machine: lyncpki ca revoke SERIAL --reason ...)",
            )
        return row

    def revoke_page(
        self,
        request: Request,
        serial: str,
        error: str = "",
        status: int = 200,
        chosen: str | None = None,
    ) -> HTMLResponse:
        """What a revocation will do, named before it is done: subject, serial, reason (chosen
        here, never a default), and the button that does it (POST with confirm=1)."""
        session = self.session(request, manager=True)
        try:
            row = self._revocable(serial)
        except LyncPkiError as error_found:
            raise Refused(_status(error_found), "Not found", _said(error_found)) from None
        held = row["status"] == "revoked" and row.get("revocation_reason") == "certificateHold"
        if row["status"] not in ("valid", "expired") and not held:
            raise Refused(409, "Not revocable", f"certificate {row['serial']} is revoked already")
        wanted = request.query_params.get("reason") or "" if chosen is None else chosen
        try:
            reason = Reason.parse(wanted).value if wanted else ""
        except LyncPkiError as refused:
            reason, error = "", f"{refused.message} ({refused.fix})"
        return self.render(
            "revoke.html.j2", request, session, status, row=row, reason=reason, held=held,
            reasons=_reasons(held), error=error,
        )  # fmt: skip

    async def revoke(self, request: Request, serial: str) -> HTMLResponse:
        session = await self.signed_in(request, manager=True)
        form = await self.form(request, session)
        try:
            await run_in_threadpool(self._revocable, serial)
        except LyncPkiError as error:
            return await self._certificates(request, f"Not revoked: {_said(error)}", _status(error))
        chosen = _text(form.get("reason")) or ""
        if not chosen:  # never a default: "unspecified" is final and says nothing
            return await run_in_threadpool(
                self.revoke_page, request, serial, "Choose the reason of the revocation.", 422
            )
        try:  # as the API and the CLI read it: an unknown reason is refused, never unspecified
            reason = Reason.parse(chosen)
        except LyncPkiError as error:
            return await self._certificates(request, f"Not revoked: {_said(error)}", 422)
        if _text(form.get("confirm")) != "1":  # the revocation named before it is done
            return await run_in_threadpool(self.revoke_page, request, serial, chosen=reason.value)
        try:
            done = await run_in_threadpool(
                self.ca.revoke, serial, reason=reason, actor=session.account, keep_own=True
            )
        except LyncPkiError as error:
            return await self._certificates(request, f"Not revoked: {_said(error)}", _status(error))
        return await self._published(request, session, serial, done, f"revoked ({reason.value})")

    async def release(self, request: Request, serial: str) -> HTMLResponse:
        """Release a certificate on hold (`ca unrevoke`): valid again, and the CRLs say so."""
        session = await self.signed_in(request, manager=True)
        await self.form(request, session)
        try:
            done = await run_in_threadpool(self.ca.release, serial, actor=session.account)
        except LyncPkiError as error:
            return await self._certificates(
                request, f"Not released: {_said(error)}", _status(error)
            )
        return await self._published(request, session, serial, done, "released from hold")

    async def _published(
        self, request: Request, session: Session, serial: str, done: dict[str, Any], said: str
    ) -> HTMLResponse:
        """After a revocation or a release: the CRL of the CA that signed the certificate
        published (the root's for a subordinate CA, signed on the CA's machine when this
        service does not hold the root key; a full CRL of the issuing CA with its delta)."""
        try:
            left = await run_in_threadpool(self.ca.publish_after, done, actor=session.account)
        except LyncPkiError as error:
            return await self._certificates(
                request,
                f"Certificate {serial} {said}, but the CRL was not published: {_said(error)}",
            )
        if left is not None:
            return await self._certificates(
                request, f"Certificate {serial} {said}. {left[0].upper()}{left[1:]}"
            )
        return await self._certificates(
            request, f"Certificate {serial} {said}; the CRLs are published."
        )

    def download(self, request: Request, serial: str, kind: str) -> Response:
        self.session(request)
        if kind not in DOWNLOADS:
            raise Refused(404, "Not found", f"no download of kind .{kind}")
        try:
            _, cert = self.ca.certificate(serial)
        except LyncPkiError as error:
            raise Refused(404, "Not found", error.message) from None
        body = _encoded(cert, kind, self.ca.chain_for(cert))
        # the certificate's own serial, never the path's text (a CR or U+2028 in it broke the
        # header: a dropped connection, a 500)
        name = f"{serial_hex(cert.serial_number)}.{kind}"
        return Response(
            body,
            media_type=DOWNLOADS[kind],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # ------------------------------------------------------------------ dashboard, CA
    def dashboard_page(self, request: Request, message: str = "") -> HTMLResponse:
        session = self.session(request)
        board = dashboard(self.ca, self.ca.home.root)
        peak = max((n for _, n in board.weeks), default=0)
        return self.render(
            "dashboard.html.j2",
            request,
            session,
            board=board,
            peak=peak,
            chain=chain_rows(board.chain),
            message=message,
        )

    async def check_now(self, request: Request) -> HTMLResponse:
        """Run `lyncpki check` on the home's deployment (CRLs and OCSP fetched from their URLs,
        as the servers would), keep it as the last check and show it. Managers and auditors."""
        session = await self.signed_in(request, manager=True)
        await self.form(request, session)
        try:
            report = await run_in_threadpool(run_home_check, self.ca.home.root, self.ca.clock)
        except LyncPkiError as error:
            await run_in_threadpool(
                self.ca.audit, session.account, "check", "deployment", "failed", error.message
            )
            return await run_in_threadpool(
                self.dashboard_page, request, f"Not checked: {error.message}"
            )
        errors, warnings = report.count(Severity.ERROR), report.count(Severity.WARNING)
        summary = f"{len(report.checked)} stores, {errors} error(s), {warnings} warning(s)"
        await run_in_threadpool(
            self.ca.audit, session.account, "check", "deployment", "ok", summary
        )
        return await run_in_threadpool(self.dashboard_page, request, f"Checked now: {summary}.")

    def ca_page(self, request: Request) -> HTMLResponse:
        session = self.session(request)
        config = self.ca.config
        return self.render(
            "ca.html.j2",
            request,
            session,
            config=config,
            chain=chain_rows(self.ca.chain()),
            crls=crl_status(self.ca),
            aia=[
                (config.name, config.aia_url(config.slug)),
                (config.root_name, config.aia_url(config.root_slug)),
            ],
        )


def _reasons(held: bool) -> list[str]:
    """The reasons a manager chooses from (a certificate on hold: not the hold again)."""
    return [
        r.value
        for r in Reason
        if r is not Reason.REMOVE_FROM_CRL and not (held and r is Reason.CERTIFICATE_HOLD)
    ]


def _own_serials(ca: CertificateAuthority) -> frozenset[str]:
    """The serials of the CA's own certificates (issuing CA, root)."""
    return frozenset(
        serial_hex(c.serial_number) for c in (ca.issuer.certificate, ca.root.certificate)
    )


def chain_p7b(ca: CertificateAuthority) -> Response:
    """The CA's chain (issuing CA, root) as one PKCS#7 file: what the CA page tells to import."""
    body = pkcs7.serialize_certificates(list(ca.chain()), Encoding.DER)
    return Response(
        body,
        media_type="application/pkcs7-mime",
        headers={"Content-Disposition": 'attachment; filename="chain.p7b"'},
    )


def _encoded(cert: x509.Certificate, kind: str, chain: list[x509.Certificate]) -> bytes:
    if kind == "cer":
        return cert.public_bytes(Encoding.DER)
    if kind == "pem":
        return cert.public_bytes(Encoding.PEM)
    return pkcs7.serialize_certificates([cert, *chain], Encoding.DER)


def add_console(app: FastAPI, ca: CertificateAuthority, watch: AccountWatch | None = None) -> None:
    """Mount the web console on the CA service's app under /ui (`watch`: the accounts' watch
    of the app, shared with its API)."""
    console = Console(ca, watch)
    router = APIRouter(prefix="/ui", include_in_schema=False)

    def guard(
        page: Callable[..., Awaitable[Response] | Response],
    ) -> Callable[..., Awaitable[Response]]:
        async def run(request: Request, **kwargs: Any) -> Response:
            try:
                if inspect.iscoroutinefunction(page):
                    return cast(Response, await page(request, **kwargs))
                # a page that reads the database and renders (600 pending requests: half a
                # second) in a worker thread: OCSP, the API and /health answer meanwhile
                return cast(Response, await run_in_threadpool(page, request, **kwargs))
            except Redirect as redirect:
                return RedirectResponse(redirect.location, 303)
            except Refused as refused:
                session = await run_in_threadpool(console.shown_session, request)
                answer = console.render(
                    "error.html.j2",
                    request,
                    session,
                    refused.status,
                    title=refused.title,
                    message=refused.message,
                )
                answer.headers.update(refused.headers)
                return answer

        return run

    @router.get("")
    @router.get("/")
    async def home(request: Request) -> Response:
        # off the event loop, as every page: reading a session asks the store of ended ones
        signed = await run_in_threadpool(console.sessions.read, request) is not None
        return RedirectResponse("/ui/request" if signed else "/ui/login", 303)

    @router.get("/login")
    async def login_form(request: Request) -> Response:
        return await run_in_threadpool(console.login_page, request)

    @router.post("/login")
    async def login(request: Request) -> Response:
        return await guard(console.login)(request)

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        return await guard(console.logout)(request)

    @router.get("/request")
    async def request_form(request: Request) -> Response:
        return await guard(console.request_page)(request)

    @router.post("/request")
    async def submit(request: Request) -> Response:
        return await guard(console.submit)(request)

    @router.get("/pending")
    async def pending(request: Request) -> Response:
        return await guard(console.pending_page)(request)

    @router.post("/pending/{request_id:int}/approve")
    async def approve(request: Request, request_id: int) -> Response:
        return await guard(console.decide)(request, request_id=request_id, approve=True)

    @router.post("/pending/{request_id:int}/deny")
    async def deny(request: Request, request_id: int) -> Response:
        return await guard(console.decide)(request, request_id=request_id, approve=False)

    @router.get("/certificates")
    async def certificates(request: Request) -> Response:
        return await guard(console.certificates_page)(request)

    @router.get("/certificates/{serial}/revoke")
    async def revoke_confirm(request: Request, serial: str) -> Response:
        return await guard(console.revoke_page)(request, serial=serial)

    @router.post("/certificates/{serial}/revoke")
    async def revoke(request: Request, serial: str) -> Response:
        return await guard(console.revoke)(request, serial=serial)

    @router.post("/certificates/{serial}/release")
    async def release(request: Request, serial: str) -> Response:
        return await guard(console.release)(request, serial=serial)

    @router.get("/certificates/{serial}.{kind}")
    async def download(request: Request, serial: str, kind: str) -> Response:
        return await guard(console.download)(request, serial=serial, kind=kind)

    @router.get("/dashboard")
    async def board(request: Request) -> Response:
        return await guard(console.dashboard_page)(request)

    @router.post("/dashboard/check")
    async def check(request: Request) -> Response:
        return await guard(console.check_now)(request)

    @router.get("/ca")
    async def ca_page(request: Request) -> Response:
        return await guard(console.ca_page)(request)

    @router.get("/ca/chain.p7b")
    async def ca_chain(request: Request) -> Response:
        def chain(request: Request) -> Response:
            console.session(request)  # signed in, as for every download
            return chain_p7b(console.ca)

        return await guard(chain)(request)

    pages = [r for r in router.routes if isinstance(r, APIRoute)]
    for route in pages:  # HEAD as GET (a link checker, curl -I), as Starlette does
        if route.methods is not None and "GET" in route.methods:
            route.methods.add("HEAD")

    @router.api_route("/{rest:path}", methods=list(_ANY_METHOD))
    async def not_found(request: Request, rest: str) -> Response:
        """Any other /ui address, or a method a page does not take (PUT, OPTIONS...): a console
        page saying so, not the API's JSON."""
        allowed = sorted(
            {
                method
                for route in pages
                if route.matches(request.scope)[0] is not Match.NONE
                for method in route.methods or ()
            }
        )

        def missing(request: Request) -> Response:
            # a GET of a form's action (/ui/logout): no page there, as for any other address
            if allowed and request.method not in ("GET", "HEAD"):
                raise Refused(
                    405,
                    "Method not allowed",
                    f"{request.method[:16]} is not how to use {request.url.path}: it takes "
                    f"{', '.join(allowed)}",
                    {"Allow": ", ".join(allowed)},
                )
            raise Refused(404, "Not found", f"There is no console page at {request.url.path}.")

        return await guard(missing)(request)

    # the static files first: the last route above takes every other /ui address
    app.mount("/ui/static", StaticFiles(packages=[("lyncpki.web", "static")]), name="ui-static")
    app.include_router(router)

    @app.get("/", include_in_schema=False)
    async def root() -> Response:
        return RedirectResponse("/ui", 303)  # a browser pointed at the service: its console
