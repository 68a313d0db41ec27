"""The JSON report and its schema, checked with the jsonschema package."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError
from report_samples import ROOT

from lyncpki.planning import CertificatePlan
from lyncpki.reports import render_plan
from lyncpki.reports.plan_json import plan_json_schema, plan_json_schema_text, render_json


def _validator() -> Draft202012Validator:
    schema = plan_json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _document(plan: CertificatePlan) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_json(plan))
    return document


def test_reports_are_valid(contoso_plan: CertificatePlan, small_plan: CertificatePlan) -> None:
    validator = _validator()
    for plan in (contoso_plan, small_plan):
        errors = [e.message for e in validator.iter_errors(_document(plan))]
        assert errors == []


def test_round_trip(contoso_plan: CertificatePlan) -> None:
    text = render_json(contoso_plan)
    assert text.endswith("}\n")
    assert text.startswith('{\n  "schema": "lyncpki.plan/1",\n  "source": "examples/contoso.yaml"')
    document = json.loads(text)
    assert document == contoso_plan.as_dict()
    assert document["layout"] == "separate"
    assert len(document["certificates"]) == 18
    fe01 = next(c for c in document["certificates"] if c["id"] == "fe01.contoso.net/default")
    assert fe01["sans"] == [
        "pool01.contoso.net",
        "fe01.contoso.net",
        "sip.contoso.com",
        "sip.fabrikam.com",
    ]
    assert fe01["eku"] == [{"name": "serverAuth", "oid": "1.3.6.1.5.5.7.3.1"}]
    assert fe01["key"] == {"name": "rsa2048", "algorithm": "rsa", "size": 2048}
    assert fe01["issuer"] == "internal"
    assert fe01["exportable"] is False
    ids = [w["id"] for w in document["warnings"]]
    assert ids.count("plan.default-name") == 30
    assert "plan.web-not-published" in ids
    assert render_plan(contoso_plan, "json") == text.encode("utf-8")


def test_schema_requires_every_field_and_no_other(contoso_plan: CertificatePlan) -> None:
    schema = plan_json_schema()
    document = contoso_plan.as_dict()
    assert schema["required"] == list(document)
    certificate = schema["$defs"]["certificate"]
    assert certificate["required"] == list(document["certificates"][0])
    assert certificate["additionalProperties"] is False
    warning = schema["$defs"]["warning"]
    assert warning["required"] == list(document["warnings"][0])
    assert warning["additionalProperties"] is False
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_docs_schema_file_is_current() -> None:
    shipped = (ROOT / "docs" / "plan.schema.json").read_text(encoding="utf-8")
    assert json.loads(shipped) == plan_json_schema(), (
        "docs/plan.schema.json is stale: rewrite it from plan_json_schema_text()"
    )
    assert shipped == plan_json_schema_text()


def _tampered(document: dict[str, Any], change: str) -> dict[str, Any]:
    bad = copy.deepcopy(document)
    fe01 = bad["certificates"][0]
    if change == "extra certificate field":
        fe01["colour"] = "blue"
    elif change == "extra top-level field":
        bad["generated_by"] = "someone else"
    elif change == "wrong schema":
        bad["schema"] = "lyncpki.plan/2"
    elif change == "missing sans":
        del fe01["sans"]
    elif change == "unknown issuer":
        fe01["issuer"] = "self-signed"
    elif change == "san not a string":
        fe01["sans"].append(42)
    elif change == "unknown usage":
        fe01["usages"] = ["Everything"]
    elif change == "warning without fix":
        del bad["warnings"][0]["fix"]
    elif change == "bad layout":
        bad["layout"] = "merged"
    return bad


@pytest.mark.parametrize(
    "change",
    [
        "extra certificate field",
        "extra top-level field",
        "wrong schema",
        "missing sans",
        "unknown issuer",
        "san not a string",
        "unknown usage",
        "warning without fix",
        "bad layout",
    ],
)
def test_tampered_documents_fail(contoso_plan: CertificatePlan, change: str) -> None:
    validator = _validator()
    document = _document(contoso_plan)
    assert validator.is_valid(document)
    with pytest.raises(ValidationError):
        validator.validate(_tampered(document, change))
