"""The plan as CSV: a header row, then one row per certificate (RFC 4180).

A spreadsheet opening a CSV file evaluates a cell that begins with =, +, -, @, a tab or a
carriage return as a formula (CSV injection: a site named '=HYPERLINK(...)' in a topology from
elsewhere would become a live link or worse). Such a cell is written with a leading apostrophe,
which Excel and LibreOffice show as text and do not display; the JSON and Excel reports keep
the value untouched.
"""

from __future__ import annotations

import csv
import io

from lyncpki.planning.model import CertificatePlan
from lyncpki.reports.columns import CERTIFICATE_COLUMNS, headers, row_texts


def render_csv(plan: CertificatePlan) -> str:
    """The Certificates Report as CSV text: CRLF line ends, fields quoted when needed.

    List cells (SANs, servers, rules, ...) hold their values joined with "; ".
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n")
    writer.writerow(headers(CERTIFICATE_COLUMNS))
    writer.writerows(
        [as_text(cell) for cell in row_texts(CERTIFICATE_COLUMNS, cert)]
        for cert in plan.certificates
    )
    return buffer.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(cell: str) -> str:
    """The cell as a spreadsheet must show it: never a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
