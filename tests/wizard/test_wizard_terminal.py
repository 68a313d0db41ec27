"""The wizard driven through a real pseudo-terminal (pexpect), as an administrator answers it:
an immediate request through every page, with one Back that keeps the answers, assigned at the
end; a delayed request that writes a .req openssl accepts; a Cancel that changes nothing."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from lab import ACCOUNTS, CONTOSO, Lab, lab_env, make_lab, ok, openssl, sans_of

ENTER, DOWN_SELECT_2, ESC = "\r", "2\r", "\x1b"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    served = make_lab(tmp_path_factory.mktemp("wizard-lab"))
    try:
        yield served
    finally:
        served.stop()


def spawn(lab: Lab, server: str) -> pexpect.spawn:  # type: ignore[type-arg]
    env = lab_env(PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm")
    child = pexpect.spawn(
        sys.executable,
        [
            "-m",
            "lyncpki",
            "wizard",
            "--home",
            str(lab.home),
            "--topology",
            str(CONTOSO),
            "--server",
            server,
        ],
        env=env,
        encoding="utf-8",
        dimensions=(60, 160),
        timeout=60,
    )
    child.logfile_read = (lab.work / f"wizard-{server}.log").open("w")
    return child


def answer(child: pexpect.spawn, prompt: str, keys: str = ENTER) -> None:  # type: ignore[type-arg]
    child.expect_exact(prompt)
    child.send(keys)


def page(child: pexpect.spawn, title: str, keys: str = ENTER) -> None:  # type: ignore[type-arg]
    """Reach a page, then press its Go to: Next (Enter) unless told otherwise."""
    child.expect_exact(title)
    answer(child, "Go to", keys)


def test_an_immediate_request_through_every_page_with_one_back(lab: Lab) -> None:
    user, password = "fe-requester", ACCOUNTS["fe-requester"][1]
    child = spawn(lab, "dir01.contoso.net")
    answer(child, "Task")  # Certificate Wizard: Request
    child.expect_exact("Certificate Request")
    answer(child, "Certificate")  # the first planned certificate: Default
    answer(child, "Go to")
    child.expect_exact("Delayed or Immediate Requests")
    answer(child, "Request")  # immediate
    answer(child, "Go to")
    child.expect_exact("Choose a Certification Authority")
    answer(child, "CA")  # the CA detected in this home
    answer(child, "Go to")
    child.expect_exact("Certification Authority Account")
    answer(child, "alternate credentials", "1\r")  # Yes
    answer(child, "User name", user + ENTER)
    answer(child, "Password", password + ENTER)
    answer(child, "Go to")
    child.expect_exact("Specify Alternate Certificate Template")
    answer(child, "alternative certificate template")  # No
    answer(child, "Go to", DOWN_SELECT_2)  # Back
    child.expect_exact("Certification Authority Account")  # again, with the answers kept
    answer(child, "alternate credentials")  # Yes is now the default
    child.expect_exact(user)  # the user name offered again
    child.send(ENTER)
    answer(child, "Password")  # kept
    answer(child, "Go to")
    child.expect_exact("Specify Alternate Certificate Template")
    answer(child, "alternative certificate template")
    answer(child, "Go to")
    child.expect_exact("Name and Security Settings")
    answer(child, "Friendly name")
    answer(child, "Bit length")
    answer(child, "exportable")
    answer(child, "Go to")
    child.expect_exact("Organization Information")
    answer(child, "Organization", "Contoso Ltd\r")
    answer(child, "unit", ESC)  # Esc: back to the previous page
    child.expect_exact("Name and Security Settings")
    answer(child, "Friendly name")
    answer(child, "Bit length")
    answer(child, "exportable")
    answer(child, "Go to")
    child.expect_exact("Organization Information")
    child.expect_exact("Contoso Ltd")  # the answer kept
    child.send(ENTER)
    answer(child, "unit")
    answer(child, "Go to")
    child.expect_exact("Geographical Information")
    answer(child, "Country")
    answer(child, "State")
    answer(child, "City")
    answer(child, "Go to")
    child.expect_exact("dir.contoso.net")  # Subject Name / SANs: from the plan
    answer(child, "Go to")
    child.expect_exact("SIP Domain Setting")
    answer(child, "sip.<domain>", " \r")  # tick the first SIP domain
    answer(child, "Go to")
    child.expect_exact("Configure Additional Subject Alternate Names")
    answer(child, "Additional SANs", "future.contoso.com\r")
    answer(child, "Go to")
    child.expect_exact("Certificate Request Summary")
    child.expect_exact("lyncpki request")
    child.expect_exact("--sip-domain contoso.com")
    child.expect_exact("--additional-san future.contoso.com")
    answer(child, "Go to")
    child.expect_exact("Executing Commands")
    child.expect_exact("issued and installed")
    answer(child, "Go to")
    child.expect_exact("Online Certificate Request Status")
    answer(child, "Assign the certificate")  # Yes, the default
    answer(child, "Go to")
    page(child, "Certificate Assignment Summary")
    child.expect_exact(f"> lyncpki assign --home {lab.home} --server")  # as it acted: this home
    child.expect_exact("assigned")
    answer(child, "Go to")
    child.expect_exact("Certificate Wizard")
    answer(child, "Go to")  # Close
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    rows = json.loads(ok(lab.cli("certs", "--server", "dir01.contoso.net", "--json")).stdout)
    (default,) = [r for r in rows["certificates"] if r["type"] == "Default"]
    assert default["state"] == "assigned"
    cert = lab.home / "servers" / "dir01.contoso.net" / "certs" / f"{default['thumbprint']}.crt"
    names = sans_of(cert)
    assert {
        "dir.contoso.net",
        "dir01.contoso.net",
        "sip.contoso.com",
        "future.contoso.com",
    } <= names


def test_a_delayed_request_writes_a_req(lab: Lab) -> None:
    out = lab.work / "med01-wizard.req"
    child = spawn(lab, "med01.contoso.net")
    answer(child, "Task")
    answer(child, "Certificate")
    answer(child, "Go to")
    answer(child, "Request", DOWN_SELECT_2)  # Prepare the request now, send it later
    answer(child, "Go to")
    child.expect_exact("Certificate Request File")
    child.expect_exact("File name")
    # a file in a folder that does not exist is refused here, not pages later at Executing
    child.send("\x15/nonexistent/dir/x.req" + ENTER)  # Ctrl-U clears the proposed name
    child.expect_exact("does not exist")
    child.expect_exact("File name")
    child.send("\x15" + str(out) + ENTER)
    answer(child, "Go to")
    for title, prompts in (
        ("Specify Alternate Certificate Template", ["alternative certificate template"]),
        ("Name and Security Settings", ["Friendly name", "Bit length", "exportable"]),
        ("Organization Information", ["Organization", "unit"]),
    ):
        child.expect_exact(title)
        for prompt in prompts:
            answer(child, prompt)
        answer(child, "Go to")
    child.expect_exact("Geographical Information")
    child.expect_exact("Country")
    child.send("\x15USA" + ENTER)  # three letters: asked again on this page
    child.expect_exact("not a two-letter country code")
    child.expect_exact("Country")
    child.send("\x15SE" + ENTER)
    for prompt in ("State", "City", "Go to"):
        answer(child, prompt)
    for title, prompts in (
        ("Subject Name / Subject Alternative Names", []),
        ("SIP Domain Setting", ["sip.<domain>"]),
        ("Configure Additional Subject Alternate Names", ["Additional SANs"]),
        ("Certificate Request Summary", []),
    ):
        child.expect_exact(title)
        for prompt in prompts:
            answer(child, prompt)
        answer(child, "Go to")
    child.expect_exact("request written to")
    answer(child, "Go to")
    child.expect_exact("Send the file to your CA")
    answer(child, "Go to")  # Finish
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert out.read_text().startswith("-----BEGIN NEW CERTIFICATE REQUEST-----")
    assert "verify OK" in openssl("req", "-verify", "-in", out, "-noout")


def test_cancel_changes_nothing(lab: Lab) -> None:
    child = spawn(lab, "pchat01.contoso.net")
    answer(child, "Task")
    answer(child, "Certificate")
    answer(child, "Go to")
    answer(child, "Request")
    answer(child, "Go to", "3\r")  # Cancel
    child.expect_exact("cancelled")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert not (lab.home / "servers" / "pchat01.contoso.net").exists()


def test_without_a_terminal_the_wizard_says_what_to_use(lab: Lab, tmp_path: Path) -> None:
    process = lab.cli("wizard", "--topology", CONTOSO, "--server", "fe01.contoso.net")
    assert process.returncode == 2 and "needs a terminal" in process.stderr


def test_export_ships_only_the_chain_and_never_replaces_another_file(lab: Lab) -> None:
    """The wizard's Export put every CA the store trusts into the .pfx (an unrelated root
    imported there became trusted wherever the .pfx was imported) and wrote it over any file
    (a topology); `lyncpki export` did neither."""
    server, work = "edge01.contoso.net", lab.work
    req, cer = work / "edge-int.req", work / "edge-int.cer"
    ok(lab.cli("request", "-t", CONTOSO, "--server", server, "--type", "Internal", "--offline",
               "-o", req))  # fmt: skip
    ok(lab.cli("ca", "issue", req, "-o", cer, "--chain"))
    ok(lab.cli("import", "--server", server, cer))
    foreign_key, foreign = work / "foreign.key", work / "foreign.pem"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", foreign_key,
            "-out", foreign, "-subj", "/CN=Unrelated Root", "-days", "30")  # fmt: skip
    ok(lab.cli("import", "--server", server, foreign))

    def export_to(path: Path) -> str:
        child = spawn(lab, server)
        answer(child, "Task", "4\r")  # Export
        child.expect_exact("Export Certificate")
        answer(child, "Certificate")
        answer(child, "File", "\x15" + str(path) + ENTER)
        if child.expect([r"is not a \.pfx", "Password"]) == 0:  # said on the File page
            said = str(child.after)
            child.close(force=True)
            return said
        child.send("Wizard-pfx-pass-1" + ENTER)
        answer(child, "3DES", ENTER)
        answer(child, "Go to")
        child.expect([r"exported [^\r\n]*", r"is not a \.pfx"])  # (error: is coloured)
        said = str(child.after)
        child.close(force=True)
        return said

    victim = work / "victim.yaml"
    victim.write_bytes(CONTOSO.read_bytes())
    said = export_to(victim)
    assert "is not a .pfx" in said, said
    assert victim.read_bytes() == CONTOSO.read_bytes()

    pfx = work / "wizard.pfx"
    said = export_to(pfx)
    assert "exported" in said and "2 CA certificate(s)" in said, said
    subjects = openssl("pkcs12", "-in", pfx, "-passin", "pass:Wizard-pfx-pass-1", "-nokeys")
    assert "Unrelated Root" not in subjects
    assert subjects.count("BEGIN CERTIFICATE") == 3  # the certificate, issuing CA, root


def test_import_knows_a_pfx_by_its_content_and_asks_its_password(lab: Lab) -> None:
    """A .pfx named edge.bin: the wizard asked no password (it went by the name) and ended
    with "needs a password", while `lyncpki import edge.bin --password` worked."""
    work = lab.work
    key, cert, pfx = work / "bin.key", work / "bin.pem", work / "edge.bin"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
            "-subj", "/CN=edge02.contoso.net", "-days", "5")  # fmt: skip
    openssl("pkcs12", "-export", "-inkey", key, "-in", cert, "-out", pfx,
            "-passout", "pass:Bin-pfx-pass-1")  # fmt: skip
    child = spawn(lab, "edge02.contoso.net")
    answer(child, "Task", "3\r")  # Import
    child.expect_exact("Import Certificate")
    answer(child, "File", "\x15" + str(pfx) + ENTER)
    answer(child, "Password", "Bin-pfx-pass-1" + ENTER)
    answer(child, "Go to")
    child.expect(r"installed [0-9A-F]{40}")
    child.close(force=True)
    rows = json.loads(ok(lab.cli("certs", "--server", "edge02.contoso.net", "--json")).stdout)
    assert any(r["has_private_key"] for r in rows["certificates"])
