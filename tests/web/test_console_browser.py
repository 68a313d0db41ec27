"""The web console in a real browser (Debian chromium, driven by Playwright): sign in, submit a
request made by `openssl req`, approve it as a CA manager, download the certificate and verify
it with `openssl verify`; revoke it and see the certificates, the dashboard and the CA page's
CRL change; a wrong password and a missing CSRF token are refused. A screenshot of each page is
kept under test-output/screenshots."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from layout import broken_cells

from lab import ACCOUNTS, CONTOSO, Lab, ok, openssl, openssl_request

REQUESTER, MANAGER = "fe-requester", "ca-boss"


def sign_in(page: Any, lab: Lab, account: str, password: str | None = None) -> None:
    page.goto(f"{lab.url}/ui/login")
    page.get_by_label("Account").fill(account)
    page.get_by_label("Password").fill(password or ACCOUNTS[account][1])
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/ui/login.*"))


def crl_entries(page: Any, lab: Lab, where: str) -> int:
    page.goto(f"{lab.url}/ui/{where}")
    row = page.locator('tr[data-crl="lyncpki Issuing CA"]')
    return int(row.get_attribute("data-entries"))


@pytest.mark.external
def test_request_approve_download_verify_revoke(
    browser: Any, console_lab: Lab, screenshots: Path, tmp_path: Path
) -> None:
    lab = console_lab
    shutil.copyfile(CONTOSO, lab.home / "topology.yaml")  # the dashboard's topology
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()

    # a wrong password is refused, in words
    page.goto(f"{lab.url}/ui/")
    page.screenshot(path=screenshots / "login.png", full_page=True)
    sign_in(page, lab, REQUESTER, "not-the-password")
    assert page.get_by_role("alert").inner_text() == "Wrong account name or password."

    # the requester submits a request made by openssl, under a template a manager approves
    sign_in(page, lab, REQUESTER)
    page.wait_for_url(re.compile(r".*/ui/request$"))
    _, csr = openssl_request(
        tmp_path, "fe01", "fe01.contoso.net", ["fe01.contoso.net", "pool01.contoso.net"]
    )
    page.get_by_label("Certificate request (base64 / PEM)").fill(csr.read_text())
    page.get_by_label("Certificate template").select_option("WebServerApproval")
    page.screenshot(path=screenshots / "request.png", full_page=True)
    page.get_by_role("button", name="Submit").click()
    pending = page.locator("[data-request]")
    request_id = pending.get_attribute("data-request")
    assert request_id and "waits for a CA manager" in pending.inner_text()
    page.screenshot(path=screenshots / "request-pending.png", full_page=True)
    assert page.get_by_role("link", name="Pending requests").count() == 0  # not a manager
    sign_out(page)

    # the manager sees it, with its key, names and policy verdict, and approves it
    sign_in(page, lab, MANAGER)
    page.goto(f"{lab.url}/ui/pending")
    row = page.locator(f'tr[data-request="{request_id}"]')
    assert "pool01.contoso.net" in row.inner_text() and "RSA 2048" in row.inner_text()
    assert "passes the template's policy" in row.inner_text()
    page.screenshot(path=screenshots / "pending.png", full_page=True)
    broken = broken_cells(page, "th, td:not(.mono)")
    assert broken == [], broken
    row.get_by_role("button", name=f"Approve request {request_id}").click()
    notice = page.get_by_role("status").inner_text()
    serial = re.search(r"certificate ([0-9a-f]+) issued", notice)
    assert serial, notice
    serial_hex = serial.group(1)

    # the certificate, downloaded from the inventory, is verified by openssl
    page.goto(f"{lab.url}/ui/certificates?q={serial_hex}")
    assert page.locator(f'tr[data-serial="{serial_hex}"]').count() == 1
    with page.expect_download() as download:
        page.locator(f'tr[data-serial="{serial_hex}"]').get_by_role("link", name=".pem").click()
    pem = tmp_path / "downloaded.pem"
    download.value.save_as(pem)
    verdict = openssl(
        "verify",
        "-CAfile",
        lab.home / "ca" / "root.crt",
        "-untrusted",
        lab.home / "ca" / "issuing.crt",
        pem,
    )
    assert verdict.strip().endswith(": OK")
    page.screenshot(path=screenshots / "certificates.png", full_page=True)
    # no header, status, button or label broken inside a word ("stat / us", "Revo / ke")
    broken = broken_cells(page, "th, td:not(.mono)")
    assert broken == [], broken

    # revoked from the inventory: the CRL grows on the dashboard and the CA page
    before = crl_entries(page, lab, "dashboard")
    page.goto(f"{lab.url}/ui/certificates?q={serial_hex}")
    row = page.locator(f'tr[data-serial="{serial_hex}"]')
    row.get_by_label("Reason").select_option("keyCompromise")
    row.get_by_role("button", name=f"Revoke {serial_hex}").click()
    # named before it is done: subject, serial and reason, then confirmed
    assert page.locator(f'dl[data-serial="{serial_hex}"]').count() == 1
    assert page.locator('dd[data-reason="keyCompromise"]').count() == 1
    page.screenshot(path=screenshots / "revoke.png", full_page=True)
    page.get_by_role("button", name=f"Confirm the revocation of {serial_hex}").click()
    assert "revoked (keyCompromise)" in page.get_by_role("status").inner_text()
    assert page.locator(f'tr[data-serial="{serial_hex}"]').get_attribute("data-status") == (
        "revoked"
    )
    assert crl_entries(page, lab, "dashboard") == before + 1
    page.screenshot(path=screenshots / "dashboard.png", full_page=True)
    broken = broken_cells(page, "table.grid th, table.grid td")
    assert broken == [], broken  # "missi / ng" before
    assert crl_entries(page, lab, "ca") == before + 1
    page.screenshot(path=screenshots / "ca.png", full_page=True)
    crl = lab.work / "after.crl"
    crl.write_bytes((lab.home / "publish" / "crl" / "lyncpki-issuing-ca.crl").read_bytes())
    listed = openssl("crl", "-inform", "DER", "-in", crl, "-noout", "-text")
    assert serial_hex.upper() in listed.upper().replace(":", "")

    # a form without its CSRF token is refused (the session cookie alone is not enough)
    refused = context.request.post(
        f"{lab.url}/ui/request", multipart={"csr": csr.read_text(), "template": ""}
    )
    assert refused.status == 403 and "security token" in refused.text()
    context.close()


@pytest.mark.external
def test_the_dashboard_shows_each_server_and_usage(browser: Any, console_lab: Lab) -> None:
    lab = console_lab
    shutil.copyfile(CONTOSO, lab.home / "topology.yaml")
    ok(
        lab.cli(
            "request",
            "--topology",
            CONTOSO,
            "--server",
            "med01.contoso.net",
            "--ca",
            lab.url,
            "--ca-account",
            REQUESTER,
            "--assign",
            LYNCPKI_CA_PASSWORD=ACCOUNTS[REQUESTER][1],
        )
    )
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, lab, REQUESTER)
    page.goto(f"{lab.url}/ui/dashboard")
    med = page.locator('td[data-server="med01.contoso.net"][data-usage="Default"]')
    assert med.get_attribute("data-state") == "assigned"
    fe = page.locator('td[data-server="fe02.contoso.net"][data-usage="Default"]')
    assert fe.get_attribute("data-state") == "missing"
    assert int(page.locator('dd[data-count="missing"]').inner_text()) > 0
    assert page.get_by_role("button", name="Check now").count() == 0  # managers, auditors
    refused = context.request.post(f"{lab.url}/ui/dashboard/check", form={})
    assert refused.status == 403
    sign_out(page)

    # a manager runs the check from the dashboard: the same findings as `lyncpki check`
    sign_in(page, lab, MANAGER)
    page.goto(f"{lab.url}/ui/dashboard")
    page.get_by_role("button", name="Check now").click()
    assert "Checked now:" in page.get_by_role("status").inner_text()
    unassigned = page.locator('tr[data-id="cert.unassigned"]')
    assert "fe02.contoso.net" in " ".join(unassigned.all_inner_texts())
    kept = json.loads((lab.home / "last-check.json").read_text())
    assert kept["schema"] == "lyncpki.findings/1" and not kept["offline"]
    assert "med01.contoso.net" in kept["checked"]  # checked, and its certificate is right:
    mine = [f for f in kept["findings"] if f["server"] == "med01.contoso.net"]
    assert not [f for f in mine if f["severity"] == "error"], mine
    cli = json.loads(lab.cli("check", "--topology", CONTOSO, "--format", "json").stdout)

    def errors(report: dict[str, Any]) -> set[tuple[str, str, str]]:
        return {
            (f["id"], f["server"], f["usage"])
            for f in report["findings"]
            if f["severity"] == "error"
        }

    assert errors(kept) == errors(cli) and errors(kept)
    no_token = context.request.post(f"{lab.url}/ui/dashboard/check", form={})
    assert no_token.status == 403 and "security token" in no_token.text()
    context.close()
