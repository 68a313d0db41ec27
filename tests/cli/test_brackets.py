"""Brackets in an administrator's data — a subject's organisation "[/x] Lab [bold]", a file
named "[/x].csr" — print as they are: rich must not read them as markup (a closing tag that
matches nothing made `ca list` crash, and then the crash report itself). Requests are made by
`openssl req`, every command runs as a process, as an administrator types it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab import APPROVAL_TEMPLATE, Lab, make_lab, ok, openssl

ORGANISATION = "[/x] Lab [bold]"
NAME = "fe01.contoso.net"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return make_lab(tmp_path_factory.mktemp("brackets"), serve=False)


def _request(folder: Path, stem: str) -> Path:
    request = folder / f"{stem}.csr"
    openssl(
        "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", folder / f"{stem}.key",
        "-out", request, "-subj", "/O=" + ORGANISATION.replace("/", "\\/") + f"/CN={NAME}",
        "-addext", f"subjectAltName=DNS:{NAME}",
    )  # fmt: skip
    return request


def _clean(process: object) -> str:
    stdout, stderr = process.stdout, process.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    return str(stdout) + str(stderr)


def test_a_subject_with_brackets_lists_shows_and_waits_as_written(lab: Lab) -> None:
    cert = lab.work / "brackets.crt"
    issued = lab.cli("ca", "issue", _request(lab.work, "brackets"), "--out", cert)
    ok(issued)
    serial = json.loads(ok(lab.cli("ca", "list", "--json")).stdout)[-1]["serial"]
    for args in (("ca", "list"), ("ca", "show", serial)):
        process = lab.cli(*args)
        assert process.returncode == 0, _clean(process)
        assert "[/x]" in process.stdout and "[bold]" in process.stdout, process.stdout
    held = lab.cli(
        "ca", "issue", _request(lab.work, "held"), "--template", APPROVAL_TEMPLATE
    )  # a manager must approve it: it waits in `ca pending`
    assert held.returncode == 0, _clean(held)
    pending = lab.cli("ca", "pending")
    assert pending.returncode == 0, _clean(pending)
    assert "[/x]" in pending.stdout and "[bold]" in pending.stdout, pending.stdout


def test_a_file_name_with_brackets_is_named_in_the_error(lab: Lab) -> None:
    missing = lab.work / "[/x] request [bold].csr"
    process = lab.cli("ca", "issue", missing)
    assert process.returncode == 2
    assert "[/x] request [bold].csr" in _clean(process).replace("\n", "")


def test_a_certificate_file_with_brackets_is_checked_and_tabled(lab: Lab) -> None:
    (lab.work / "[").mkdir(exist_ok=True)
    cert = lab.work / "[" / "x] checked.crt"  # the path reads ".../[/x] checked.crt"
    ok(lab.cli("ca", "issue", _request(lab.work, "checked"), "--out", cert))
    process = lab.cli("check", "--cert", cert, "--offline")
    assert process.returncode in (0, 1)
    assert "[/x] checked.crt" in _clean(process).replace("\n", "")
