"""Loading and validating a topology: every problem of a file at once, each with its line."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path as FsPath
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from lyncpki.topology.consistency import consistency_issues
from lyncpki.topology.issues import TopologyError, TopologyIssue
from lyncpki.topology.model import FieldProblem, Topology
from lyncpki.topology.source import Document, parse_text, read_file


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model a field's annotation holds (through Optional, Annotated, list), and whether
    it holds a list of them."""
    many = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            inner = [a for a in get_args(annotation) if a is not type(None)]
            if len(inner) != 1:
                return None, many
            annotation = inner[0]
        elif origin is list:
            many, annotation = True, get_args(annotation)[0]
        else:
            break
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, many
    return None, many


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model whose fields are expected at `loc` (None when the path leaves the models)."""
    current: type[BaseModel] | None = Topology
    for part in loc:
        if current is None:
            return None
        if isinstance(part, int):
            continue  # an item of the list the previous field holds
        field = current.model_fields.get(part)
        current = _model_of(field.annotation)[0] if field else None
    return current


def _places(of: type[BaseModel] = Topology, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(field name, where it goes) for every field of the topology, e.g.
    ('reverse_proxy', 'sites[].reverse_proxy')."""
    for name, field in of.model_fields.items():
        place = f"{prefix}{name}"
        yield name, place
        inner, many = _model_of(field.annotation)
        if inner is not None:
            yield from _places(inner, f"{place}{'[]' if many else ''}.")


_PLACES: dict[str, list[str]] = {}
for _name, _place in _places():
    _PLACES.setdefault(_name, []).append(_place)


def _unknown_field(loc: tuple[int | str, ...], name: str) -> tuple[str, str]:
    """Why `name` is not a field at `loc` and what to do: where it goes instead, or the closest
    field that goes here."""
    elsewhere = _PLACES.get(name)
    if elsewhere:
        where = [place if "." in place else f"the top level ({place})" for place in elsewhere]
        return (
            f"field '{name}' does not go here: it goes at {' or '.join(where)}",
            "move it there (indented under that section), or remove it",
        )
    here = _model_at(loc[:-1])
    fields = list(here.model_fields) if here is not None else list(_PLACES)
    close = difflib.get_close_matches(name, fields, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown field '{name}'{hint}", "remove it or correct its spelling"


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

_LIST_FIX = {  # each entry a mapping, not a name: the general example would mislead
    "sites": "write the sites as a list, one '- name: ...' entry each",
    "pools": "write the pools as a list, one '- {role: ..., fqdn: ...}' entry each",
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
        return _unknown_field(tuple(loc), last)
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
    if kind in ("too_long", "string_too_long") and "max_length" in ctx:
        most = ctx["max_length"]
        if ctx.get("field_type") == "List":
            return f"'{last}' has more than {most} entries", f"list at most {most}"
        length = len(given) if isinstance(given, str) else ctx.get("actual_length", "too many")
        why = (
            ": it goes into the certificates' subject, whose fields RFC 5280 bounds"
            if loc and loc[0] == "organization"
            else ""
        )
        return (
            f"'{last}' is {length} characters long, at most {most} are taken{why}",
            f"shorten it to {most} characters or fewer",
        )
    if kind == "list_type" and last == "meet":  # one URL or a list of them
        return (
            f"'meet' must be a Meet URL or a list of them, got {given!r:.60}",
            "write meet: meet.contoso.com, or meet: [meet.contoso.com, meet.fabrikam.com]",
        )
    if kind == "list_type" and last in _LIST_FIX:
        return f"'{last}' must be a list, got {given!r:.60}", _LIST_FIX[last]
    if kind in _TYPE_FIX:
        return f"{error['msg'].lower()}, got {given!r}", _TYPE_FIX[kind]
    if kind in _BOUNDS:
        word, key = _BOUNDS[kind]
        bound = ctx.get(key)
        return (
            f"'{last}' is {given!r}: it must be {word} {bound}",
            f"give '{last}' a number {word} {bound}" + _BOUND_HINT.get(last, ""),
        )
    if kind == "string_too_short":
        return f"'{last}' is empty", f"give '{last}' a value" + _EMPTY_HINT.get(last, "")
    if kind == "string_pattern_mismatch" and last == "template":
        return (
            f"template {given!r} is not a certificate template name",
            "use the template's name (letters, digits, '.', '_', '-'; at most 64), as "
            "certutil -CATemplates lists it, e.g. WebServer",
        )
    if kind == "string_pattern_mismatch":
        return (
            f"'{last}' {given!r} holds characters this field does not take",
            "use letters, digits, '.', '_' and '-'",
        )
    if kind == "string_unicode":
        return (
            f"'{last}' is not text: it holds a byte sequence or escape that is no character "
            "(such as a lone surrogate, \\ud800)",
            "write it in plain UTF-8 text",
        )
    return error["msg"], "correct this value"


# pydantic's bound errors: the words and the ctx key of the bound
_BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("greater than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}
_BOUND_HINT = {
    "validity_days": " (days; e.g. 730 for the internal CA, 200 or fewer for a public CA)",
    "public_ca_san_limit": " (the SANs your public CA takes in one certificate, e.g. 100)",
}
_EMPTY_HINT = {"name": ", e.g. the site's place or data center: Redmond"}


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
