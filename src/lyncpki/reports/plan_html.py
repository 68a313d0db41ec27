"""The plan as one self-contained, printable HTML file (Jinja2, autoescaped).

Certificates are grouped by site, then role, one table each, with the columns of
`lyncpki.reports.columns`; a Warnings table follows. Each certificate row carries
`data-id="<certificate id>"` and each cell the class of its column (`sans`, `eku`, ...), so the
report can be read back by a program. No script, no external style sheet, font or image.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from functools import cache
from typing import Any

import jinja2

from lyncpki.planning.model import SCHEMA, CertificatePlan, PlannedCertificate, Severity
from lyncpki.reports.columns import (
    CERTIFICATE_COLUMNS,
    ISSUER_LABELS,
    WARNING_COLUMNS,
    issued_from,
    severity_count,
)
from lyncpki.reports.groups import by_site_and_role
from lyncpki.reports.visible import shown

TEMPLATE = "plan.html.j2"

Cell = tuple[str, str, tuple[str, ...] | None]  # column key, text, list items (list columns)


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("lyncpki.reports", "templates"),
        autoescape=True,  # always: the template's name ends in .j2, not .html
        finalize=shown,  # U+202E, ESC, NUL from a topology or a certificate: shown, not obeyed
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def moment(value: dt.datetime) -> str:
    """A time for a reader of a report: to the second, with its zone (the JSON has it whole)."""
    return value.strftime("%Y-%m-%d %H:%M:%S ") + (value.tzname() or "local time")


def _cells(cert: PlannedCertificate) -> list[Cell]:
    return [
        (c.key, "", tuple(c.items(cert))) if c.items is not None else (c.key, c.text(cert), None)
        for c in CERTIFICATE_COLUMNS
    ]


def _anchor(index: int, site: str, role: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", f"{site}-{role}".lower()).strip("-")
    return f"group-{index}-{slug}"


def _context(plan: CertificatePlan) -> dict[str, Any]:
    sites = []
    index = 0
    for site in by_site_and_role(plan.certificates):
        groups = []
        for group in site.roles:
            index += 1
            rows = [{"id": cert.id, "cells": _cells(cert)} for cert in group.certificates]
            groups.append(
                {"role": group.role, "anchor": _anchor(index, site.site, group.role), "rows": rows}
            )
        sites.append({"name": site.site, "groups": groups})
    issuers = Counter(issued_from(cert) for cert in plan.certificates)
    severities = Counter(w.severity for w in plan.warnings)
    return {
        "schema": SCHEMA,
        "source": plan.source,
        "layout": plan.layout,
        "certificate_count": len(plan.certificates),
        "by_issuer": [
            (label[0].upper() + label[1:], f"issuer-{issuer}", issuers[label])
            for issuer, label in ISSUER_LABELS.items()
        ],
        "server_count": len({s for cert in plan.certificates for s in cert.servers}),
        "warning_count": len(plan.warnings),
        "by_severity": [
            severity_count(severities[severity], severity)
            for severity in Severity
            if severities[severity]
        ],
        "sites": sites,
        "columns": CERTIFICATE_COLUMNS,
        "warning_columns": WARNING_COLUMNS,
        "warnings": plan.warnings,
    }


def render_html(plan: CertificatePlan) -> str:
    """The Certificates Report as one HTML document (UTF-8 text)."""
    return environment().get_template(TEMPLATE).render(_context(plan))
