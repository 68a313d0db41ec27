"""Homes made before b2d154a keep `approval: false` for OCSPResponseSigning in their
ca/templates.yaml: any requester got a delegated OCSP responder's certificate at once, whose
answers ("good" for a certificate the CA revoked) are taken for the CA's. A template that
grants authority (OCSP signing, a CA certificate) now waits for a CA manager's approval unless
its template says allow_authority_without_approval: true; the file is never rewritten, and
`ca templates` says how to correct it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ca_tools import PASSPHRASE, make_ca, openssl_req
from typer.testing import CliRunner, Result

from lab import OLD_TEMPLATES, use_old_templates
from lyncpki.ca.authority import load_templates
from lyncpki.ca.home import CaHome
from lyncpki.ca.templates import BUILTIN, DEFAULT_TEMPLATES, TemplateSet
from lyncpki.cli.main import app

ENV = {"LYNCPKI_CA_PASSPHRASE": PASSPHRASE.decode(), "COLUMNS": "200"}
runner = CliRunner()


def cli(*args: str | Path) -> Result:
    result = runner.invoke(app, [str(a) for a in args], env=ENV)
    assert "Traceback" not in result.stdout + result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture
def old_home(tmp_path: Path) -> Path:
    """A CA whose templates.yaml is the one lyncpki d43e046 wrote."""
    ca = make_ca(tmp_path / "home")
    ca.engine.dispose()
    use_old_templates(ca.home.root)
    return ca.home.root


def _edit(home: Path, name: str, **fields: object) -> None:
    path = home / "ca" / "templates.yaml"
    data = yaml.safe_load(path.read_text())
    for template in data["templates"]:
        if template["name"] == name:
            template.update(fields)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_an_old_ocsp_template_without_approval_is_held(old_home: Path, work: Path) -> None:
    (work / "rogue.csr").write_bytes(openssl_req(work, subject="/CN=rogue.corp-test.se", sans=None))
    out = work / "rogue.pem"
    result = cli(
        "ca", "issue", work / "rogue.csr", "--template", "OCSPResponseSigning",
        "-o", out, "--home", old_home,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "is pending" in result.stdout and "approval" in result.stdout
    assert not out.exists()
    assert (old_home / "ca" / "templates.yaml").read_bytes() == OLD_TEMPLATES.read_bytes()


def test_ca_templates_tells_how_to_correct_the_file(old_home: Path) -> None:
    result = cli("ca", "templates", "--home", old_home)
    assert result.exit_code == 0, result.stderr
    file = old_home / "ca" / "templates.yaml"
    assert f"warning: {file}: template OCSPResponseSigning says approval: false" in result.stderr
    assert "waits for a CA manager's approval" in result.stderr
    assert "fix: set approval: true for OCSPResponseSigning" in result.stderr
    assert "allow_authority_without_approval: true" in result.stderr
    (row,) = [line for line in result.stdout.splitlines() if "OCSPResponseSigning" in line]
    assert [cell.strip() for cell in row.split("│") if cell.strip()][-1] == "yes"  # as it does
    assert file.read_bytes() == OLD_TEMPLATES.read_bytes()  # never rewritten

    _edit(old_home, "OCSPResponseSigning", approval=True)  # the fix given
    corrected = cli("ca", "templates", "--home", old_home)
    assert corrected.exit_code == 0 and "warning" not in corrected.stderr


def test_the_opt_in_issues_at_once_without_a_warning(old_home: Path, work: Path) -> None:
    _edit(old_home, "OCSPResponseSigning", allow_authority_without_approval=True)
    assert "warning" not in cli("ca", "templates", "--home", old_home).stderr
    (work / "r.csr").write_bytes(openssl_req(work, subject="/CN=ocsp.corp-test.se", sans=None))
    result = cli(
        "ca", "issue", work / "r.csr", "--template", "OCSPResponseSigning",
        "-o", work / "r.pem", "--home", old_home,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "issued serial" in result.stdout and (work / "r.pem").exists()


def test_a_subca_template_without_approval_is_held(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "home")
    ca.engine.dispose()
    _edit(ca.home.root, "SubCA", approval=False)
    offered = load_templates(CaHome(ca.home.root))
    assert offered.held == ("SubCA",) and offered.get("SubCA").approval


def test_the_built_in_templates_hold_nothing_and_name_the_opt_in_where_it_matters() -> None:
    assert DEFAULT_TEMPLATES.held == ()
    written = {t.name: t.as_dict() for t in BUILTIN}
    assert written["OCSPResponseSigning"]["allow_authority_without_approval"] is False
    assert "allow_authority_without_approval" not in written["WebServer"]
    assert TemplateSet(BUILTIN).get("WebServer").approval is False
