"""Helpers of the service tests: a real `lyncpki ca serve` in a child process, on a free loopback
port, and the tools that judge it (curl, openssl), none of them ours.

Every CA here is made by the command line (`lyncpki ca init`, `lyncpki ca account add`), the
way an administrator makes one, and its CRL/AIA/OCSP URLs point at the server the test started.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

import forked_cli
from openssl_keys import key_args

PASSPHRASE = "service-test-passphrase"
DOMAIN = "corp-test.se"
PASSWORDS = {
    "fe01": "fe01-password-0001",  # requester
    "boss": "boss-password-0001",  # manager
    "boss2": "boss2-password-0001",  # manager
    "fe-locked": "fe-locked-password-0001",  # requester: the throttling test's only
}
ROLES = {"fe01": "requester", "boss": "manager", "boss2": "manager", "fe-locked": "requester"}
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----\n?", re.DOTALL)
_counter = iter(range(1, 1_000_000))
SERVE = (sys.executable, "-m", "lyncpki", "ca", "serve")


# ------------------------------------------------------------------------------- processes
def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def service_env(**more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNCPKI_")}
    env["LYNCPKI_CA_PASSPHRASE"] = PASSPHRASE
    env.update(more)
    return env


def lyncpki(
    *args: str | Path, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`python -m lyncpki ARGS` in a child process, as an administrator types it (forked from
    one that imported lyncpki's libraries: forked_cli)."""
    process = forked_cli.run(args, env=env or service_env(), timeout=120)
    if check:
        assert process.returncode == 0, (
            f"lyncpki {' '.join(map(str, args))} failed ({process.returncode}):\n"
            f"{process.stdout}\n{process.stderr}"
        )
    return process


def init_ca(
    home: Path,
    port: int,
    *,
    db: str | None = None,
    key: str = "rsa2048",
    root_key: str = "rsa2048",
    accounts: Sequence[str] = ("fe01", "boss", "boss2", "fe-locked"),
) -> None:
    args: list[str | Path] = ["ca", "init", "--home", home, "--domain", DOMAIN]
    args += ["--root-key", root_key, "--key", key, "--base-url", f"http://127.0.0.1:{port}"]
    if db:
        args += ["--db", db]
    lyncpki(*args)
    for name in accounts:
        env = service_env(LYNCPKI_ACCOUNT_PASSWORD=PASSWORDS[name])
        lyncpki("ca", "account", "add", name, "--role", ROLES[name], "--home", home, env=env)


def start_server(
    home: Path,
    port: int,
    log: Path,
    *,
    workers: int = 1,
    root_key: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`lyncpki ca serve` on 127.0.0.1:port, answering /health when this returns; with the root
    key online (--root-key: these tests approve subordinate CAs through the API) unless
    `root_key` is False."""
    args = ["--home", str(home), "--port", str(port), "--workers", str(workers)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*SERVE, *args, *(["--root-key"] if root_key else [])],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=service_env(**(env or {})),
        )
    url = f"http://127.0.0.1:{port}/health"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"lyncpki ca serve exited with {process.returncode}:\n{log.read_text()}"
            )
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop_server(process)
    raise AssertionError(f"lyncpki ca serve did not answer {url} in 60 s:\n{log.read_text()}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@dataclass
class Service:
    """A CA home and the `lyncpki ca serve` answering for it."""

    home: Path
    port: int
    work: Path  # root.crt and issuing.crt (PEM) as a relying party keeps them
    log: Path
    process: subprocess.Popen[bytes] | None = None
    config: dict[str, Any] = field(default_factory=dict)
    root_key: bool = True  # ca serve --root-key

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def root_crt(self) -> Path:
        return self.work / "root.crt"

    @property
    def issuing_crt(self) -> Path:
        return self.work / "issuing.crt"

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", str(self.config["name"]).lower()).strip("-")

    def client(self, account: str | None = None, **kwargs: Any) -> httpx.Client:
        auth = (account, PASSWORDS[account]) if account else None
        return httpx.Client(base_url=self.url, auth=auth, timeout=60, **kwargs)

    def cli(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        return lyncpki(*args, "--home", self.home, check=check)

    def audit(self, limit: int = 500) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = json.loads(
            self.cli("ca", "audit", "--json", "--limit", str(limit)).stdout
        )
        return rows

    def start(self) -> None:
        self.process = start_server(self.home, self.port, self.log, root_key=self.root_key)

    def stop(self) -> None:
        if self.process is not None:
            stop_server(self.process)


def make_service(folder: Path, *, root_key: bool = True, **init: Any) -> Service:
    """A new CA in `folder`/home (by `lyncpki ca init`), its accounts, and its server."""
    port = free_port()
    home, work = folder / "home", folder / "relying-party"
    work.mkdir(parents=True)
    init_ca(home, port, **init)
    shutil.copyfile(home / "ca" / "root.crt", work / "root.crt")
    shutil.copyfile(home / "ca" / "issuing.crt", work / "issuing.crt")
    service = Service(home, port, work, folder / "serve.log", root_key=root_key)
    service.config = json.loads((home / "ca" / "config.json").read_text())
    service.start()
    return service


# ------------------------------------------------------------------------------- tools
def tool(name: str) -> str:
    binary = shutil.which(name)
    if binary is None:
        pytest.skip(f"{name} is not installed")
    return binary


def run_tool(name: str, *args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run curl or openssl; the result whatever the exit code."""
    return subprocess.run(
        [tool(name), *map(str, args)], capture_output=True, text=True, timeout=timeout, check=False
    )


def openssl(*args: str | Path) -> str:
    """Run openssl, which must succeed; its stdout."""
    process = run_tool("openssl", *args)
    assert process.returncode == 0, (
        f"openssl {' '.join(map(str, args))} failed ({process.returncode}):\n"
        f"{process.stdout}\n{process.stderr}"
    )
    return process.stdout


@dataclass(frozen=True)
class CurlAnswer:
    status: int
    headers: dict[str, str]  # lowercase names, the last of each
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def curl(work: Path, url: str, *args: str | Path) -> CurlAnswer:
    """curl URL ARGS: its HTTP status, headers and body (curl itself must succeed)."""
    n = next(_counter)
    body, head = work / f"curl{n}.body", work / f"curl{n}.head"
    process = run_tool(
        "curl", "-sS", "-o", body, "-D", head, "-w", "%{http_code}", *args, url, timeout=120
    )
    assert process.returncode == 0, f"curl {url} failed: {process.stderr}"
    headers = {}
    for line in head.read_text("latin-1").splitlines()[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return CurlAnswer(int(process.stdout.strip()), headers, body.read_bytes())


def in_process_ca(home: Path, passphrase: bytes, name: str) -> Any:
    """A CA made in this process (EC P-256 under an EC P-256 root: quick to make), for the tests
    that run parts of the service here rather than behind `ca serve`."""
    from lyncpki.ca.authority import CertificateAuthority
    from lyncpki.ca.home import CaHome
    from lyncpki.keyspec import KeySpec

    return CertificateAuthority.create(
        CaHome(home),
        passphrase=passphrase,
        name=name,
        namespaces=(DOMAIN,),
        root_key=KeySpec("ec", 256),
        key=KeySpec("ec", 256),
    )


def openssl_req(
    directory: Path,
    subject: str = f"/CN=fe01.{DOMAIN}",
    sans: Sequence[str] | None = (f"fe01.{DOMAIN}",),
    *,
    key: str = "rsa:2048",
    der: bool = False,
) -> Path:
    """A new key and a PKCS#10 request made by `openssl req`: the request file (PEM or DER)."""
    n = next(_counter)
    out = directory / f"req{n}.{'der' if der else 'csr'}"
    args: list[str | Path] = ["req", "-new", "-nodes", *key_args(key, directory / f"req{n}.key")]
    args += ["-subj", subject]
    if sans:
        args += ["-addext", "subjectAltName=" + ",".join(f"DNS:{s}" for s in sans)]
    if der:
        args += ["-outform", "DER"]
    openssl(*args, "-out", out)
    return out


def pem_blocks(text: str) -> list[str]:
    return [m.group(0) for m in _PEM_BLOCK.finditer(text)]


def write_leaf(directory: Path, pem: str, name: str | None = None) -> Path:
    path = directory / (name or f"leaf{next(_counter)}.pem")
    path.write_text(pem)
    return path


def serial_of(path: Path) -> str:
    """The serial as `openssl x509 -serial` prints it, in lowercase."""
    line = openssl("x509", "-in", path, "-noout", "-serial").strip()
    assert line.startswith("serial="), line
    return line.removeprefix("serial=").lower()


def same_serial(a: str, b: str) -> bool:
    return int(a, 16) == int(b, 16)


def verify(service: Service, leaf: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """`openssl verify [flags] -CAfile root.crt -untrusted issuing.crt leaf`."""
    return run_tool(
        "openssl",
        "verify",
        *flags,
        "-CAfile",
        service.root_crt,
        "-untrusted",
        service.issuing_crt,
        leaf,
    )


def enroll_pem(service: Service, csr: Path, account: str = "fe01") -> Path:
    """Enroll through curl; the leaf certificate's file (PEM)."""
    answer = curl(
        service.work,
        f"{service.url}/api/v1/enroll",
        "-u",
        f"{account}:{PASSWORDS[account]}",
        "--data-binary",
        f"@{csr}",
        "-H",
        "Content-Type: application/pkcs10",
    )
    assert answer.status == 200, answer
    blocks = pem_blocks(answer.body.decode())
    assert len(blocks) == 3, answer.body
    return write_leaf(csr.parent, blocks[0])


def revoke(service: Service, leaf: Path, reason: str = "keyCompromise") -> dict[str, Any]:
    """Revoke the leaf as the manager boss (POST /api/v1/certificates/{serial}/revoke); the
    JSON answer."""
    with service.client("boss") as http:
        answer = http.post(
            f"/api/v1/certificates/{serial_of(leaf)}/revoke", json={"reason": reason}
        )
    assert answer.status_code == 200, answer.text
    said: dict[str, Any] = answer.json()
    return said
