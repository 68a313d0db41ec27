"""The terminal report, rendered to a file console and read as text."""

from __future__ import annotations

import dataclasses
import io

import pytest
from report_samples import ODD_SITE, big_topology
from rich.console import Console

from lyncpki.planning import CertificatePlan, plan
from lyncpki.reports import FORMATS, render_plan
from lyncpki.reports.plan_table import COMPACT_ABOVE, print_plan


def _render(plan: CertificatePlan, width: int = 200) -> str:
    buffer = io.StringIO()
    print_plan(plan, Console(file=buffer, width=width))
    return buffer.getvalue()


def test_every_certificate_is_shown(contoso_plan: CertificatePlan) -> None:
    text = _render(contoso_plan)
    assert text.startswith("18 certificates (16 from the internal CA, 2 from a public CA)")
    for cert in contoso_plan.certificates:
        assert cert.subject in text
        for name in cert.sans:
            assert name in text
    for title in ("Redmond — front_end", "Redmond — edge", "global — global"):
        assert title in text
    assert "…" not in text  # nothing cut
    assert "━" in text  # tables at this width


def test_default_name_warnings_are_one_line(contoso_plan: CertificatePlan) -> None:
    lines = _render(contoso_plan).splitlines()
    collapsed = [line for line in lines if "plan.default-name" in line]
    assert len(collapsed) == 1
    line = collapsed[0]
    assert "30 fields" in line
    fields = [w.subject for w in contoso_plan.warnings if w.id == "plan.default-name"]
    assert ", ".join(fields) in line
    assert "organization.name" in line and "sites[0].reverse_proxy.publishes[1]" in line


def test_other_warnings_are_a_table(contoso_plan: CertificatePlan) -> None:
    text = _render(contoso_plan)
    assert "plan.meet-url-missing" in text
    assert "plan.web-not-published" in text
    assert "add meet.fabrikam.com to simple_urls.meet" in text
    assert "Warnings: 32 warnings" in text


def test_narrow_console_gets_the_compact_layout(contoso_plan: CertificatePlan) -> None:
    text = _render(contoso_plan, width=80)
    assert "━" not in text
    assert "  Lync Default fe01.contoso.net\n    Subject    pool01.contoso.net\n" in text
    assert "    SANs       pool01.contoso.net\n               fe01.contoso.net\n" in text
    assert "lyncdiscoverinternal.fabrikam.com" in text
    assert "…" not in text
    for cert in contoso_plan.certificates:
        assert f"\n  {cert.friendly_name}\n    Subject    {cert.subject}\n" in text
    assert "\nwarning plan.meet-url-missing (Q12) fabrikam.com: SIP domain" in text


def test_values_are_not_markup(small_plan: CertificatePlan) -> None:
    # the sample's pools have no external web FQDN (plan.no-external-web): without its warnings
    text = _render(dataclasses.replace(small_plan, warnings=()))
    assert f"{ODD_SITE} — standard_edition" in text
    assert "No warnings." in text


def test_table_is_not_a_file_format(small_plan: CertificatePlan) -> None:
    assert FORMATS == ("table", "csv", "json", "html", "xlsx")
    with pytest.raises(ValueError, match="print_plan"):
        render_plan(small_plan, "table")
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        render_plan(small_plan, "pdf")


@pytest.mark.slow
def test_thirty_thousand_certificates_print_whole() -> None:
    """Every one of thirty thousand certificates in the compact layout (how fast: bench/plan.py,
    not a timed assertion here)."""
    big = plan(big_topology(pools=500, servers=20))
    assert len(big.certificates) > 30_000 > COMPACT_ABOVE
    text = _render(big)
    assert "fe499-19.bergen.kvasir.no" in text
    assert text.count("\n    Subject    ") == len(big.certificates)
