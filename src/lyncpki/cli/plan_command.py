"""`lyncpki plan`: the Certificates Report of a topology."""

from __future__ import annotations

import codecs
import io
import sys
from collections import Counter
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

from lyncpki.atomic import check_not_input, check_writable, write_atomic
from lyncpki.cli.ca_context import check_outside_home, home_around
from lyncpki.cli.output import EXIT_FINDINGS, emit_json, guarded, stderr, stdout
from lyncpki.cli.report_format import report_format
from lyncpki.errors import LyncPkiError
from lyncpki.planning import PlanOptions, Severity, plan_file
from lyncpki.reports import render_plan
from lyncpki.reports.columns import severity_count
from lyncpki.reports.plan_table import print_plan
from lyncpki.topology import Layout


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    HTML = "html"
    XLSX = "xlsx"


SUFFIXES = {".csv": Format.CSV, ".json": Format.JSON, ".html": Format.HTML, ".htm": Format.HTML,
            ".xlsx": Format.XLSX, ".txt": Format.TABLE}  # fmt: skip


HELP = (
    "Plan every certificate a Lync Server 2013 deployment needs: the Certificates Report."
    "\n\n"
    "Reads TOPOLOGY (YAML or JSON; start one with `lyncpki topology init`), applies the Lync "
    "certificate rules (REQUIREMENTS.md ids such as R-FE-01, R-EDGE-01) and prints one row per "
    "certificate: friendly name, subject, SANs, EKU, where to assign it, which CA issues it, "
    "key and exportability, then the warnings the Planning Tool leaves out (example names left "
    "unedited, public names from the internal CA, wildcards Lync refuses, ...)."
    "\n\n"
    "Formats: table (terminal), csv, json (schema lyncpki.plan/1, docs/plan.schema.json), html "
    "(one self-contained printable file), xlsx (Planning Tool columns, frozen header, filters). "
    "With --output the format defaults to the file's suffix (.txt: table); a suffix that "
    "names no format needs --format. The report never replaces the topology file."
    "\n\n"
    "Exit status: 0 planned; 1 the plan has errors (a certificate no request can be made for, "
    "such as plan.subject-too-long), or with --strict warnings; the report is written all the "
    "same; 2 the topology is invalid."
)


def plan_command(
    topology: Path = typer.Argument(
        ..., help="Topology file (.yaml, .yml or .json).", show_default=False, metavar="TOPOLOGY"
    ),
    format: Format | None = typer.Option(
        None, "--format", "-f", help="Report format (default: table, or the suffix of --output)."
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Write the report to this file (atomically) instead.",
        metavar="FILE",
    ),
    layout: Layout | None = typer.Option(
        None,
        "--layout",
        help="separate: Default, WebServicesInternal and WebServicesExternal certificates; "
        "combined: one certificate for all three (R-GEN-17). Overrides defaults.layout; "
        "a pool's own certificates.layout still wins.",
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print JSON (for scripts): the plan, or with --output what was written.",
    ),
    strict: bool = typer.Option(
        False,
        "--strict",
        help="Exit with status 1 when the plan has warnings too (errors always do).",
    ),
) -> None:
    run(topology, format, output, layout, as_json, strict)


@guarded()
def run(
    topology: Path,
    fmt: Format | None,
    output: Path | None,
    layout: Layout | None,
    as_json: bool,
    strict: bool,
) -> None:
    if output is not None:
        check_not_input(output, [("the topology file", topology)], "--output")
        if (home := home_around(output)) is not None:  # never over what a home keeps
            check_outside_home(output, home, "--output", "report.html")
        check_writable(output, "--output", "report.html")  # a folder is named as such
    chosen = report_format(
        fmt, output, as_json, suffixes=SUFFIXES, json=Format.JSON, table=Format.TABLE
    )
    if chosen is Format.XLSX and output is None:
        raise LyncPkiError(
            "an xlsx report is a binary file and cannot be printed", "add --output FILE.xlsx"
        )
    result = plan_file(topology, PlanOptions(layout=layout))
    if chosen is Format.TABLE and not output:
        print_plan(result, stdout)
    else:
        if chosen is Format.TABLE:
            buffer = io.StringIO()
            print_plan(result, Console(file=buffer, width=200, no_color=True))
            data = buffer.getvalue().encode("utf-8")
        else:
            data = render_plan(result, str(chosen))
        if output:
            if chosen is Format.CSV:  # Excel reads a CSV file without it as ANSI: "â€”"
                data = codecs.BOM_UTF8 + data
            write_atomic(output, data)
            counts = Counter(w.severity for w in result.warnings)
            if as_json:  # stdout stays a JSON document for the script that asked for one
                emit_json({
                    "written": str(output), "format": str(chosen),
                    "certificates": len(result.certificates),
                    "errors": counts[Severity.ERROR], "warnings": counts[Severity.WARNING],
                    "info": counts[Severity.INFO],
                    "error_findings": [  # what makes the exit status 1
                        {"id": w.id, "subject": w.subject, "message": w.message, "fix": w.fix}
                        for w in result.warnings if w.severity is Severity.ERROR
                    ],
                })  # fmt: skip
            else:
                said = ", ".join(severity_count(counts[s], s) for s in Severity if counts[s])
                stdout.print(
                    f"wrote {output} ({chosen}, {len(result.certificates)} certificates, "
                    f"{said or 'no warnings'})",
                    markup=False,
                )
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        if chosen is Format.CSV:  # one row per certificate: the others would be lost
            for warning in (w for w in result.warnings if w.certificate is None):
                stderr.print(
                    f"{warning.severity} {warning.id} ({warning.rule}) {warning.subject}: "
                    f"{warning.message} — fix: {warning.fix} [not in the CSV: a warning "
                    "of no one certificate]",
                    markup=False,
                )
    errors = [w for w in result.warnings if w.severity is Severity.ERROR]
    if errors:  # a certificate no request can be made for: the plan cannot be carried out
        if not as_json:
            stderr.print(
                f"{len(errors)} error(s) in the plan ({', '.join(sorted({w.id for w in errors}))}"
                "): exit status 1",
                markup=False,
            )
        raise typer.Exit(EXIT_FINDINGS)
    warned = any(w.severity is not Severity.INFO for w in result.warnings)
    if strict and warned:
        raise typer.Exit(EXIT_FINDINGS)
