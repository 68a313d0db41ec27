"""Which format a report is written in, from --format, --json and --output's suffix: the same
rule for `plan` and `check`.

--format wins; without it, --output's suffix names the format (a suffix that names none is
refused, never guessed: `-o report.pdf` held a text table); without either, --json prints JSON
and the default is the terminal table. --json with --output only makes stdout a JSON document
saying what was written (`plan -o plan.xlsx --json` wrote JSON into the .xlsx). Without
--output, --json and another --format ask for two things on one stdout: refused."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from lyncpki.errors import LyncPkiError

F = TypeVar("F", bound=StrEnum)


def report_format(
    fmt: F | None,
    output: Path | None,
    as_json: bool,
    *,
    suffixes: Mapping[str, F],
    json: F,
    table: F,
) -> F:
    names = "|".join(str(f) for f in type(json))
    if fmt is not None:
        if as_json and output is None and fmt is not json:
            raise LyncPkiError(
                f"--json and --format {fmt} ask for two formats on the terminal",
                f"give one of them (--json is --format json), or write the {fmt} report to a "
                f"file with --output and keep --json for what is printed",
            )
        return fmt
    if output is not None:
        chosen = suffixes.get(output.suffix.lower())
        if chosen is None:
            known = ", ".join(sorted(suffixes))
            raise LyncPkiError(
                f"cannot tell the report's format from the name {output.name} (known: {known})",
                f"give --format {names}, or a file name with one of those suffixes",
            )
        return chosen
    return json if as_json else table
