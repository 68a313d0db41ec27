"""The findings section of the check and deploy reports: a table for each server with
findings, and one line for all the servers without (a 100-server deployment printed a hundred
"No finding." headings)."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

from lyncpki.checks.finding import Finding
from lyncpki.checks.report import CheckReport
from lyncpki.planning.model import Severity
from lyncpki.reports.findings_html import render_findings_html


class Section(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[str] = []
        self.clean: str | None = None
        self.servers_text = ""
        self._in_servers = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "table" and values.get("data-server"):
            self.tables.append(str(values["data-server"]))
        if tag == "p" and "data-clean" in values:
            self.clean = values["data-clean"]
        if tag == "span" and values.get("class") == "servers":
            self._in_servers = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._in_servers = False

    def handle_data(self, data: str) -> None:
        if self._in_servers:
            self.servers_text += data


def test_clean_servers_share_one_line_and_the_others_get_their_tables() -> None:
    servers = ("fe01.contoso.net", "fe02.contoso.net", "<edge01>.contoso.net")
    finding = Finding(
        "san.missing",
        Severity.ERROR,
        servers[1],
        "Default",
        "CN=pool01.contoso.net",
        "the planned SAN sip.contoso.com is missing",
        "request a new certificate",
        "R-GEN-07",
    )
    report = CheckReport((finding,), dt.datetime.now(dt.UTC), checked=servers)
    section = Section()
    section.feed(render_findings_html(report))
    assert section.tables == [servers[1]]
    assert section.clean == "2"
    assert section.servers_text == f"{servers[0]}, {servers[2]}"  # escaped, read back whole
