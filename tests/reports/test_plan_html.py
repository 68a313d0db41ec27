"""The HTML report, parsed back with the standard library's html.parser."""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser

from report_samples import ODD_SITE

from lyncpki.planning import CertificatePlan
from lyncpki.reports import render_plan
from lyncpki.reports.columns import CERTIFICATE_COLUMNS
from lyncpki.reports.plan_html import render_html


class Report(HTMLParser):
    """What the report holds: certificate rows (cells by class), warning rows, headings."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: dict[str, dict[str, list[str]]] = {}  # data-id -> class -> texts
        self.row_order: list[str] = []
        self.row_heading: dict[str, str] = {}  # data-id -> the h2 it appears under
        self.warnings: list[dict[str, str]] = []
        self.headings: list[tuple[str, str]] = []
        self.title = ""
        self.style = ""
        self._row: dict[str, list[str]] | None = None
        self._warning: dict[str, str] | None = None
        self._cell: str | None = None
        self._text: list[str] = []
        self._heading: str | None = None
        self._h2 = ""
        self._in: str | None = None  # title, style
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in ("title", "style"):
            self._in = tag
        elif tag in ("h2", "h3"):
            self._heading, self._text = tag, []
        elif tag == "tr" and attributes.get("data-id"):
            cert_id = str(attributes["data-id"])
            self._row = self.rows.setdefault(cert_id, {})
            self.row_order.append(cert_id)
            self.row_heading[cert_id] = self._h2
        elif tag == "tr" and attributes.get("data-warning"):
            self._warning = {}
            self.warnings.append(self._warning)
        elif tag == "td" and (self._row is not None or self._warning is not None):
            self._cell, self._text = str(attributes.get("class")), []
            if self._row is not None:
                self._row[self._cell] = []
        elif tag == "li" and self._row is not None and self._cell:
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        text = "".join(self._text).strip()
        if tag in ("title", "style"):
            self._in = None
        elif tag in ("h2", "h3") and self._heading == tag:
            self.headings.append((tag, text))
            if tag == "h2":
                self._h2 = text
            self._heading = None
        elif tag == "li" and self._row is not None and self._cell:
            self._row[self._cell].append(text)
        elif tag == "td" and self._cell:
            if self._row is not None and not self._row[self._cell] and text:
                self._row[self._cell] = [text]
            if self._warning is not None:
                self._warning[self._cell] = text
            self._cell = None
        elif tag == "tr":
            self._row = self._warning = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "style":
            self.style += data
        else:
            self._text.append(data)


def test_one_row_per_certificate(contoso_plan: CertificatePlan) -> None:
    report = Report(render_html(contoso_plan))
    assert report.title == "lyncpki Certificates Report"
    assert len(report.row_order) == len(contoso_plan.certificates) == 18
    assert set(report.rows) == {c.id for c in contoso_plan.certificates}
    for cells in report.rows.values():
        assert set(cells) == {column.key for column in CERTIFICATE_COLUMNS}


def test_sans_are_in_the_right_row(contoso_plan: CertificatePlan) -> None:
    rows = Report(render_html(contoso_plan)).rows
    assert rows["fe01.contoso.net/default"]["sans"] == [
        "pool01.contoso.net",
        "fe01.contoso.net",
        "sip.contoso.com",
        "sip.fabrikam.com",
    ]
    assert "fe01.contoso.net" not in rows["fe02.contoso.net/default"]["sans"]
    assert rows["edgepool.contoso.net/edge-external"]["sans"] == [
        "sip.contoso.com",
        "webconf.contoso.com",
        "sip.fabrikam.com",
    ]
    assert rows["edgepool.contoso.net/edge-external"]["issued-from"] == ["public CA"]
    assert rows["fe01.contoso.net/default"]["eku"] == ["Server Authentication"]
    assert rows["fe01.contoso.net/default"]["subject-name"] == ["pool01.contoso.net"]
    assert rows["fe01.contoso.net/default"]["exportable"][0].startswith("no — ")


def test_grouped_by_site_then_role(small_plan: CertificatePlan) -> None:
    report = Report(render_html(small_plan))
    h3 = [text for tag, text in report.headings if tag == "h3"]
    assert h3 == [
        f"{ODD_SITE} — standard_edition (2 certificates)",
        "Oslo — front_end (4 certificates)",
        "Oslo — edge (2 certificates)",
        "global — global (1 certificate)",
    ]
    assert report.row_heading["se1.lab.kvasir.no/web-internal"] == f"Site {ODD_SITE}"
    assert report.row_heading["edge.oslo.kvasir.no/edge-external"] == "Site Oslo"
    assert report.rows["se1.lab.kvasir.no/default"]["site"] == [ODD_SITE]


def test_self_contained(contoso_plan: CertificatePlan) -> None:
    report = Report(render_html(contoso_plan))
    names = {tag for tag, _ in report.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed"}
    for _, attributes in report.tags:
        assert "src" not in attributes
        href = attributes.get("href")
        assert href is None or href.startswith("#")
    assert "@import" not in report.style
    assert "url(" not in report.style


def test_printable(contoso_plan: CertificatePlan) -> None:
    style = Report(render_html(contoso_plan)).style
    assert "@media print" in style
    assert "break-inside: avoid" in style
    assert "landscape" in style


def test_warnings_table_and_escaping(contoso_plan: CertificatePlan) -> None:
    html = render_html(contoso_plan)
    report = Report(html)
    assert len(report.warnings) == len(contoso_plan.warnings) == 32
    first = report.warnings[0]
    assert first["id"] == "plan.default-name"
    assert first["subject"] == "organization.name"
    assert first["message"] == "'Contoso Ltd' is the documentation's example text, left unedited"
    assert "&#39;Contoso Ltd&#39;" in html  # escaped in the file ...
    assert "'Contoso Ltd'" not in html  # ... never raw
    assert {w["severity"] for w in report.warnings} == {"warning"}


def test_markup_in_values_is_escaped(small_plan: CertificatePlan) -> None:
    html = render_html(small_plan)
    assert ODD_SITE not in html
    assert "Lab [b], &#34;East&#34; &lt;&amp;&gt;" in html
    evil = "<script>alert(1)</script>.kvasir.no"
    cert = small_plan.certificates[0]
    tampered = dataclasses.replace(
        small_plan, certificates=(dataclasses.replace(cert, sans=(*cert.sans, evil)),)
    )
    html = render_html(tampered)
    assert "<script" not in html
    report = Report(html)
    assert report.rows[cert.id]["sans"][-1] == evil
    assert "script" not in {tag for tag, _ in report.tags}


def test_direction_and_control_characters_are_shown_not_obeyed(
    small_plan: CertificatePlan,
) -> None:
    """A right-to-left override (U+202E), ESC or NUL in a site name reached the HTML raw, and
    the browser obeyed the override (the terminal table showed \\u202e)."""
    cert = small_plan.certificates[0]
    odd = dataclasses.replace(cert, site="A\u202eevil\x1b[31m\x00")
    html = render_html(dataclasses.replace(small_plan, certificates=(odd,)))
    assert "\u202e" not in html and "\x1b" not in html and "\x00" not in html
    assert "A\\u202eevil\\x1b[31m\\x00" in html


def test_no_warnings(small_plan: CertificatePlan) -> None:
    # the sample's pools have no external web FQDN (plan.no-external-web): without its warnings
    quiet = dataclasses.replace(small_plan, warnings=())
    html = render_html(quiet)
    assert "No warnings." in html
    assert Report(html).warnings == []


def test_render_plan_gives_utf8_bytes(contoso_plan: CertificatePlan) -> None:
    data = render_plan(contoso_plan, "html")
    assert data.startswith(b"<!DOCTYPE html>")
    assert data.decode("utf-8") == render_html(contoso_plan)
