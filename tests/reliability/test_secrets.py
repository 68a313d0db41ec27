"""No private key and no passphrase in anything lyncpki prints or writes for people: logs,
errors, JSON outputs, reports. Key files are 0600 and open only with the passphrase (openssl
judges)."""

from __future__ import annotations

import json
import re
import stat
import subprocess
from pathlib import Path

import pytest
from scoreboard import Scoreboard

from lab import CONTOSO, lab_env, openssl, run_lyncpki

pytestmark = pytest.mark.reliability
PASSPHRASE = "secret-passphrase-Zq81-never-printed"
PFX_PASSWORD = "pfx-password-Wk27-never-printed"
CLEAR_KEY = re.compile(rb"-----BEGIN (RSA |EC )?PRIVATE KEY-----")


def test_nothing_people_read_holds_a_secret(tmp_path: Path, scoreboard: Scoreboard) -> None:
    home = tmp_path / "home"
    env = lab_env(LYNCPKI_CA_PASSPHRASE=PASSPHRASE, LYNCPKI_PFX_PASSWORD=PFX_PASSWORD)
    outputs: list[subprocess.CompletedProcess[str]] = []

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        process = run_lyncpki(*args, env=env, timeout=300)
        outputs.append(process)
        return process

    assert run("deploy", CONTOSO, "--home", home).returncode == 0
    run("deploy", CONTOSO, "--home", home, "--json")
    run("certs", "--home", home, "--json")
    run("check", "--home", home, "--format", "json", "--offline", "--verify-keys")
    run("ca", "list", "--home", home, "--json")
    run("ca", "audit", "--home", home, "--json", "--limit", "1000")
    run(
        "export",
        "--home",
        home,
        "--server",
        "edge01.contoso.net",
        "--type",
        "Internal",
        "--pfx",
        tmp_path / "edge.pfx",
    )
    # mistakes, so that error messages are scanned too
    run(
        "export",
        "--home",
        home,
        "--server",
        "fe01.contoso.net",
        "--type",
        "Default",
        "--pfx",
        tmp_path / "no.pfx",
    )
    run(
        "import",
        "--home",
        home,
        "--server",
        "x.contoso.net",
        tmp_path / "edge.pfx",
        "--password",
        "wrong-password",
    )
    run_lyncpki("ca", "list", "--home", home, env=lab_env(LYNCPKI_CA_PASSPHRASE="wrong"))

    secrets = [PASSPHRASE.encode(), PFX_PASSWORD.encode()]
    deploy_account = json.loads((home / "secrets" / "deploy-account").read_text())
    secrets.append(deploy_account["password"].encode())
    scanned = 0
    for process in outputs:
        for text in (process.stdout, process.stderr):
            data = text.encode()
            assert not any(s in data for s in secrets), process.args
            assert not CLEAR_KEY.search(data), process.args
            scanned += 1
    for path in home.rglob("*"):
        if not path.is_file() or path.parent.name == "secrets":
            continue
        data = path.read_bytes()
        assert not any(s in data for s in secrets), path
        assert not CLEAR_KEY.search(data), path
        scanned += 1
        if path.suffix == ".key":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"), path
    for key in [*list(home.glob("servers/*/keys/*.key"))[:3], home / "ca" / "issuing.key"]:
        assert (
            "PRIVATE KEY"
            not in openssl("pkey", "-in", key, "-passin", "pass:not-it", check=False).split("\n")[0]
        )
        assert "BEGIN PRIVATE KEY" in openssl("pkey", "-in", key, "-passin", f"pass:{PASSPHRASE}")
    assert stat.S_IMODE((tmp_path / "edge.pfx").stat().st_mode) == 0o600
    scoreboard.record(
        "secrets: outputs, files, reports scanned",
        f"{scanned} outputs and files",
        0,
        0,
        "no passphrase, password or clear key",
    )
