"""The CA's HTTP face: what AD CS web enrollment, cfssl serve and step-ca offer, for lyncpki.

POST /api/v1/enroll                       a PKCS#10 request -> certificate + chain, or 202
GET  /api/v1/requests/{id}                a request's status (and certificate once issued)
GET  /api/v1/account                      the account signed in with, and its role
POST /api/v1/requests/{id}/approve|deny   CA managers and auditors
POST /api/v1/certificates/{serial}/revoke CA managers and auditors
GET  /crl/{ca}.crl, /crl/{ca}+.crl        published CRLs (application/pkix-crl)
GET  /aia/{ca}.crt                        CA certificates (application/pkix-cert)
POST /ocsp, GET /ocsp/{base64}            RFC 6960 OCSP (when a responder is configured)
GET  /health
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from starlette.types import ASGIApp, Receive, Scope, Send

from lyncpki import __version__
from lyncpki.ca import database as db
from lyncpki.ca.accounts import Account, AccountWatch
from lyncpki.ca.authority import (
    MAX_REASON,
    CaError,
    CertificateAuthority,
    IssueResult,
    sans_list,
)
from lyncpki.ca.home import CaHome, resolve_passphrase
from lyncpki.ca.ocsp import OcspResponder, ensure_responder
from lyncpki.errors import LyncPkiError
from lyncpki.service import errors
from lyncpki.service.accept import preferred
from lyncpki.service.auth import Authenticator, require_manager
from lyncpki.service.cross_site import CrossSiteGuard, cross_site_origin
from lyncpki.service.enroll_fast_path import ENROLL_PATH, MAX_TEMPLATE_NAME, EnrollFastPath
from lyncpki.service.errors import ServiceError
from lyncpki.service.ocsp_http import (
    MAX_BODY,
    OCSP_GET_PREFIX,
    OCSP_REQUEST,
    OCSP_RESPONSE,
    ocsp_get_headers,
    ocsp_get_request,
)
from lyncpki.service.openapi_doc import complete
from lyncpki.service.published import PublishedFiles
from lyncpki.service.replay import replay
from lyncpki.service.submissions import Submissions
from lyncpki.service.workers import HOME_VARIABLE, end_with_service
from lyncpki.web.api_reference import add_api_reference
from lyncpki.web.console import add_console
from lyncpki.x509.identifiers import thumbprint
from lyncpki.x509.requests import RequestError

PEM_CHAIN = "application/pem-certificate-chain"
PKCS7 = "application/pkcs7-mime"
JSON = "application/json"
ANSWER_FORMS = (PEM_CHAIN, PKCS7, JSON)  # an issued certificate's, by the Accept header


class EnrollJson(BaseModel):
    model_config = ConfigDict(extra="forbid")  # "tempalte" issued under WebServer

    csr: str = Field(max_length=MAX_BODY, description="PKCS#10 request: PEM or base64 DER")
    template: str | None = Field(
        None,
        max_length=MAX_TEMPLATE_NAME,
        description="Template (default: the one the request names, else WebServer)",
    )


ENROLL_QUERY = frozenset({"template", "validity_days"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
FORM_FIX = (
    "send the request itself as the body: curl --data-binary @req.csr -H "
    "'Content-Type: application/pkcs10' (a URL-encoded form, --data-urlencode, is no request)"
)


class NoBody(BaseModel):
    """The body of a call that takes none: nothing, or an empty JSON object."""

    model_config = ConfigDict(extra="forbid")  # {"junk": 1} was taken and ignored


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")  # "reson": denied with no reason

    reason: str = Field("", max_length=MAX_REASON)


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")  # "Reason": revoked as unspecified, final

    reason: str = Field(
        "unspecified",
        max_length=32,
        description="RFC 5280 reason, e.g. keyCompromise, superseded, cessationOfOperation",
    )


Small = TypeVar("Small", bound=BaseModel)


def _optional_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI description of an optional JSON body (read by the route itself)."""
    return {
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


def _declared_too_large(scope: Scope) -> bool:
    """Whether the request's Content-Length is over MAX_BODY."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return value.isdigit() and int(value) > MAX_BODY
    return False


async def _body(request: Request, ca: CertificateAuthority, actor: str, action: str) -> bytes:
    """The request body, refused beyond MAX_BODY without reading it all (and audited as
    `actor`'s `action`)."""
    if _declared_too_large(request.scope):
        declared = request.headers["content-length"]
        message = f"the body is {declared} bytes, more than {MAX_BODY}"
        await _too_large(request, ca, actor, action, message)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            message = f"the body is more than {MAX_BODY} bytes"
            await _too_large(request, ca, actor, action, message)
        chunks.append(chunk)
    return b"".join(chunks)


async def _too_large(
    request: Request, ca: CertificateAuthority, actor: str, action: str, message: str
) -> NoReturn:
    client = request.client.host if request.client else "unknown"
    await run_in_threadpool(ca.audit, actor, action, client, "refused", f"413: {message}")
    what = {"enroll": "the certificate request only", "ocsp": "one OCSP request"}.get(
        action, "a JSON body of a few fields, or none"
    )
    raise ServiceError(413, "request.too_large", message, f"send {what}")


async def current_account(request: Request) -> Account:
    """The CA account of the caller (HTTP basic, or a client certificate), checked by the
    app's Authenticator: on the event loop when it remembers the credentials, else in a worker
    thread (scrypt, the database)."""
    authenticate: Authenticator = request.app.state.authenticate
    account = authenticate.remembered(request)
    if account is not None:
        return account
    checked: Account = await run_in_threadpool(authenticate, request)
    return checked


AccountDep = Annotated[Account, Depends(current_account)]


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(Encoding.PEM).decode()


class OcspFastPath:
    """POST /ocsp and GET (and HEAD) /ocsp/{base64} answered before routing (pure ASGI): OCSP is
    the hot path of a CA — every relying server asks, often; Windows asks with GET — and needs
    neither authentication nor validation models. The routes of the same names stay in the API
    description; answers are identical.

    An answer the responder can make without waiting (`answer_at_once`: from its caches, or
    signed now for a nonce request about a certificate whose status it knows; no network, no
    query, no lock held elsewhere) is sent from the event loop; anything else is answered by
    `respond` in a worker thread."""

    def __init__(self, app: ASGIApp, responder: Any) -> None:
        self.app = app
        self.responder = responder
        self.answer_at_once: Callable[[bytes], bytes | None] | None = getattr(
            responder, "answer_at_once", None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if method == "POST" and path == "/ocsp":
            if _declared_too_large(scope):  # the route answers 413 before any read: a
                await self.app(scope, receive, send)  # client that sent Expect: 100-continue
                return  # is not told to go on and upload it
            body, more = b"", True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > MAX_BODY:
                    await self.app(scope, replay(body, receive), send)  # the route answers 413
                    return
        elif method in ("GET", "HEAD") and path.startswith(OCSP_GET_PREFIX):
            body = ocsp_get_request(path[len(OCSP_GET_PREFIX) :])
        else:
            await self.app(scope, receive, send)
            return
        cached = self.answer_at_once(body) if self.answer_at_once is not None else None
        answer: bytes = (
            cached if cached is not None else await run_in_threadpool(self.responder.respond, body)
        )
        headers = [
            (b"content-type", OCSP_RESPONSE.encode()),
            (b"content-length", str(len(answer)).encode()),
        ]
        if method != "POST":
            headers += ocsp_get_headers(answer)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        # HEAD: the headers of the GET, no body (RFC 9110 9.3.2; HTTP caches ask so)
        await send({"type": "http.response.body", "body": answer if method != "HEAD" else b""})


class ServiceApp(FastAPI):
    """The FastAPI application of the CA service, with the usual enrollment answered before
    the framework (`enroll_fast_path`)."""

    enroll_fast_path: EnrollFastPath | None = None
    cross_site: CrossSiteGuard | None = None

    def openapi(self) -> dict[str, Any]:
        """FastAPI's document, completed with sign-in, errors and media types (once)."""
        if self.openapi_schema is None:
            self.openapi_schema = complete(
                super().openapi(),
                pem_chain=PEM_CHAIN,
                pkcs7=PKCS7,
                ocsp_request=OCSP_REQUEST,
                ocsp_response=OCSP_RESPONSE,
            )
        return self.openapi_schema

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and self.cross_site is not None
            and (origin := cross_site_origin(scope)) is not None  # the usual call: no await
        ):
            await (await self.cross_site.refusal(scope, origin))(scope, receive, send)
            return
        if self.enroll_fast_path is None:
            await super().__call__(scope, receive, send)
        else:
            await self.enroll_fast_path(scope, receive, send, super().__call__)


def create_app(ca: CertificateAuthority, *, ocsp: Any | None = None) -> ServiceApp:
    """The service of an opened CA (its keys in memory). `ocsp` is an OCSP responder with a
    `respond(request_der) -> response_der` method, or None."""
    app = ServiceApp(
        title="lyncpki CA service",
        version=__version__,
        description="Enrollment, CRL/AIA distribution and OCSP of the lyncpki enterprise CA. "
        "Errors are JSON: {error, message, fix}.",
        docs_url=None,  # /docs is rendered here (add_api_reference): no scripts from a CDN
        redoc_url=None,
    )
    add_api_reference(app)
    errors.install(app)
    app.cross_site = CrossSiteGuard(ca.audit)
    watch = AccountWatch(ca.engine)  # one dedicated connection for the API and the console
    app.state.authenticate = Authenticator(ca, watch)
    # enrollments, several at once; the accounts' generation read once for each batch
    submissions = app.state.submissions = Submissions(ca, generation=watch.generation)
    published = PublishedFiles(ca.home.publish, ca.clock)
    # The CA certificates above a certificate, sent with it: encoded once. The issuing CA and
    # the root; the root alone for what the root signs (a subordinate CA).
    chains = {by_root: ca.chain()[1:] if by_root else ca.chain() for by_root in (False, True)}
    chain_pems = {by_root: [_pem(c) for c in chain] for by_root, chain in chains.items()}
    chain_texts = {by_root: "".join(pems) for by_root, pems in chain_pems.items()}

    def _issued(result: IssueResult, accept: str) -> Response:
        headers = {"X-Request-Id": str(result.request_id)}
        if result.status == "pending" or result.certificate is None:
            return JSONResponse(
                {
                    "status": "pending",
                    "request_id": result.request_id,
                    "template": result.template,
                    "message": f"template {result.template} needs a CA manager's approval",
                    "retrieve": f"/api/v1/requests/{result.request_id}",
                },
                202,
                headers,
            )
        cert = result.certificate
        by_root = ca.signed_by_root(cert)
        headers["X-Serial"] = result.serial or ""
        form = preferred(accept, ANSWER_FORMS, PEM_CHAIN)
        if form == PKCS7:
            body = pkcs7.serialize_certificates([cert, *chains[by_root]], Encoding.DER)
            return Response(body, media_type=PKCS7, headers=headers)
        if form == JSON:
            return JSONResponse(
                {
                    "status": "issued",
                    "request_id": result.request_id,
                    "serial": result.serial,
                    "template": result.template,
                    "certificate": _pem(cert),
                    "chain": chain_pems[by_root],
                },
                200,
                headers,
            )
        body = (_pem(cert) + chain_texts[by_root]).encode()
        return Response(body, media_type=PEM_CHAIN, headers=headers)

    @app.post(
        ENROLL_PATH,
        tags=["enrollment"],
        summary="Enroll: a PKCS#10 request for a certificate",
        responses={
            200: {
                "description": "Issued: PEM chain (leaf, issuing, root; leaf and root for a "
                "subordinate CA); PKCS#7 with "
                "Accept: application/pkcs7-mime; JSON with Accept: application/json"
            },
            202: {"description": "Pending a CA manager's approval"},
            401: {"description": "No or wrong CA account credentials"},
            413: {"description": "Body larger than 1 MiB"},
            422: {"description": "Refused by policy, with every reason"},
            429: {"description": "Too many failed logins"},
        },
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/pkcs10": {"schema": {"type": "string", "format": "binary"}},
                    "application/json": {"schema": EnrollJson.model_json_schema()},
                    "text/plain": {"schema": {"type": "string"}},
                }
            }
        },
    )
    async def enroll(
        request: Request,
        account: AccountDep,
        template: Annotated[str | None, Query()] = None,
        validity_days: Annotated[
            int | None,
            Query(
                ge=1,
                le=36500,
                description="Fewer days than the template's (deploy asks the "
                "plan's); more is refused (policy.validity)",
            ),
        ] = None,
    ) -> Response:
        body = await _body(request, ca, account.name, "enroll")
        try:
            data, template = _enrollment(request, body, template)
        except ServiceError as error:  # refused before the CA saw it: audited all the same
            detail = f"{error.status} {error.code}: {error.message}"
            await run_in_threadpool(
                ca.audit, account.name, "submit", "the request", "refused", detail
            )
            raise
        try:
            result = await submissions.submit(
                data, requester=account.name, template=template, validity_days=validity_days
            )
        except RequestError as error:  # a form (curl --data-urlencode) that is no request
            if request.headers.get("content-type", "").lower().startswith(FORM_TYPES):
                raise RequestError(error.message, FORM_FIX) from None
            raise
        return _issued(result, request.headers.get("accept", ""))

    app.enroll_fast_path = EnrollFastPath(
        recall=app.state.authenticate.recall_basic, submissions=submissions, issued=_issued
    )

    def _enrollment(
        request: Request, body: bytes, template: str | None
    ) -> tuple[bytes, str | None]:
        """The request's bytes and the template asked for (query or JSON body)."""
        unknown = sorted(set(request.query_params) - ENROLL_QUERY)
        if unknown:  # "?tempalte=LyncServer" was issued under the default template
            raise ServiceError(
                400,
                "request.invalid",
                f"query parameter {unknown[0][:40]!r} is not known here",
                "ask with ?template=NAME and ?validity_days=N only",
            )
        asked = request.query_params.getlist("template")
        if any(not name.strip() for name in asked):  # "?template=" was the default template
            raise ServiceError(
                400,
                "request.invalid",
                "query parameter template is empty",
                "name a template the CA offers (lyncpki ca templates), or leave ?template= out",
            )
        if len({name.strip().lower() for name in asked}) > 1:
            raise ServiceError(
                400,
                "request.template_conflict",
                f"the query asks for {len(asked)} templates: "
                + ", ".join(repr(name[:MAX_TEMPLATE_NAME]) for name in asked[:4]),
                "name one template (?template=WebServer)",
            )
        if template is not None and len(template) > MAX_TEMPLATE_NAME:
            raise ServiceError(
                422,
                "request.invalid",
                f"query parameter template is longer than {MAX_TEMPLATE_NAME} characters "
                f"({len(template)}): no template has such a name",
                "name a template the CA offers (lyncpki ca templates)",
            )
        if request.headers.get("content-type", "").lower().startswith("application/json"):
            try:
                payload = EnrollJson.model_validate_json(body)
            except ValidationError as error:
                raise ServiceError(
                    422,
                    "request.invalid",
                    errors.plain_problems(
                        {**e, "loc": ("body", *e["loc"]) if e["loc"] else ()}
                        for e in error.errors()
                    ),
                    'send {"csr": "<PEM>", "template": "WebServer"} ("template" may be left out)',
                ) from None
            if (
                payload.template is not None
                and template is not None
                and payload.template.strip().lower() != template.strip().lower()
            ):
                raise ServiceError(
                    400,
                    "request.template_conflict",
                    f"the query asks for template {template!r} and the JSON body for "
                    f"{payload.template!r}",
                    'name the template once (?template= or the body\'s "template"), or the '
                    "same in both",
                )
            return payload.csr.encode(), payload.template or template
        return body, template

    @app.get(
        "/api/v1/account",
        tags=["enrollment"],
        summary="The account these credentials sign in as, and its role",
    )
    def account_of(account: AccountDep) -> dict[str, Any]:
        """What a client asks before it starts a long job (lyncpki deploy --ca): a wrong
        password is one failed sign-in here, not one per certificate (which the rate limit
        turns into a lock-out of the account's real users)."""
        return {"account": account.name, "role": str(account.role)}

    @app.get(
        "/api/v1/requests/{request_id}",
        tags=["enrollment"],
        summary="A request's status, and its certificate once issued",
    )
    def request_status(request_id: int, request: Request, account: AccountDep) -> Any:
        try:
            status = ca.request_status(request_id)
        except CaError:
            if account.may_manage:
                raise
            status = None  # a requester is told the same of no request and of another's
        if status is None or (status["requester"] != account.name and not account.may_manage):
            ca.audit(
                account.name,
                "status",
                f"request {request_id}",
                "denied",
                "another account's request, or none (requesters see their own)",
            )
            raise ServiceError(
                404,
                "not_found",
                f"no request {request_id} of yours",
                "ask with the account that made the request",
            )
        answer = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in status.items()}
        answer["sans"] = sans_list(status.get("sans"))  # a list, as every --json gives them
        if status["status"] == "issued" and status["serial"]:
            _, cert = ca.certificate(status["serial"])
            accept = request.headers.get("accept", "")
            if preferred(accept, ANSWER_FORMS, JSON) != JSON:  # asked for as enroll answers it
                return _issued(IssueResult("issued", request_id, status["template"], cert), accept)
            answer["certificate"] = _pem(cert)
            answer["chain"] = chain_pems[ca.signed_by_root(cert)]
        return answer

    @app.post(
        "/api/v1/requests/{request_id}/approve",
        tags=["management"],
        summary="Approve a pending request (manager, auditor; not one's own)",
    )
    async def approve(request_id: int, request: Request, account: AccountDep) -> Response:
        await run_in_threadpool(require_manager, ca, account, "approve", f"request {request_id}")
        await _small_json(request, NoBody, account.name, "approve")

        def decide() -> IssueResult:
            return ca.approve(request_id, actor=account.name, forbid_self=True)

        result = await run_in_threadpool(decide)
        return _issued(result, request.headers.get("accept", ""))

    @app.post(
        "/api/v1/requests/{request_id}/deny",
        tags=["management"],
        summary="Deny a pending request (manager, auditor)",
        openapi_extra=_optional_body(Decision),
    )
    async def deny(request_id: int, request: Request, account: AccountDep) -> dict[str, Any]:
        # the role first: a requester is told 403, whatever the body (it was 413 or 422)
        await run_in_threadpool(require_manager, ca, account, "deny", f"request {request_id}")
        decision = await _small_json(request, Decision, account.name, "deny")

        def decide() -> None:
            ca.deny(
                request_id,
                actor=account.name,
                reason=decision.reason if decision else "",
                forbid_self=True,
            )

        await run_in_threadpool(decide)
        return {"request_id": request_id, "status": "denied"}

    @app.post(
        "/api/v1/certificates/{serial}/revoke",
        tags=["management"],
        summary="Revoke a certificate (manager, auditor); its CA's CRL is published at once",
        openapi_extra=_optional_body(Revocation),
    )
    async def revoke(serial: str, request: Request, account: AccountDep) -> dict[str, Any]:
        await run_in_threadpool(require_manager, ca, account, "revoke", serial[:128])
        body = await _small_json(request, Revocation, account.name, "revoke")

        def decide() -> dict[str, Any]:
            reason = body.reason if body else "unspecified"
            # refusals audited; the CA's own certificate is revoked only on its machine
            return ca.revoke(serial[:128], reason=reason, actor=account.name, keep_own=True)

        done = await run_in_threadpool(decide)
        return {
            "serial": done["serial"],
            "reason": done["reason"],
            "revoked_at": done["revoked_at"].isoformat(),
            **await _publish_after(done, account.name),
        }

    async def _publish_after(done: dict[str, Any], actor: str) -> dict[str, Any]:
        """The CRL published after a revocation or a release, as the console does: what the
        answer says of it (`crl`: published, or what is left to do and how)."""
        try:
            left = await run_in_threadpool(ca.publish_after, done, actor=actor)
        except LyncPkiError as error:  # the revocation stands; the CRL is published later
            return {"crl": "not published", "crl_problem": error.message, "crl_fix": error.fix}
        if left is not None:
            return {"crl": "not published", "crl_fix": left}
        return {"crl": "published"}

    async def _small_json(
        request: Request, model: type[Small], actor: str, action: str
    ) -> Small | None:
        """The optional JSON body of a management call, read up to MAX_BODY (FastAPI's own
        Body() reads any size before the handler runs), or None when there is none."""
        body = await _body(request, ca, actor, action)
        if not body.strip():
            return None
        try:
            return model.model_validate_json(body)
        except ValidationError as error:
            fields = ", ".join(f'"{name}": "..."' for name in model.model_fields)
            raise ServiceError(
                422,
                "request.invalid",
                errors.plain_problems(
                    {**e, "loc": ("body", *e["loc"]) if e["loc"] else ()} for e in error.errors()
                ),
                f"send {{{fields}}} as JSON, or no body" if fields else "send no body",
            ) from None

    @app.post(
        "/api/v1/certificates/{serial}/unrevoke",
        tags=["management"],
        summary="Release a certificate on hold (manager, auditor); valid again",
    )
    async def unrevoke(serial: str, request: Request, account: AccountDep) -> dict[str, Any]:
        await run_in_threadpool(require_manager, ca, account, "unrevoke", serial[:128])
        await _small_json(request, NoBody, account.name, "unrevoke")
        done = await run_in_threadpool(
            lambda: ca.release(serial[:128], actor=account.name)  # refusals audited
        )
        return {
            "serial": done["serial"],
            "released_at": done["released_at"].isoformat(),
            **await _publish_after(done, account.name),
        }

    @app.get(
        "/crl/{name}",
        tags=["distribution"],
        summary="A published CRL (DER)",
        response_class=Response,
    )
    def crl(name: str, request: Request) -> Response:
        return published.respond(request, "crl", name)

    @app.get(
        "/aia/{name}",
        tags=["distribution"],
        summary="A CA certificate (DER)",
        response_class=Response,
    )
    def aia(name: str, request: Request) -> Response:
        return published.respond(request, "aia", name)

    # HEAD answers like GET (caches and CRL fetchers ask it); kept out of the API description
    # so that every operation keeps one unique operationId.
    app.add_api_route("/crl/{name}", crl, methods=["HEAD"], include_in_schema=False)
    app.add_api_route("/aia/{name}", aia, methods=["HEAD"], include_in_schema=False)

    if ocsp is not None:
        app.add_middleware(OcspFastPath, responder=ocsp)
        # for the HTTP protocol of `ca serve` (service/ocsp_protocol.py), which answers these
        # before any ASGI cycle is made
        app.state.ocsp_answer_at_once = getattr(ocsp, "answer_at_once", None)

        @app.post(
            "/ocsp", tags=["distribution"], summary="OCSP (RFC 6960), POST", response_class=Response
        )
        async def ocsp_post(request: Request) -> Response:
            body = await _body(request, ca, "anonymous", "ocsp")
            answer = await run_in_threadpool(ocsp.respond, body)
            return Response(answer, media_type=OCSP_RESPONSE)

        @app.get(
            "/ocsp/{encoded:path}",
            tags=["distribution"],
            summary="OCSP (RFC 6960), GET with the base64 request in the path",
            response_class=Response,
        )
        def ocsp_get(encoded: str) -> Response:
            answer = ocsp.respond(ocsp_get_request(encoded))
            headers = {name.decode(): value.decode() for name, value in ocsp_get_headers(answer)}
            return Response(answer, media_type=OCSP_RESPONSE, headers=headers)

    root_thumbprint = thumbprint(ca.root.certificate)
    health_query = (
        select(db.audit.c.id)
        .where(db.audit.c.action == "init", db.audit.c.target == ca.config.slug)
        .limit(1)
    )

    @app.get("/health", tags=["service"], summary="Is the service and its database up")
    def health() -> dict[str, Any]:
        # the CA's own record, not merely a connection: a database dropped and made again
        # empty answered "ok" while every enrollment failed
        with ca.engine.connect() as conn:
            known = conn.execute(health_query).first()
        if known is None:
            raise errors.database_gone()
        if ca.issuing_ca_is_revoked:  # distribution still works; issuance does not
            refusal = ca.issuing_ca_revoked()
            raise ServiceError(503, "ca.revoked", refusal.message, refusal.fix)
        return {
            "status": "ok",
            "ca": ca.config.name,
            # what issued certificates chain to: a client tells internal ones from public
            "root_thumbprint": root_thumbprint,
            "version": __version__,
            "ocsp": ocsp is not None,
        }

    @app.head("/health", include_in_schema=False)  # what load balancers and probes send
    def health_head() -> Response:
        return JSONResponse(health())  # the GET's headers (its type and length), no body

    add_console(app, ca, watch)
    return app


ROOT_KEY_VARIABLE = "LYNCPKI_SERVICE_ROOT_KEY"  # "1": the workers hold the root key too


def app_from_environment() -> ServiceApp:
    """The factory `uvicorn --workers N` calls in each worker process: the CA home comes from
    LYNCPKI_SERVICE_HOME, the passphrase as everywhere (LYNCPKI_CA_PASSPHRASE, ...); the root
    key is opened only when LYNCPKI_SERVICE_ROOT_KEY is 1 (ca serve --root-key). The worker
    ends with the `ca serve` that started it, even when that one is killed."""
    end_with_service()
    home = CaHome(Path(os.environ[HOME_VARIABLE]))
    passphrase = resolve_passphrase(home)
    root_key = os.environ.get(ROOT_KEY_VARIABLE) == "1"
    ca = CertificateAuthority.open(home, passphrase, root_key=root_key)
    return create_app(ca, ocsp=ocsp_responder(ca, passphrase))


def ocsp_responder(ca: CertificateAuthority, passphrase: bytes) -> OcspResponder:
    """The CA's OCSP responder, its delegated signer made or renewed as needed."""
    return OcspResponder(ca, ensure_responder(ca, passphrase), passphrase=passphrase)
