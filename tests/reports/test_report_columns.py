"""The report's columns: the Planning Tool's six first, then lyncpki's, and their cell texts."""

from __future__ import annotations

from lyncpki.planning import CertificatePlan
from lyncpki.reports.columns import CERTIFICATE_COLUMNS, WARNING_COLUMNS, headers, row_texts

EXPECTED_HEADERS = [
    "Friendly name",
    "Subject name",
    "Subject alternative names",
    "EKU",
    "Assign to",
    "Issued from",
    "Usages",
    "Servers",
    "Site",
    "Role",
    "Key",
    "Exportable",
    "Template",
    "Validity (days)",
    "Rules",
    "Notes",
    "Warnings",
    "Id",
]


def _row(plan: CertificatePlan, cert_id: str) -> dict[str, str]:
    cells = row_texts(CERTIFICATE_COLUMNS, plan.by_id(cert_id))
    return dict(zip(EXPECTED_HEADERS, cells, strict=True))


def test_headers_are_the_planning_tools_then_ours() -> None:
    assert headers(CERTIFICATE_COLUMNS) == EXPECTED_HEADERS
    assert len({c.key for c in CERTIFICATE_COLUMNS}) == len(CERTIFICATE_COLUMNS)
    assert headers(WARNING_COLUMNS) == [
        "Severity",
        "Id",
        "Rule",
        "Subject",
        "Certificate",
        "Message",
        "Fix",
    ]


def test_front_end_default_row(contoso_plan: CertificatePlan) -> None:
    row = _row(contoso_plan, "fe01.contoso.net/default")
    assert row["Friendly name"] == "Lync Default fe01.contoso.net"
    assert row["Subject name"] == "pool01.contoso.net"
    assert row["Subject alternative names"] == (
        "pool01.contoso.net; fe01.contoso.net; sip.contoso.com; sip.fabrikam.com"
    )
    assert row["EKU"] == "Server Authentication"
    assert row["Assign to"] == "Default on fe01.contoso.net"
    assert row["Issued from"] == "internal CA"
    assert row["Usages"] == "Default"
    assert row["Servers"] == "fe01.contoso.net"
    assert row["Site"] == "Redmond"
    assert row["Role"] == "front_end"
    assert row["Key"] == "rsa2048"
    assert row["Exportable"].startswith("no — ")
    assert "R-GEN-12" in row["Exportable"]
    assert row["Template"] == "WebServer"
    assert row["Validity (days)"] == "730"
    assert row["Rules"] == "R-FE-01"
    assert row["Notes"] == ""
    assert row["Warnings"] == ""
    assert row["Id"] == "fe01.contoso.net/default"


def test_edge_external_is_public_and_exportable(contoso_plan: CertificatePlan) -> None:
    row = _row(contoso_plan, "edgepool.contoso.net/edge-external")
    assert row["Issued from"] == "public CA"
    assert row["Exportable"].startswith("yes — ")
    assert row["Assign to"] == (
        "AccessEdgeExternal, DataEdgeExternal, AudioVideoAuthentication "
        "on edge01.contoso.net, edge02.contoso.net"
    )
    assert row["Servers"] == "edge01.contoso.net; edge02.contoso.net"
    assert row["Notes"].startswith("the A/V Edge FQDN is not needed")
