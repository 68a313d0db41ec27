"""The lab of the store and enrollment tests (trustme's idea, with real processes): a lyncpki
home whose CA was made by `lyncpki ca init --topology examples/contoso.yaml`, served by a real
`lyncpki ca serve` on a free loopback port, with a requester and a manager account; plus the
tools that judge what lyncpki wrote (openssl), none of them ours.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

import forked_cli

ROOT = Path(__file__).resolve().parent.parent
CONTOSO = ROOT / "examples" / "contoso.yaml"
PASSPHRASE = "lab-passphrase-Qx7"
ACCOUNTS = {
    "fe-requester": ("requester", "fe-requester-pass-01"),
    "ca-boss": ("manager", "ca-boss-password-01"),
}


def lab_env(**more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNCPKI_")}
    env["LYNCPKI_CA_PASSPHRASE"] = PASSPHRASE
    env["COLUMNS"] = "200"
    env.update(more)
    return env


def run_lyncpki(
    *args: str | Path, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """`python -m lyncpki ARGS` as an administrator types it; the result, whatever the code
    (in a process forked from one that imported lyncpki's libraries: forked_cli)."""
    return forked_cli.run(args, env=env or lab_env(), timeout=timeout)


def ok(process: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert process.returncode == 0, (
        f"{' '.join(map(str, process.args[3:]))} failed ({process.returncode}):\n"
        f"{process.stdout}\n{process.stderr}"
    )
    return process


# Ports the tests choose for their services come from a block of their own below the kernel's
# ephemeral range (32768-60999 on Linux): a port the kernel hands out (deploy's own service, a
# client's socket) or one another xdist worker chose can then never be taken meanwhile. A port
# bound to 0 and closed could be handed out again to a test running beside (a deploy's CA
# service took a port another test had chosen for its own: its clients' failed logins then
# throttled the deploy).
_PORT_BLOCKS = {"": 14000, "gw0": 20000, "gw1": 26000}  # 6,000 ports each; others: by number
_next_port: list[int] = []


def free_port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not _next_port:
        start = _PORT_BLOCKS.get(worker)
        if start is None:  # more workers than blocks: a block of 1,000 each, from 2,000 up
            start = 2000 + 1000 * int(worker.removeprefix("gw") or 0)
        _next_port.append(start)
    while True:
        port = _next_port[0]
        _next_port[0] += 1
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use (another run of the suite?): the next one
            return port


def openssl(*args: str | Path, check: bool = True, stdin: str | None = None) -> str:
    binary = shutil.which("openssl")
    if binary is None:
        pytest.fail("openssl is needed by these tests (Debian package openssl)")
    process = subprocess.run(
        [binary, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
        check=False,
    )
    if check:
        assert process.returncode == 0, (
            f"openssl {' '.join(map(str, args))} failed:\n{process.stdout}\n{process.stderr}"
        )
    return process.stdout + process.stderr


def openssl_request(
    folder: Path, name: str, common_name: str, sans: Sequence[str] = ()
) -> tuple[Path, Path]:
    """A new RSA 2048 key and its PKCS#10 request made by `openssl req`: (key, request)."""
    key, request = folder / f"{name}.key", folder / f"{name}.csr"
    args: list[str | Path] = [
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        request,
        "-subj",
        f"/CN={common_name}",
    ]
    if sans:
        args += ["-addext", "subjectAltName=" + ",".join(f"DNS:{n}" for n in sans)]
    openssl(*args)
    return key, request


def sans_of(cert: Path) -> set[str]:
    """The DNS SANs of a certificate as openssl reads them."""
    text = openssl("x509", "-in", cert, "-noout", "-ext", "subjectAltName")
    return {part.strip().removeprefix("DNS:") for part in text.splitlines()[-1].split(",")}


def thumbprint_of(cert: Path) -> str:
    line = openssl("x509", "-in", cert, "-noout", "-fingerprint", "-sha1").strip()
    return line.split("=", 1)[1].replace(":", "").upper()


APPROVAL_TEMPLATE = "WebServerApproval"
# templates.yaml of a home made before b2d154a (OCSPResponseSigning without approval)
OLD_TEMPLATES = ROOT / "tests" / "old_homes" / "templates.d43e046.yaml"


def use_old_templates(home: Path) -> None:
    """The home's templates.yaml as lyncpki d43e046 wrote it at `ca init`."""
    shutil.copyfile(OLD_TEMPLATES, home / "ca" / "templates.yaml")


def add_approval_template(home: Path) -> None:
    """The CA offers WebServer also as a template a CA manager must approve (edited into
    templates.yaml as an administrator would)."""
    path = home / "ca" / "templates.yaml"
    data = yaml.safe_load(path.read_text())
    web = next(t for t in data["templates"] if t["name"] == "WebServer")
    data["templates"].append(web | {"name": APPROVAL_TEMPLATE, "approval": True})
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@dataclass
class Lab:
    home: Path
    port: int
    work: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
        return run_lyncpki(*args, "--home", self.home, env=lab_env(**env))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def start_serve(home: Path, port: int, log: Path, *, workers: int = 1) -> subprocess.Popen[bytes]:
    """`lyncpki ca serve` for `home` on 127.0.0.1:port, answering /health when this returns."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lyncpki",
                "ca",
                "serve",
                "--home",
                str(home),
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=lab_env(),
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"lyncpki ca serve did not start:\n{log.read_text()}")
        time.sleep(0.1)


def make_lab(folder: Path, *, serve: bool = True) -> Lab:
    """A CA for the Contoso topology (RSA 2048 root, to be quick), its accounts, its server."""
    port = free_port()
    lab = Lab(folder / "home", port, folder / "work")
    lab.work.mkdir(parents=True)
    ok(lab.cli("ca", "init", "--topology", CONTOSO, "--root-key", "rsa2048", "--base-url", lab.url))
    add_approval_template(lab.home)
    for name, (role, password) in ACCOUNTS.items():
        ok(lab.cli("ca", "account", "add", name, "--role", role, LYNCPKI_ACCOUNT_PASSWORD=password))
    if serve:
        lab.process = start_serve(lab.home, port, folder / "serve.log")
    return lab
