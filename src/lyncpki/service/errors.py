"""Every error the service answers is JSON: {"error": code, "message": ..., "fix": ...}.

Bad input is a 4xx with a message a person can act on, never a 500 (an internal error still
answers JSON, without internals: the cause goes to the log only).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lyncpki.ca.authority import CaError
from lyncpki.ca.policy import RequestRefused
from lyncpki.errors import LyncPkiError
from lyncpki.x509.requests import RequestError

log = logging.getLogger("lyncpki.service")


class ServiceError(LyncPkiError):
    """An answer other than success: an HTTP status, a stable code, a message and a fix."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fix: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, fix)
        self.status = status
        self.code = code
        self.headers = headers or {}


def error_body(code: str, message: str, fix: str | None, **more: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if fix:
        body["fix"] = fix
    body.update(more)
    return body


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a JSON answer."""

    @app.exception_handler(ServiceError)
    async def service_error(_: Request, error: ServiceError) -> JSONResponse:
        return JSONResponse(
            error_body(error.code, error.message, error.fix), error.status, error.headers
        )

    @app.exception_handler(RequestRefused)
    async def refused(_: Request, error: RequestRefused) -> JSONResponse:
        first = error.refusals[0]
        refusals = [{"code": r.code, "message": r.message, "fix": r.fix} for r in error.refusals]
        return JSONResponse(
            error_body(first.code, error.message, first.fix, refusals=refusals), 422
        )

    @app.exception_handler(RequestError)
    async def not_a_request(_: Request, error: RequestError) -> JSONResponse:
        return JSONResponse(error_body("request.invalid", error.message, error.fix), 400)

    @app.exception_handler(CaError)
    async def ca_error(_: Request, error: CaError) -> JSONResponse:
        status = 404 if error.message.startswith("no ") else 409
        code = "not_found" if status == 404 else "conflict"
        return JSONResponse(error_body(code, error.message, error.fix), status)

    @app.exception_handler(LyncPkiError)
    async def domain_error(_: Request, error: LyncPkiError) -> JSONResponse:
        return JSONResponse(error_body("invalid", error.message, error.fix), 400)

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
            for e in error.errors()
        ]
        return JSONResponse(
            error_body(
                "request.invalid",
                "; ".join(problems) or "invalid request",
                "see the API description at /docs",
            ),
            422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http")
        return JSONResponse(
            error_body(code, str(error.detail), None), error.status_code, error.headers
        )

    @app.exception_handler(Exception)
    async def internal(_: Request, error: Exception) -> JSONResponse:
        log.exception("internal error")
        return JSONResponse(
            error_body(
                "internal",
                "the CA service failed to answer this request",
                "retry; if it persists, see the service log",
            ),
            500,
        )
