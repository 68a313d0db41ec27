"""`lyncpki ca ...` driven as an administrator would, every file it writes judged by openssl:
init, issue, list, show, revoke, CRLs, chain (PEM and p7b), templates; refusals with their
codes and exit 2, never a traceback; the passphrase protects the keys and is never printed."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from ca_tools import (
    colon_serial_of,
    crl_number,
    crl_text,
    openssl,
    openssl_req,
    pem_blocks,
    run_openssl,
    serial_of,
)
from typer.testing import CliRunner, Result

from lyncpki.ca.home import CaHome, generate_passphrase
from lyncpki.cli.main import app

# A passphrase distinctive enough that finding it in an output cannot be a coincidence.
SECRET = "pw-Qx7-cli-secret-4711"
WRONG = "pw-wrong-Zk3-passphrase"
ENV = {"LYNCPKI_CA_PASSPHRASE": SECRET, "COLUMNS": "200"}

runner = CliRunner()
OUTPUTS: list[str] = []  # everything the CLI printed in this module


def cli(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    result = runner.invoke(app, [str(a) for a in args], env=env or ENV)
    OUTPUTS.append(result.stdout + result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA made by `ca init`, shared by this module's tests."""
    path = tmp_path_factory.mktemp("cli") / "home"
    result = cli("ca", "init", "--home", path, "--domain", "corp-test.se", "--root-key", "rsa2048")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"created CA in {path}" in result.stdout
    return path


@pytest.fixture(scope="module")
def issued(home: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`ca issue req.csr -o cert.pem --chain`: the chain file and the serial openssl reads."""
    folder = tmp_path_factory.mktemp("issue")
    (folder / "req.csr").write_bytes(openssl_req(folder))
    out = folder / "cert.pem"
    result = cli("ca", "issue", folder / "req.csr", "-o", out, "--chain", "--home", home)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert str(out) in result.stdout
    return out, serial_of(out)


def ca_cert(home: Path, which: str) -> Path:
    return home / "ca" / f"{which}.crt"


# ---------------------------------------------------------------- init
def test_init_refuses_an_existing_ca(home: Path) -> None:
    config = (home / "ca" / "config.json").read_bytes()
    result = cli("ca", "init", "--home", home, "--domain", "corp-test.se", "--root-key", "rsa2048")
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert (home / "ca" / "config.json").read_bytes() == config


def test_init_needs_namespaces(tmp_path: Path) -> None:
    result = cli("ca", "init", "--home", tmp_path / "h", "--root-key", "rsa2048")
    assert result.exit_code == 2
    assert "the CA needs the DNS namespaces it may sign" in result.stderr
    assert "fix:" in result.stderr and "--domain" in result.stderr
    assert not (tmp_path / "h" / "ca" / "config.json").exists()


@pytest.mark.external
def test_init_from_a_topology(contoso_yaml: Path, tmp_path: Path) -> None:
    result = cli(
        "ca", "init", "--home", tmp_path / "h", "--topology", contoso_yaml,
        "--root-key", "rsa2048", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert {"contoso.com", "contoso.net"} <= set(document["namespaces"])
    # the root and issuing CA of the document are the ones written, as openssl reads them
    for which in ("root", "issuing"):
        line = openssl("x509", "-in", tmp_path / "h" / "ca" / f"{which}.crt", "-noout", "-serial")
        assert line.strip() == f"serial={document[which]['serial'].upper()}"
        fingerprint = openssl(
            "x509", "-in", tmp_path / "h" / "ca" / f"{which}.crt", "-noout", "-fingerprint"
        )
        assert fingerprint.strip().split("=")[1].replace(":", "") == document[which]["thumbprint"]


@pytest.mark.external
def test_key_files_are_encrypted_and_private(home: Path) -> None:
    for which in ("root", "issuing"):
        key = home / "ca" / f"{which}.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert key.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
        # openssl opens it with the passphrase, and not without it
        ok = run_openssl("pkey", "-in", key, "-passin", f"pass:{SECRET}", "-noout")
        assert ok.returncode == 0, ok.stderr
        bad = run_openssl("pkey", "-in", key, "-passin", f"pass:{WRONG}", "-noout")
        assert bad.returncode != 0
        # the key is the one of the certificate
        public = openssl("pkey", "-in", key, "-passin", f"pass:{SECRET}", "-pubout")
        assert public == openssl("x509", "-in", ca_cert(home, which), "-noout", "-pubkey")


def test_reading_needs_no_passphrase(home: Path, issued: tuple[Path, str]) -> None:
    result = cli("ca", "list", "--json", "--home", home, env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert issued[1].lower() in {row["serial"] for row in json.loads(result.stdout)}


def test_wrong_passphrase_is_a_clear_error(home: Path) -> None:
    result = cli(
        "ca", "crl", "--home", home, env={"LYNCPKI_CA_PASSPHRASE": WRONG, "COLUMNS": "200"}
    )
    assert result.exit_code == 2
    assert "wrong passphrase" in result.stderr
    assert WRONG not in result.stdout + result.stderr
    # the key every signing command uses is named, not the root's (which stays offline)
    assert "the issuing CA" in result.stderr and "root" not in result.stderr, result.stderr


@pytest.mark.external
def test_a_key_that_is_not_the_certificates_is_refused(home: Path, tmp_path: Path) -> None:
    """The CA's keys are lyncpki's own, opened without pyca's RSA consistency check: a key file
    replaced by another key (made by openssl, under the same passphrase) is refused by name."""
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    key = CaHome(copy).key_file("issuing")
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-aes-256-cbc",
            "-pass", f"pass:{SECRET}", "-out", key)  # fmt: skip
    result = cli("ca", "crl", "--home", copy)
    assert result.exit_code == 2, result.output
    assert "issuing CA's key" in result.stderr and "is not the key of its certificate" in (
        result.stderr
    )


# ---------------------------------------------------------------- issue, list, show
@pytest.mark.external
@pytest.mark.external
def test_issue_to_standard_output_names_the_serial_and_never_replaces_the_request(
    home: Path, tmp_path: Path
) -> None:
    """`-o -` wrote a file named "-"; `-o req.csr` replaced the request with the
    certificate; without -o the serial (needed to revoke it) was printed nowhere."""
    request = tmp_path / "req.csr"
    request.write_bytes(openssl_req(tmp_path))
    before = request.read_bytes()
    result = cli("ca", "issue", request, "-o", request, "--home", home)
    assert result.exit_code == 2 and "is the request file itself" in result.stderr
    assert request.read_bytes() == before
    for out in (["-o", "-"], []):
        result = cli("ca", "issue", request, *out, "--home", home)
        assert result.exit_code == 0, result.stderr
        leaf = tmp_path / "leaf.pem"
        leaf.write_text(result.stdout)
        serial = serial_of(leaf)  # openssl reads standard output as the certificate
        said = re.search(r"issued serial ([0-9a-f]+)", result.stderr)
        assert said and int(said.group(1), 16) == int(serial, 16), result.stderr
    assert not (Path.cwd() / "-").exists() and not (tmp_path / "-").exists()


def test_issue_writes_a_chain_openssl_verifies(home: Path, issued: tuple[Path, str]) -> None:
    out, _ = issued
    blocks = pem_blocks(out.read_text("ascii"))
    assert len(blocks) == 3
    assert blocks[1] == ca_cert(home, "issuing").read_text("ascii")
    assert blocks[2] == ca_cert(home, "root").read_text("ascii")
    process = run_openssl("verify", "-CAfile", ca_cert(home, "root"), "-untrusted", out, out)
    assert process.returncode == 0, process.stdout + process.stderr
    assert process.stdout.strip() == f"{out}: OK"


@pytest.mark.external
def test_list_and_show(home: Path, issued: tuple[Path, str]) -> None:
    _, serial = issued
    listed = cli("ca", "list", "--json", "--home", home)
    assert listed.exit_code == 0
    rows = {row["serial"]: row for row in json.loads(listed.stdout)}
    assert serial.lower() in rows
    assert rows[serial.lower()]["subject"] == "CN=fe01.corp-test.se"

    shown = cli("ca", "show", serial, "--json", "--home", home)
    assert shown.exit_code == 0
    record = json.loads(shown.stdout)
    assert record["serial"] == serial.lower()
    assert record["serial_windows"] == bytes.fromhex(serial)[::-1].hex()
    fingerprint = openssl("x509", "-in", issued[0], "-noout", "-fingerprint")
    assert record["thumbprint"] == fingerprint.strip().split("=")[1].replace(":", "")

    pem = cli("ca", "show", serial, "--pem", "--home", home)
    assert pem.stdout == pem_blocks(issued[0].read_text("ascii"))[0]
    both = json.loads(cli("ca", "show", serial, "--pem", "--json", "--home", home).stdout)
    assert both["pem"] == pem.stdout and both["serial"] == serial.lower()  # it printed PEM
    chain = json.loads(cli("ca", "chain", "--json", "--home", home).stdout)  # no such option
    for given, shipped in zip(chain["certificates"], ("issuing", "root"), strict=True):
        print_ = openssl("x509", "-in", ca_cert(home, shipped), "-noout", "-fingerprint")
        assert given["thumbprint"] == print_.strip().split("=")[1].replace(":", "")

    for columns in ("80", "120", "250"):  # records where a table would fold them, else a table
        table = cli("ca", "list", "--home", home, env={"COLUMNS": columns})
        assert table.exit_code == 0
        assert serial.lower() in table.stdout and record["thumbprint"] in table.stdout
        assert all(len(line) <= int(columns) for line in table.stdout.splitlines())
        assert ("┃" in table.stdout) is (columns == "250"), columns


def test_show_unknown_serial(home: Path) -> None:
    result = cli("ca", "show", "01:02:03", "--home", home)
    assert result.exit_code == 2
    assert "no certificate with serial 010203" in result.stderr


@pytest.mark.external
def test_foreign_domain_is_refused(home: Path, tmp_path: Path) -> None:
    request = tmp_path / "evil.csr"
    request.write_bytes(
        openssl_req(tmp_path, subject="/CN=fe01.evil-corp.com", sans=["fe01.evil-corp.com"])
    )
    result = cli("ca", "issue", request, "-o", tmp_path / "evil.pem", "--home", home)
    assert result.exit_code == 2
    assert "policy.namespace" in result.stderr
    assert "fix:" in result.stderr
    assert not (tmp_path / "evil.pem").exists()

    as_json = cli("ca", "issue", request, "--json", "--home", home)
    assert as_json.exit_code == 2
    document = json.loads(as_json.stdout)
    assert [r["code"] for r in document["refusals"]] == ["policy.namespace"]


@pytest.mark.parametrize(
    "content",
    [
        b"\x30\x82\x01\x00garbage" * 10,
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ],
    ids=["binary", "certificate"],
)
def test_not_a_request_is_a_clear_error(home: Path, tmp_path: Path, content: bytes) -> None:
    request = tmp_path / "junk.req"
    request.write_bytes(content)
    result = cli("ca", "issue", request, "--home", home)
    assert result.exit_code == 2
    assert str(request) in result.stderr and "fix:" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.external
def test_a_request_written_with_a_utf8_bom_is_issued(home: Path, tmp_path: Path) -> None:
    """PowerShell 5's `Out-File -Encoding utf8` and Notepad put a byte-order mark first."""
    request = tmp_path / "bom.req"
    pem = openssl_req(tmp_path, subject="/CN=bom.corp-test.se", sans=["bom.corp-test.se"])
    request.write_bytes(b"\xef\xbb\xbf" + pem.replace(b"\n", b"\r\n"))
    out = tmp_path / "bom.pem"
    result = cli("ca", "issue", request, "-o", out, "--chain", "--home", home)
    assert result.exit_code == 0, result.stdout + result.stderr
    process = run_openssl("verify", "-CAfile", ca_cert(home, "root"), "-untrusted", out, out)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "CN = bom.corp-test.se" in openssl("x509", "-in", out, "-noout", "-subject")


def _chain_p7b(home: Path, folder: Path) -> Path:
    out = folder / "chain.p7b"
    openssl("crl2pkcs7", "-nocrl", "-certfile", ca_cert(home, "issuing"),
            "-certfile", ca_cert(home, "root"), "-outform", "DER", "-out", out)  # fmt: skip
    return out


def _truncated(home: Path, folder: Path) -> Path:
    out = folder / "t.req"
    out.write_bytes(openssl_req(folder)[:600])
    return out


@pytest.mark.external
@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_chain_p7b, "chain.p7b is a PKCS#7 chain, not a certificate request"),
        (_truncated, "t.req: the PEM armor is damaged (BEGIN without a matching END)"),
    ],
    ids=["pkcs7", "truncated"],
)
def test_ca_issue_names_what_it_was_given(
    home: Path, tmp_path: Path, make: object, words: str
) -> None:
    given: Path = make(home, tmp_path)  # type: ignore[operator]
    result = cli("ca", "issue", given, "--home", home)
    assert result.exit_code == 2
    assert words in result.stderr and "fix:" in result.stderr
    assert "ParseError" not in result.stderr and "PEM but not" not in result.stderr


# ---------------------------------------------------------------- revoke and CRLs
@pytest.mark.external
def test_revoke_and_publish(home: Path, tmp_path: Path) -> None:
    (tmp_path / "r.csr").write_bytes(
        openssl_req(tmp_path, subject="/CN=old.corp-test.se", sans=None)
    )
    cert = tmp_path / "old.pem"
    assert cli("ca", "issue", tmp_path / "r.csr", "-o", cert, "--home", home).exit_code == 0
    serial = serial_of(cert)
    colon = ":".join(re.findall("..", serial.lower()))

    revoked = cli("ca", "revoke", colon, "--reason", "keyCompromise", "--json", "--home", home)
    assert revoked.exit_code == 0, revoked.stderr
    assert json.loads(revoked.stdout)["reason"] == "keyCompromise"
    again = cli("ca", "revoke", serial, "--home", home)
    assert again.exit_code == 2 and "already revoked" in again.stderr
    shown = json.loads(cli("ca", "show", serial, "--json", "--home", home).stdout)
    assert shown["status"] == "revoked" and shown["revocation_reason"] == "keyCompromise"
    # `ca list --json` says when and why too, its times with their offset (not_before had none,
    # not_after had one) and its SANs as a list like `certs --json`
    listed = json.loads(cli("ca", "list", "--status", "revoked", "--json", "--home", home).stdout)
    (row,) = [r for r in listed if r["serial"] == serial.lower()]
    assert row["revocation_reason"] == "keyCompromise" and row["revoked_at"]
    for moment in ("not_before", "not_after", "issued_at", "revoked_at"):
        assert dt.datetime.fromisoformat(row[moment]).utcoffset() == dt.timedelta(0), moment
    assert isinstance(row["sans"], list)
    assert shown["sans"] == row["sans"]  # `ca show` gave them as "a,b" text
    audit = json.loads(cli("ca", "audit", "--json", "--home", home).stdout)
    assert all(dt.datetime.fromisoformat(a["at"]).tzinfo for a in audit)

    full = cli("ca", "crl", "--json", "--home", home)
    assert full.exit_code == 0
    full_info = json.loads(full.stdout)
    text = crl_text(Path(full_info["file"]))
    assert f"Serial Number: {serial}" in text and "Key Compromise" in text
    assert re.search(rf"CRL Number: \n\s+{full_info['number']}\n", text)

    delta = cli("ca", "crl", "--delta", "--json", "--home", home)
    assert delta.exit_code == 0
    delta_info = json.loads(delta.stdout)
    assert delta_info["base_number"] == full_info["number"] < delta_info["number"]
    delta_text = crl_text(Path(delta_info["file"]))
    assert "Delta CRL Indicator: critical" in delta_text
    assert serial not in delta_text  # revoked before the base

    process = run_openssl(
        "verify", "-crl_check", "-CAfile", ca_cert(home, "root"),
        "-untrusted", ca_cert(home, "issuing"), "-CRLfile", Path(full_info["file"]), cert,
    )  # fmt: skip
    assert process.returncode != 0 and "certificate revoked" in process.stdout + process.stderr

    plain = cli("ca", "crl", "--home", home)
    assert plain.exit_code == 0 and "published CRL #" in plain.stdout


@pytest.mark.external
def test_decimal_serial_finds_the_certificate(home: Path, tmp_path: Path) -> None:
    """`d:DECIMAL` (the documented form) never worked: the colon was stripped before the
    prefix was looked for, so `d:<decimal>` was read as hex and `d:12` meant 0xd12 — another
    certificate's serial, for show and for revoke."""
    (tmp_path / "r.csr").write_bytes(
        openssl_req(tmp_path, subject="/CN=dec.corp-test.se", sans=None)
    )
    cert = tmp_path / "dec.pem"
    assert cli("ca", "issue", tmp_path / "r.csr", "-o", cert, "--home", home).exit_code == 0
    serial = serial_of(cert)  # as openssl prints it: uppercase hex
    decimal = int(openssl("x509", "-in", cert, "-noout", "-serial").split("=")[1], 16)

    shown = cli("ca", "show", f"d:{decimal}", "--json", "--home", home)
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["serial"] == serial.lower()
    twelve = cli("ca", "show", "d:12", "--home", home)
    assert twelve.exit_code == 2 and "no certificate with serial 0c" in twelve.stderr
    # openssl's colon form (`0C:4D:...` in upper case, as some tools print it) still works
    colon = colon_serial_of(cert).upper()
    assert json.loads(cli("ca", "show", colon, "--json", "--home", home).stdout)["serial"] == (
        serial.lower()
    )

    revoked = cli("ca", "revoke", f"d:{decimal}", "--json", "--home", home)
    assert revoked.exit_code == 0, revoked.stderr
    assert json.loads(revoked.stdout)["serial"] == serial.lower()
    full = json.loads(cli("ca", "crl", "--json", "--home", home).stdout)
    assert f"Serial Number: {serial}" in crl_text(Path(full["file"]))


def test_unknown_reason(home: Path) -> None:
    result = cli("ca", "revoke", "0102", "--reason", "because", "--home", home)
    assert result.exit_code == 2
    assert "unknown revocation reason 'because'" in result.stderr


@pytest.mark.external
def test_crl_publishes_a_delta_with_the_full(home: Path) -> None:
    result = cli("ca", "crl", "--home", home)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    full = re.match(r"published CRL #(\d+) of lyncpki-issuing-ca: .* -> (\S+)$", lines[0])
    delta = re.match(r"published delta CRL #(\d+) \(base #(\d+)\) of .* -> (\S+)$", lines[1])
    assert full and delta, result.stdout
    assert crl_number(Path(full[2])) == int(full[1]) == int(delta[2])
    assert crl_number(Path(delta[3])) == int(delta[1]) > int(full[1])
    document = json.loads(cli("ca", "crl", "--json", "--home", home).stdout)
    assert document["written"] and document["delta_crl"]["base_number"] == document["number"]
    root = json.loads(cli("ca", "crl", "--root", "--json", "--home", home).stdout)
    assert "delta_crl" not in root


def test_crl_not_written_is_not_reported_published(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a newer CRL was already at the path (another process published meanwhile), `ca
    crl` said "published CRL #N" for a file it did not write."""
    from lyncpki.ca.authority import CertificateAuthority

    monkeypatch.setattr(CertificateAuthority, "_publish_if_newest", lambda *_: 999)
    result = cli("ca", "crl", "--root", "--home", home)
    assert result.exit_code == 0, result.stderr
    assert not result.stdout.startswith("published")
    assert "signed and recorded, not written" in result.stdout
    assert "already holds #999" in result.stdout


@pytest.mark.external
def test_a_missing_database_is_refused(tmp_path: Path) -> None:
    """`rm <home>/ca/ca.sqlite*` made `ca list` say "no certificates" and `ca crl` say
    "published CRL #1 ... 0 entries" while the file kept the old CRL: a new, empty database
    had been made and the revocations were lost."""
    home = tmp_path / "h"
    made = cli("ca", "init", "--home", home, "--domain", "corp-test.se",
               "--root-key", "ec-p384", "--key", "ec-p256")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    crl = home / "publish" / "crl" / "lyncpki-issuing-ca.crl"
    before = crl.read_bytes()
    for path in (home / "ca").glob("ca.sqlite*"):
        path.unlink()
    for args in (["list"], ["crl"], ["show", "01"], ["audit"]):
        result = cli("ca", *args, "--home", home)
        assert result.exit_code == 2, (args, result.stdout)
        assert "is missing or empty" in result.stderr
        assert "restore it from a backup" in result.stderr
        assert "published" not in result.stdout and "no certificates" not in result.stdout
    assert crl.read_bytes() == before
    assert not list((home / "ca").glob("ca.sqlite*"))


@pytest.mark.parametrize("command", ["issue", "approve"])
def test_out_is_checked_before_signing(home: Path, tmp_path: Path, command: str) -> None:
    """`-o` into a folder that does not exist, or onto a folder: the certificate was issued and
    recorded, then the command failed without giving its serial."""
    (tmp_path / "r.csr").write_bytes(
        openssl_req(tmp_path, subject="/CN=out.corp-test.se", sans=None)
    )
    source: list[str | Path] = [tmp_path / "r.csr"]
    if command == "approve":  # a request pending a manager's approval
        held = cli("ca", "issue", *source, "--template", "SubCA", "--json", "--home", home)
        source = [str(json.loads(held.stdout)["request_id"])]
    before = json.loads(cli("ca", "list", "--json", "--home", home).stdout)
    for out, words in (
        (tmp_path / "missing" / "c.pem", ["folder", "does not exist", "another --out"]),
        (tmp_path, ["is a folder, not a file", "--out"]),
    ):
        result = cli("ca", command, *source, "-o", out, "--home", home)
        assert result.exit_code == 2, result.stdout
        for word in words:
            assert word in result.stderr, result.stderr
        assert "--output" not in result.stderr
    assert json.loads(cli("ca", "list", "--json", "--home", home).stdout) == before
    if command == "approve":
        pending = json.loads(cli("ca", "pending", "--json", "--home", home).stdout)
        assert int(source[0]) in [r["id"] for r in pending]  # still pending, nothing signed


@pytest.mark.external
def test_subordinate_ca_chain_and_revocation(home: Path, tmp_path: Path) -> None:
    """The root signs a subordinate CA: `--chain` appended the issuing CA as well (a chain
    that is no path), and `ca revoke` said "publish it: lyncpki ca crl" when only `ca crl
    --root` lists it."""
    key = tmp_path / "sub.key"
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-subj", "/CN=Corp Test Sub CA",
            "-out", tmp_path / "sub.csr")  # fmt: skip
    pending = cli("ca", "issue", tmp_path / "sub.csr", "--template", "SubCA", "--json",
                  "--home", home)  # fmt: skip
    request_id = json.loads(pending.stdout)["request_id"]
    out = tmp_path / "sub.pem"
    approved = cli("ca", "approve", str(request_id), "-o", out, "--chain", "--home", home)
    assert approved.exit_code == 0, approved.stderr
    blocks = pem_blocks(out.read_text("ascii"))
    assert len(blocks) == 2
    assert blocks[1] == ca_cert(home, "root").read_text("ascii")
    issuer = openssl("x509", "-in", out, "-noout", "-issuer").strip()
    assert issuer == "issuer=CN = lyncpki Root CA"
    process = run_openssl("verify", "-CAfile", ca_cert(home, "root"), out)
    assert process.returncode == 0, process.stdout + process.stderr

    serial = serial_of(out)
    revoked = cli("ca", "revoke", serial, "--home", home)
    assert revoked.exit_code == 0, revoked.stderr
    assert revoked.stdout.strip().endswith("publish it: lyncpki ca crl --root")
    root_crl = json.loads(cli("ca", "crl", "--root", "--json", "--home", home).stdout)
    assert f"Serial Number: {serial}" in crl_text(Path(root_crl["file"]))
    process = run_openssl(
        "verify", "-crl_check", "-CAfile", ca_cert(home, "root"),
        "-CRLfile", Path(root_crl["file"]), out,
    )  # fmt: skip
    assert process.returncode != 0 and "certificate revoked" in process.stdout + process.stderr


def test_leaf_revocation_names_the_issuing_crl(home: Path, tmp_path: Path) -> None:
    (tmp_path / "r.csr").write_bytes(openssl_req(tmp_path, subject="/CN=l.corp-test.se", sans=None))
    issued = json.loads(cli("ca", "issue", tmp_path / "r.csr", "--json", "--home", home).stdout)
    revoked = cli("ca", "revoke", issued["serial"], "--home", home)
    assert revoked.stdout.strip().endswith("publish it: lyncpki ca crl")


@pytest.mark.parametrize("command", [["crl"], ["revoke", "0102"], ["deny", "1"]])
def test_an_empty_passphrase_file_is_an_error_everywhere(
    home: Path, tmp_path: Path, command: list[str]
) -> None:
    """An empty --passphrase-file was passed over for $LYNCPKI_CA_PASSPHRASE."""
    empty = tmp_path / "empty"
    empty.write_text("")
    result = cli("ca", *command, "--passphrase-file", empty, "--home", home)
    assert result.exit_code == 2
    assert f"passphrase file {empty} is empty" in result.stderr


# ---------------------------------------------------------------- chain and templates
@pytest.mark.external
def test_chain_p7b(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "chain.p7b"
    result = cli("ca", "chain", "--format", "p7b", "-o", out, "--home", home)
    assert result.exit_code == 0
    printed = openssl("pkcs7", "-inform", "DER", "-in", out, "-print_certs")
    subjects = re.findall(r"^subject=(.*)$", printed, re.MULTILINE)
    assert len(subjects) == 2
    # certificates of a PKCS#7 bundle are a SET: no order to check
    assert sorted(s.strip() for s in subjects) == [
        "CN = lyncpki Issuing CA",
        "CN = lyncpki Root CA",
    ]
    expected = {ca_cert(home, w).read_text("ascii") for w in ("issuing", "root")}
    assert set(pem_blocks(printed)) == expected


def test_chain_pem_and_p7b_to_terminal(home: Path) -> None:
    pem = cli("ca", "chain", "--home", home)
    assert pem.exit_code == 0
    assert len(pem_blocks(pem.stdout)) == 2
    binary = cli("ca", "chain", "--format", "p7b", "--home", home)
    assert binary.exit_code == 2 and "--out" in binary.stderr


def test_templates_json(home: Path) -> None:
    result = cli("ca", "templates", "--json", "--home", home)
    assert result.exit_code == 0
    templates = {t["name"]: t for t in json.loads(result.stdout)}
    assert {"WebServer", "LyncServer", "OAuthTokenSigning", "SubCA"} <= set(templates)
    assert templates["LyncServer"]["eku"] == ["serverAuth", "clientAuth"]
    assert templates["SubCA"]["approval"] is True


def test_json_outputs_parse(home: Path) -> None:
    for args in (["pending"], ["audit", "--limit", "5"], ["list", "--status", "revoked"]):
        result = cli("ca", *args, "--json", "--home", home)
        assert result.exit_code == 0, (args, result.stderr)
        assert isinstance(json.loads(result.stdout), list)


def test_json_errors_are_json(home: Path) -> None:
    error = cli("ca", "show", "zz-not-hex", "--json", "--home", home)
    assert error.exit_code == 2
    document = json.loads(error.stdout)
    assert document["error"] == "LyncPkiError"
    assert "is not a serial number" in document["message"]


# ---------------------------------------------------------------- the passphrase
@pytest.mark.external
def test_passphrase_never_printed(home: Path, issued: tuple[Path, str], tmp_path: Path) -> None:
    """Every output of this module (this test runs last) and of a round of its own."""
    wrong_env = {"LYNCPKI_CA_PASSPHRASE": WRONG, "COLUMNS": "200"}
    own = [
        cli("ca", "init", "--home", tmp_path / "h", "--domain", "corp-test.se",
            "--root-key", "rsa2048", "--json"),
        cli("ca", "init", "--home", tmp_path / "h", "--domain", "corp-test.se"),
        cli("ca", "list", "--home", home),
        cli("ca", "show", issued[1], "--json", "--home", home),
        cli("ca", "audit", "--json", "--limit", "1000", "--home", home),
        cli("ca", "audit", "--home", home),
        cli("ca", "crl", "--home", home),
        cli("ca", "list", "--home", home, env=wrong_env),  # reading needs no passphrase
        cli("ca", "crl", "--home", home, env=wrong_env),
    ]  # fmt: skip
    assert [r.exit_code for r in own] == [0, 2, 0, 0, 0, 0, 0, 0, 2]
    for output in OUTPUTS:
        assert SECRET not in output
        assert WRONG not in output
    for folder in (home, tmp_path / "h"):
        for path in folder.rglob("*"):
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), path
    assert not (home / "secrets" / "ca-passphrase").exists()


def test_two_inits_at_once_make_one_ca_that_opens(tmp_path: Path) -> None:
    """Two `ca init --generate-passphrase` on one home at the same moment: one CA, one
    passphrase (the second finds the first's), the other refused; the CA opens with the
    passphrase in the file. Both used to go on, each writing its own keys and passphrase."""
    home = tmp_path / "race"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNCPKI_")}
    env["COLUMNS"] = "200"
    command = [
        sys.executable, "-m", "lyncpki", "ca", "init", "--home", str(home),
        "--generate-passphrase", "--root-key", "ec-p384", "--key", "ec-p256",
        "--domain", "contoso.net",
    ]  # fmt: skip
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    results = [(run.wait(120), run.stderr.read().decode()) for run in runs if run.stderr]
    assert sorted(code for code, _ in results) == [0, 2, 2, 2], results
    assert all("a CA already exists" in err for code, err in results if code == 2)
    listed = subprocess.run(
        [sys.executable, "-m", "lyncpki", "ca", "crl", "--home", str(home)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr  # the passphrase file opens the keys


def test_passphrases_generated_at_once_are_one(tmp_path: Path) -> None:
    """Several first runs generating the demo passphrase at the same moment all get the one
    that was written first (each used to write its own over the others')."""
    home = CaHome(tmp_path / "home")
    home.make_dirs()
    with ThreadPoolExecutor(8) as pool:
        made = set(pool.map(lambda _: generate_passphrase(home), range(32)))
    assert len(made) == 1
    assert home.passphrase_file.read_text().strip().encode() in made
    assert [p.name for p in home.secrets.iterdir()] == [home.passphrase_file.name]


def test_a_line_break_in_a_request_files_name_is_shown_not_obeyed(
    home: Path, tmp_path: Path
) -> None:
    """A file named "x<newline>fix: run rm -rf" printed a line of its author's under the
    refusal: the name's line break (and ESC) is shown as an escape, in the audit too."""
    request = tmp_path / "x\n  fix: trust me\x1b[31m.csr"
    request.write_text("hello")
    result = cli("ca", "issue", request, "--home", home)
    assert result.exit_code == 2
    assert "\\x0a  fix: trust me\\x1b[31m.csr" in result.stderr, result.stderr
    assert next(line for line in result.stderr.splitlines() if "trust me" in line).startswith(
        "error: "
    )
    audit = json.loads(cli("ca", "audit", "--json", "--limit", "1", "--home", home).stdout)
    assert "\n" not in audit[0]["target"] and "\\x0a" in audit[0]["target"], audit


def test_a_domain_both_added_and_removed_is_refused(home: Path) -> None:
    """`ca domains --add X --remove X` quietly removed X; which was meant is asked now."""
    before = json.loads(cli("ca", "domains", "--json", "--home", home).stdout)
    result = cli(
        "ca", "domains", "--add", "Corp-Test.se", "--remove", "corp-test.se", "--home", home
    )
    assert result.exit_code == 2 and "both added and removed" in result.stderr, result.stderr
    assert json.loads(cli("ca", "domains", "--json", "--home", home).stdout) == before


@pytest.mark.external
def test_the_issuing_ca_held_from_the_cli_is_told_it_can_be_released(tmp_path: Path) -> None:
    """A hold on the issuing CA's own certificate was told to make a new CA."""
    home = tmp_path / "home"
    made = cli("ca", "init", "--home", home, "--domain", "corp-test.se", "--root-key", "rsa2048")
    assert made.exit_code == 0, made.stderr
    issuing = serial_of(ca_cert(home, "issuing"))
    held = cli("ca", "revoke", issuing, "--reason", "certificateHold", "--home", home, "--json")
    assert held.exit_code == 0, held.stderr
    note = json.loads(held.stdout)["note"]
    assert f"lyncpki ca unrevoke {issuing.lower()}" in note and "ca init" not in note, note
