"""Loading and validating a topology: every problem of a file at once, each with its line."""

from __future__ import annotations

import difflib
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from lyncpki.topology import model
from lyncpki.topology.consistency import consistency_issues
from lyncpki.topology.issues import TopologyError, TopologyIssue
from lyncpki.topology.model import FieldProblem, Topology
from lyncpki.topology.source import Document, parse_text, read_file


def _all_field_names() -> set[str]:
    names: set[str] = set()
    for value in vars(model).values():
        if isinstance(value, type) and issubclass(value, BaseModel):
            names.update(value.model_fields)
    return names


_FIELDS = _all_field_names()

_MISSING_FIX = {
    "sip_domains": "add the SIP domains of your users: sip_domains: [contoso.com]",
    "simple_urls": "add simple_urls: {meet: meet.<domain>, dialin: dialin.<domain>}",
    "sites": "add at least one site: sites: [{name: Site1, pools: [...]}]",
    "pools": "add the site's pools: pools: [{role: front_end, fqdn: ..., servers: [...]}]",
    "role": "add the pool's role, e.g. role: front_end",
    "fqdn": "add the pool's FQDN, e.g. fqdn: pool01.contoso.net",
    "meet": "add at least one Meet simple URL: meet: meet.<domain>",
    "access": "add the Access Edge external FQDN, e.g. access: sip.<domain>",
    "webconf": "add the Web Conferencing Edge external FQDN, e.g. webconf: webconf.<domain>",
    "av": "add the A/V Edge external FQDN, e.g. av: av.<domain>",
    "name": "add a name",
}

_TYPE_FIX = {
    "bool_type": "write true or false",
    "bool_parsing": "write true or false",
    "int_type": "write a whole number",
    "int_parsing": "write a whole number",
    "string_type": "write a text value",
    "list_type": "write a list, e.g. [a.contoso.com, b.contoso.com]",
    "model_type": "write a mapping of fields (key: value lines)",
    "dict_type": "write a mapping of fields (key: value lines)",
}


def _translate(error: ErrorDetails) -> tuple[str, str]:
    """A pydantic error as (message, fix) in the words of a Lync administrator."""
    kind, loc, ctx = error["type"], error["loc"], error.get("ctx") or {}
    last = str(loc[-1]) if loc else ""
    given = error.get("input")
    if kind == "value_error" and isinstance(ctx.get("error"), FieldProblem):
        problem: FieldProblem = ctx["error"]
        return str(problem), problem.fix
    if kind == "missing":
        return f"missing required field '{last}'", _MISSING_FIX.get(last, f"add '{last}'")
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(last, _FIELDS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown field '{last}'{hint}", "remove it or correct its spelling"
    if kind == "enum":
        expected = str(ctx.get("expected", ""))
        options = [o.strip(" '") for o in expected.replace(" or ", ", ").split(",")]
        close = difflib.get_close_matches(str(given), options, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown {last} '{given}'{hint}", f"use one of: {', '.join(options)}"
    if kind == "too_short":
        return f"'{last}' needs at least one entry", _MISSING_FIX.get(last, "add an entry")
    if kind == "string_pattern_mismatch" and last == "country":
        return f"country '{given}' is not a two-letter code", "use an ISO 3166 code such as US"
    if kind in _TYPE_FIX:
        return f"{error['msg'].lower()}, got {given!r}", _TYPE_FIX[kind]
    return error["msg"], "correct this value"


def validate_document(doc: Document) -> Topology:
    """Validate parsed data; raise TopologyError with every problem found."""
    issues: list[TopologyIssue] = list(doc.problems)
    topology: Topology | None = None
    try:
        topology = Topology.model_validate(doc.data)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            message, fix = _translate(detail)
            issues.append(doc.issue(tuple(detail["loc"]), message, fix))
    issues += consistency_issues(doc.data, doc.issue)
    if issues or topology is None:
        raise TopologyError(doc.source, _unique(issues))
    return topology


def _unique(issues: list[TopologyIssue]) -> list[TopologyIssue]:
    seen: set[tuple[Any, ...]] = set()
    result = []
    for issue in issues:
        key = (issue.path, issue.message)
        if key not in seen:
            seen.add(key)
            result.append(issue)
    return result


def load_topology(path: str | FsPath) -> Topology:
    """Read and validate a topology file (YAML or JSON)."""
    return validate_document(read_file(FsPath(path)))


def load_topology_text(text: str, source: str = "<text>", *, json_syntax: bool = False) -> Topology:
    """Validate topology text (for tests and for the service)."""
    return validate_document(parse_text(text, source, json_syntax=json_syntax))
