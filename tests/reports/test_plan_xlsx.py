"""The XLSX report, loaded back with openpyxl."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from lyncpki.planning import CertificatePlan
from lyncpki.reports import render_plan
from lyncpki.reports.columns import CERTIFICATE_COLUMNS, WARNING_COLUMNS, headers
from lyncpki.reports.plan_xlsx import MAX_CELL_CHARS, render_xlsx


def _sheets(plan: CertificatePlan) -> tuple[Worksheet, Worksheet]:
    workbook = load_workbook(io.BytesIO(render_xlsx(plan)))
    assert workbook.sheetnames == ["Certificates", "Warnings"]
    return workbook["Certificates"], workbook["Warnings"]


def _row_of(sheet: Worksheet, cert_id: str) -> int:
    id_column = headers(CERTIFICATE_COLUMNS).index("Id") + 1
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, id_column).value == cert_id:
            return row
    raise AssertionError(f"no row for {cert_id}")


def _cell(sheet: Worksheet, cert_id: str, header: str) -> Any:
    return sheet.cell(_row_of(sheet, cert_id), headers(CERTIFICATE_COLUMNS).index(header) + 1)


def test_certificates_sheet(contoso_plan: CertificatePlan) -> None:
    sheet, _ = _sheets(contoso_plan)
    count = len(contoso_plan.certificates)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:R{count + 1}"
    assert [c.value for c in sheet[1]] == headers(CERTIFICATE_COLUMNS)
    assert all(c.font.b for c in sheet[1])
    assert sheet.max_row == count + 1 == 19
    sans = sheet.cell(_row_of(sheet, "fe01.contoso.net/default"), 3)
    assert sans.value == "pool01.contoso.net; fe01.contoso.net; sip.contoso.com; sip.fabrikam.com"
    assert sans.alignment.wrap_text
    assert sheet.column_dimensions["C"].width >= 30
    validity = sheet.cell(_row_of(sheet, "fe01.contoso.net/default"), 14)
    assert validity.value == 730
    issuer = sheet.cell(_row_of(sheet, "edgepool.contoso.net/edge-external"), 6)
    assert issuer.value == "public CA"


def test_warnings_sheet(contoso_plan: CertificatePlan) -> None:
    _, sheet = _sheets(contoso_plan)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:G{len(contoso_plan.warnings) + 1}"
    assert [c.value for c in sheet[1]] == headers(WARNING_COLUMNS)
    assert sheet.max_row == len(contoso_plan.warnings) + 1
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[:4] == ["warning", "plan.web-not-published", "R-RP-01", "webse.contoso.com"]


def test_text_stays_text(small_plan: CertificatePlan) -> None:
    cert = small_plan.certificates[0]
    odd = dataclasses.replace(
        cert,
        site='=HYPERLINK("http://example.com","x")',
        notes=("bell\x07 rings",),
        servers=tuple(f"server{i:05d}.kvasir.no" for i in range(2000)),
    )
    sheet, _ = _sheets(dataclasses.replace(small_plan, certificates=(odd,)))
    site = _cell(sheet, cert.id, "Site")
    assert site.value == '=HYPERLINK("http://example.com","x")'
    assert site.data_type == "s"
    assert _cell(sheet, cert.id, "Notes").value == "bell rings"
    # what XML 1.0 cannot hold: a site name with U+FFFF passed validation and crashed the writer
    nonchar = dataclasses.replace(cert, site="Site \uffff X\ufffe")
    nonchar_sheet, _ = _sheets(dataclasses.replace(small_plan, certificates=(nonchar,)))
    assert _cell(nonchar_sheet, cert.id, "Site").value == "Site  X"
    servers = str(_cell(sheet, cert.id, "Servers").value)
    assert len(servers) <= MAX_CELL_CHARS
    assert servers.startswith("server00000.kvasir.no; server00001.kvasir.no")
    assert servers.endswith("see the CSV or JSON report)")


def test_render_plan_gives_the_workbook(small_plan: CertificatePlan) -> None:
    data = render_plan(small_plan, "xlsx")
    assert data[:2] == b"PK"  # a zip file
    sheet = load_workbook(io.BytesIO(data))["Certificates"]
    assert sheet.max_row == len(small_plan.certificates) + 1
