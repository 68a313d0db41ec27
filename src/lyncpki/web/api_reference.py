"""The CA service's API description as a page the service renders itself (/docs): every route,
its parameters, body and answers, from the service's own OpenAPI document. FastAPI's Swagger UI
loads its scripts from a CDN, and a CA on an isolated network showed a blank page; it stays
available at /docs/swagger for machines that reach the Internet."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jinja2
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from lyncpki.reports.visible import shown

METHODS = ("get", "head", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str  # path, query, header
    required: bool
    kind: str
    description: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    tag: str
    parameters: list[Parameter] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)  # media types taken
    answers: list[tuple[str, str]] = field(default_factory=list)  # (status, description)


def operations(document: dict[str, Any]) -> list[Operation]:
    """The operations of an OpenAPI document, in the order of its paths."""
    found: list[Operation] = []
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            found.append(
                Operation(
                    method.upper(),
                    path,
                    operation.get("summary", ""),
                    operation.get("description", ""),
                    (operation.get("tags") or ["other"])[0],
                    [_parameter(p) for p in operation.get("parameters", [])],
                    list(operation.get("requestBody", {}).get("content", {})),
                    [(s, a.get("description", "")) for s, a in operation["responses"].items()],
                )
            )
    return found


def _parameter(given: dict[str, Any]) -> Parameter:
    schema = given.get("schema", {})
    kinds = [schema.get("type")] + [s.get("type") for s in schema.get("anyOf", [])]
    return Parameter(
        given["name"],
        given.get("in", ""),
        bool(given.get("required")),
        " or ".join(k for k in kinds if k and k != "null") or "text",
        given.get("description", ""),
    )


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("lyncpki.web", "templates"),
        autoescape=True,
        finalize=shown,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template("api.html.j2")


def add_api_reference(app: FastAPI) -> None:
    """/docs: the API reference rendered here; /docs/swagger: FastAPI's interactive one."""

    @app.get("/docs", include_in_schema=False)
    def reference() -> HTMLResponse:
        document = app.openapi()
        return HTMLResponse(
            _template().render(
                title=document["info"]["title"],
                version=document["info"]["version"],
                description=document["info"].get("description", ""),
                operations=operations(document),
                session=None,  # the page of the service, not of a console session
                path="/docs",
            )
        )

    @app.get("/docs/swagger", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=app.title)
