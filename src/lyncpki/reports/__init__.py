"""Renderers of plans: terminal table, CSV, JSON, HTML, XLSX."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lyncpki.planning.model import CertificatePlan

FORMATS = ("table", "csv", "json", "html", "xlsx")
FILE_FORMATS = ("csv", "json", "html", "xlsx")


def render_plan(plan: CertificatePlan, fmt: str) -> bytes:
    """The plan as the bytes of a report file: csv, json and html as UTF-8, or xlsx.

    The terminal table is not a file format: print it with `plan_table.print_plan`.
    """
    if fmt == "csv":
        from lyncpki.reports.plan_csv import render_csv

        return render_csv(plan).encode("utf-8")
    if fmt == "json":
        from lyncpki.reports.plan_json import render_json

        return render_json(plan).encode("utf-8")
    if fmt == "html":
        from lyncpki.reports.plan_html import render_html

        return render_html(plan).encode("utf-8")
    if fmt == "xlsx":
        from lyncpki.reports.plan_xlsx import render_xlsx

        return render_xlsx(plan)
    if fmt == "table":
        raise ValueError("the table format is printed, not rendered: use plan_table.print_plan")
    raise ValueError(f"unknown report format '{fmt}' (use one of: {', '.join(FILE_FORMATS)})")


__all__ = ["FILE_FORMATS", "FORMATS", "render_plan"]
