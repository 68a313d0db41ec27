"""The plan as CSV: a header row, then one row per certificate (RFC 4180)."""

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
    writer.writerows(row_texts(CERTIFICATE_COLUMNS, cert) for cert in plan.certificates)
    return buffer.getvalue()
