"""Every error the service answers is JSON: {"error": code, "message": ..., "fix": ...}, all
three always there, in plain words.

Bad input is a 4xx with a message a person can act on, never a 500 (an internal error still
answers JSON, without internals: the cause goes to the log only). What the validation of a
request finds is said field by field — which field, where, what was expected — never in
pydantic's own words (its type codes, its links).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError, ProgrammingError
from starlette.exceptions import HTTPException as StarletteHTTPException

from lyncpki.ca import database as db
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


DOCS_FIX = "see the API description at /docs"


def database_gone() -> ServiceError:
    """503: the CA's database is there but holds none of its tables (dropped and made again
    empty): no retry brings its records back (the enrollment's failure and /health alike)."""
    return ServiceError(
        503,
        "unavailable",
        db.CA_DATABASE_GONE,
        "the CA's administrator: restore the CA database from a backup (never create it again "
        "empty), then restart the service",
    )


def error_body(code: str, message: str, fix: str | None, **more: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message, "fix": fix or DOCS_FIX}
    body.update(more)
    return body


# ---------------------------------------------------------------- validation, in plain words
_JSON_TYPES = (
    (bool, "true or false"),
    (int, "a number"),
    (float, "a number"),
    (str, "text"),
    (list, "a list"),
    (dict, "an object"),
)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), "something else")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _where(loc: tuple[Any, ...]) -> str:
    """Where a problem is, as a person says it: `request_id in the path`, `field 'reason' of
    the JSON body`, `query parameter template`, `the body`."""
    if not loc:
        return "the body"
    part, rest = loc[0], [str(p) for p in loc[1:]]
    name = ".".join(rest)
    if part == "path":
        return f"{name} in the path"
    if part == "query":
        return f"query parameter {name}"
    if part == "header":
        return f"header {name}"
    if part == "body":
        return f"field '{name}' of the JSON body" if name else "the JSON body"
    return f"field '{'.'.join(str(p) for p in loc)}' of the JSON body"


def plain_problem(problem: Mapping[str, Any]) -> str:
    """One validation problem (an item of pydantic's `errors()`) in plain words."""
    kind = str(problem.get("type", ""))
    loc = tuple(problem.get("loc", ()))
    value = problem.get("input")
    ctx = problem.get("ctx") or {}
    if kind == "json_invalid":
        detail = str(ctx.get("error", "")).removeprefix("Invalid JSON: ")
        return "the body is not valid JSON" + (f" ({detail})" if detail else "")
    if kind in ("json_type", "model_type", "model_attributes_type", "dict_type"):
        return f"{_where(loc)} must be a JSON object, not {_json_type(value)}"
    where = _where(loc)
    if kind == "missing":
        return f"{where} is missing"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{where} must be a whole number, not {_shown(value)}"
    if kind == "string_type":
        return f"{where} must be text (a JSON string), not {_json_type(value)}"
    if kind == "string_too_long":
        return f"{where} is longer than {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        return f"{where} is shorter than {ctx.get('min_length')} characters"
    if kind == "extra_forbidden":
        return f"{where} is not expected"
    message = str(problem.get("msg", "is not valid")).split("[type=", 1)[0].strip()
    return f"{where}: {message[:1].lower()}{message[1:]}"


def plain_problems(problems: Iterable[Mapping[str, Any]]) -> str:
    """Every problem of a validation, in plain words, one after the other."""
    said = list(dict.fromkeys(plain_problem(p) for p in problems))  # once each, in order
    return "; ".join(said) or "the request is not valid"


def response_for(error: Exception) -> JSONResponse:
    """The JSON answer to a failure that is not about HTTP itself: a ServiceError with its own
    status, a refusal by policy (422, every reason), what is no request (400), a CA operation
    that cannot be done (404/409), any other domain error (400), the database gone (503), or
    anything else (500, the cause logged only). The exception handlers and the enrollment fast
    path (`enroll_fast_path`) answer with it, so the two answer alike."""
    if isinstance(error, ServiceError):
        return JSONResponse(
            error_body(error.code, error.message, error.fix), error.status, error.headers
        )
    if isinstance(error, RequestRefused):
        first = error.refusals[0]
        refusals = [{"code": r.code, "message": r.message, "fix": r.fix} for r in error.refusals]
        return JSONResponse(
            error_body(first.code, error.message, first.fix, refusals=refusals), 422
        )
    if isinstance(error, RequestError):
        return JSONResponse(error_body("request.invalid", error.message, error.fix), 400)
    if isinstance(error, CaError):
        status = error.status
        code = {404: "not_found", 403: "auth.forbidden"}.get(status, "conflict")
        return JSONResponse(error_body(code, error.message, error.fix), status)
    if isinstance(error, LyncPkiError):
        return JSONResponse(error_body("invalid", error.message, error.fix), 400)
    if isinstance(error, (OperationalError, ProgrammingError)) and db.is_missing_table(error):
        # the database dropped and made again empty, or a table dropped: no retry brings the
        # CA's records back
        log.error("the CA's database lacks its tables: %s", str(error.orig or error)[:300])
        return response_for(database_gone())
    if isinstance(error, OperationalError):
        # the database went away (PostgreSQL stopped, connections refused, a full disk): the
        # CA is unavailable for now, not failing at this request; a client may come back
        log.error("the CA's database cannot be used: %s", str(error.orig or error)[:300])
        return JSONResponse(
            error_body(
                "unavailable",
                "the CA's database cannot be reached: the CA cannot issue or answer now",
                "retry later; the CA's administrator: check the database server and the "
                "service log",
            ),
            503,
            {"Retry-After": "30"},
        )
    if isinstance(error, DataError):  # a value the database cannot keep (a NUL, a number)
        said = str(error.orig or error).strip()
        log.warning("a value the database refused: %s", said[:300])
        reason = said.splitlines()[0][:200] if said else "a value out of its range"
        return JSONResponse(
            error_body(
                "request.invalid",
                f"the request holds a value the CA's database cannot keep ({reason})",
                "send names, serials and reasons as plain text, and numbers within their "
                "range (see /docs)",
            ),
            400,
        )
    log.error("internal error", exc_info=error)
    return JSONResponse(
        error_body(
            "internal",
            "the CA service failed to answer this request",
            "retry; if it persists, see the service log",
        ),
        500,
    )


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a JSON answer."""

    async def failure(_: Request, error: Exception) -> JSONResponse:
        return response_for(error)

    for kind in (
        ServiceError,
        RequestRefused,
        RequestError,
        CaError,
        LyncPkiError,
        OperationalError,
        ProgrammingError,
        DataError,
        Exception,
    ):
        app.add_exception_handler(kind, failure)

    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            error_body(
                "request.invalid",
                plain_problems(error.errors()),
                f"correct what is named; {DOCS_FIX}",
            ),
            422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        path = request.url.path[:200]
        if error.status_code == 404:
            code, message = "not_found", f"there is nothing at {path}"
            fix = f"check the path: {DOCS_FIX} (the API is under /api/v1/)"
        elif error.status_code == 405:
            allowed = (error.headers or {}).get("Allow", "")
            code = "method_not_allowed"
            message = f"{request.method} is not answered at {path}"
            fix = f"use {allowed.replace(', ', ' or ')} ({DOCS_FIX})" if allowed else DOCS_FIX
        else:
            code, message, fix = "http", str(error.detail), DOCS_FIX
        return JSONResponse(error_body(code, message, fix), error.status_code, error.headers)
