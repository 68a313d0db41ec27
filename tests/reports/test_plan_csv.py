"""The CSV report, read back with the standard library's csv.DictReader."""

from __future__ import annotations

import csv
import dataclasses
import io

from report_samples import ODD_SITE

from lyncpki.planning import CertificatePlan
from lyncpki.reports import render_plan
from lyncpki.reports.plan_csv import render_csv


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_one_row_per_certificate_with_the_expected_cells(contoso_plan: CertificatePlan) -> None:
    rows = _rows(render_csv(contoso_plan))
    assert len(rows) == len(contoso_plan.certificates) == 18
    by_id = {row["Id"]: row for row in rows}
    fe01 = by_id["fe01.contoso.net/default"]
    assert fe01["Subject alternative names"].split("; ") == [
        "pool01.contoso.net",
        "fe01.contoso.net",
        "sip.contoso.com",
        "sip.fabrikam.com",
    ]
    assert fe01["Subject name"] == "pool01.contoso.net"
    assert fe01["EKU"] == "Server Authentication"
    assert fe01["Issued from"] == "internal CA"
    web = by_id["fe01.contoso.net/web-external"]
    assert web["Subject alternative names"].split("; ") == [
        "pool01.contoso.net",
        "webext.contoso.com",
        "meet.contoso.com",
        "dialin.contoso.com",
        "lyncdiscover.contoso.com",
        "lyncdiscover.fabrikam.com",
    ]
    proxy = by_id["webext.contoso.com/reverse-proxy"]
    assert proxy["Issued from"] == "public CA"
    assert proxy["Exportable"].startswith("no — ")


def test_header_row_and_rfc4180_line_ends(contoso_plan: CertificatePlan) -> None:
    text = render_csv(contoso_plan)
    first, _, rest = text.partition("\r\n")
    assert first.startswith("Friendly name,Subject name,Subject alternative names,EKU,")
    assert first.endswith(",Warnings,Id")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")  # every line ends with CRLF
    assert rest.count("\r\n") == len(contoso_plan.certificates)


def test_quotes_and_commas_survive(small_plan: CertificatePlan) -> None:
    text = render_csv(small_plan)
    assert '"Lab [b], ""East"" <&>"' in text  # quoted, inner quotes doubled
    rows = _rows(text)
    lab = [row for row in rows if row["Site"] == ODD_SITE]
    assert [row["Id"] for row in lab] == [
        "se1.lab.kvasir.no/default",
        "se1.lab.kvasir.no/web-internal",
    ]
    assert lab[1]["Subject alternative names"] == (
        "se1.lab.kvasir.no; meet.kvasir.no; dialin.kvasir.no"
    )


def test_render_plan_gives_utf8_bytes(contoso_plan: CertificatePlan) -> None:
    data = render_plan(contoso_plan, "csv")
    assert data.decode("utf-8") == render_csv(contoso_plan)
    assert "no — not needed".encode() in data


def test_a_cell_that_a_spreadsheet_would_evaluate_is_text(small_plan: CertificatePlan) -> None:
    """CSV injection: a site named like a formula (from a topology made elsewhere) is written
    with a leading apostrophe, so that Excel shows it and does not evaluate it."""
    cert = small_plan.certificates[0]
    sites = ['=HYPERLINK("http://example.com","x")', "+1", "-2+3", "@SUM(A1)", "\tx", "a=b"]
    odd = [dataclasses.replace(cert, site=site) for site in sites]
    rows = _rows(render_csv(dataclasses.replace(small_plan, certificates=tuple(odd))))
    assert [row["Site"] for row in rows] == [f"'{s}" for s in sites[:-1]] + ["a=b"]
    assert all(not value.startswith(("=", "+", "-", "@")) for r in rows for value in r.values())
