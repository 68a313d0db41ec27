"""The plan as JSON (schema "lyncpki.plan/1") and the JSON Schema that describes it.

The schema is written by hand, field by field, from `CertificatePlan.as_dict`; it is also
shipped as `docs/plan.schema.json` (a test checks that the file equals `plan_json_schema()`).
After changing it, rewrite the file with:

    python -c "from lyncpki.reports.plan_json import plan_json_schema_text as t; \\
        open('docs/plan.schema.json', 'w').write(t())"
"""

from __future__ import annotations

import json
from typing import Any

from lyncpki.planning.model import SCHEMA, CertificatePlan, Eku, Severity, Usage
from lyncpki.topology.model import Issuer, Layout

SCHEMA_FILE = "docs/plan.schema.json"


def render_json(plan: CertificatePlan) -> str:
    """The plan as a JSON document (2-space indent, fields in `as_dict` order), newline-ended."""
    return json.dumps(plan.as_dict(), indent=2, sort_keys=False) + "\n"


def _string(description: str | None = None) -> dict[str, Any]:
    return {"type": "string"} | ({"description": description} if description else {})


def _strings(description: str, *, min_items: int = 0, unique: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "array", "description": description, "items": _string()}
    if min_items:
        schema["minItems"] = min_items
    if unique:
        schema["uniqueItems"] = True
    return schema


def _object(properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _warning_schema() -> dict[str, Any]:
    return _object(
        {
            "id": _string("dotted warning id, e.g. plan.default-name"),
            "rule": _string("the requirement rule or question it comes from, e.g. R-RP-01"),
            "severity": {"enum": [str(s) for s in Severity]},
            "subject": _string("the topology field or the name the warning is about"),
            "certificate": {
                "type": ["string", "null"],
                "description": "id of the certificate it is about, or null",
            },
            "message": _string(),
            "fix": _string("what to do about it"),
        },
        "something the Planning Tool would not tell you, with the fix",
    )


def _certificate_schema() -> dict[str, Any]:
    return _object(
        {
            "id": _string(
                "unique id of the plan entry: <target>/<kind>; <site>/<target>/<kind> where two "
                "sites' certificates would otherwise share one (reverse proxies without an fqdn "
                "publishing the same first name)"
            ),
            "site": _string("site name, or 'global'"),
            "role": _string("server role (front_end, edge, ...), or 'global'"),
            "target": _string("server or pool FQDN it is requested for ('global' for OAuth)"),
            "servers": _strings("every server it is installed on"),
            "usages": {
                "type": "array",
                "description": "Set-CsCertificate -Type names (and lyncpki's own)",
                "items": {"enum": [str(u) for u in Usage]},
                "minItems": 1,
                "uniqueItems": True,
            },
            "subject": _string("subject common name (CN)"),
            "sans": _strings(
                "subject alternative names: lowercase, the subject first", min_items=1, unique=True
            ),
            "eku": {
                "type": "array",
                "description": "extended key usages",
                "items": _object(
                    {
                        "name": {"enum": [str(e) for e in Eku]},
                        "oid": {"enum": [e.oid for e in Eku]},
                    },
                    "one extended key usage: OpenSSL name and OID",
                ),
                "minItems": 1,
            },
            "issuer": {"enum": [str(i) for i in Issuer]},
            "key": _object(
                {
                    "name": {
                        "type": "string",
                        "pattern": "^(rsa(1024|2048|4096)|ec-p(256|384|521))$",
                    },
                    "algorithm": {"enum": ["rsa", "ec"]},
                    "size": {"type": "integer", "enum": [256, 384, 521, 1024, 2048, 4096]},
                },
                "key type",
            ),
            "exportable": {"type": "boolean"},
            "exportable_reason": _string("why the private key must (or need not) be exportable"),
            "template": _string("certificate template name (internal CA)"),
            "friendly_name": _string("friendly name, unique in each server's store"),
            "validity_days": {"type": "integer", "minimum": 1},
            "rules": _strings("requirement rules that ask for it"),
            "notes": _strings("advice about it"),
            "warnings": {
                "type": "array",
                "description": "warnings about this certificate (also in the plan's warnings)",
                "items": {"$ref": "#/$defs/warning"},
            },
        },
        "one certificate to obtain: a row of the Certificates Report",
    )


def plan_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the document `render_json` writes."""
    top = _object(
        {
            "schema": {"const": SCHEMA},
            "source": {
                "type": ["string", "null"],
                "description": "the topology file the plan was made from",
            },
            "layout": {"enum": [str(layout) for layout in Layout]},
            "certificates": {"type": "array", "items": {"$ref": "#/$defs/certificate"}},
            "warnings": {"type": "array", "items": {"$ref": "#/$defs/warning"}},
        },
        "every certificate of a Lync Server 2013 deployment and every warning about it",
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"lyncpki certificate plan ({SCHEMA})",
        **top,
        "$defs": {"certificate": _certificate_schema(), "warning": _warning_schema()},
    }


def plan_json_schema_text() -> str:
    """`plan_json_schema()` as the text of `docs/plan.schema.json`."""
    return json.dumps(plan_json_schema(), indent=2) + "\n"
