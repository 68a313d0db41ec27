"""Text that others wrote, printed as it is written and never obeyed. Brackets — a subject's
organisation "[/x] Lab [bold]", a file named "[/x].csr" — must not be read as rich markup (a
closing tag that matches nothing made `ca list` crash, and then the crash report itself);
control characters — an ESC sequence in a topology's site name or in a file name — are shown
as escapes, never sent to the terminal. Requests are made by `openssl req`, every command runs
as a process, as an administrator types it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lab import APPROVAL_TEMPLATE, Lab, make_lab, ok, openssl, run_lyncpki

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


def test_escape_sequences_from_a_topology_are_shown_not_obeyed(
    tmp_path: Path, contoso_yaml: Path
) -> None:
    data = yaml.safe_load(contoso_yaml.read_text())
    data["sites"][0]["name"] = "Red\x1b[2J\x1b[31mmond"
    topology = tmp_path / "escapes.yaml"
    topology.write_text(yaml.safe_dump(data, sort_keys=False))
    for args in ((), ("--format", "table")):
        process = run_lyncpki("plan", topology, *args)
        # a site name with control characters is refused (each report format showed them its
        # own way); the refusal shows them escaped, never obeyed
        assert process.returncode == 2, process.stderr
        said = process.stdout + process.stderr
        assert "\x1b" not in said  # no colour is asked for: any ESC came from data
        assert "Red\\x1b[2J\\x1b[31mmond" in said


def test_escape_sequences_in_a_file_name_are_shown_not_obeyed(lab: Lab) -> None:
    cert = lab.work / "evil\x1b[2J.crt"
    ok(lab.cli("ca", "issue", _request(lab.work, "evil"), "--out", cert))
    process = lab.cli("check", "--cert", cert, "--offline")
    assert process.returncode in (0, 1)
    assert "\x1b" not in process.stdout + process.stderr
    assert "evil\\x1b[2J.crt" in _clean(process).replace("\n", "")
    missing = lab.cli("ca", "issue", lab.work / "no\x07such.csr")  # named in the error
    assert missing.returncode == 2
    assert "\x07" not in missing.stdout + missing.stderr
    assert "no\\x07such.csr" in _clean(missing).replace("\n", "")


def test_a_device_or_a_huge_file_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    """`check --cert /dev/zero` ran out of memory (internal error), `plan /dev/zero` too."""
    checked = run_lyncpki("check", "--cert", "/dev/zero", "--offline", "--home", tmp_path, "--json")
    assert checked.returncode == 1, checked.stderr
    (finding,) = json.loads(checked.stdout)["findings"]
    assert finding["id"] == "input.unreadable" and "larger than 64 MiB" in finding["message"]
    planned = run_lyncpki("plan", "/dev/zero")
    assert planned.returncode == 2 and "larger than 64 MiB" in planned.stderr
    assert "Traceback" not in planned.stderr + checked.stderr
