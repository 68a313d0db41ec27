"""Benchmark: the CA service over HTTP — enrollment requests/s and OCSP responses/s.

Targets: enrollment at least 1.0x `cfssl serve` signing the same requests with the same CA key;
OCSP at least 2.0x `openssl ocsp` answering for the same CA with the same responder key. Each
figure is printed with a ratio against a baseline measured in the same run, on the same
machine, with the same load (so the numbers travel between machines):

- enrollment: `lyncpki ca serve` (POST /api/v1/enroll, a CA account, PEM answer; every
              certificate stored in the CA's SQLite database) against `cfssl serve`
              (POST /api/v1/cfssl/sign) holding the *same* issuing CA certificate and key, once
              without a database (it signs and forgets) and once with its SQLite certdb (it
              stores every certificate, as lyncpki does). Two CAs: an RSA-2048 issuing key
              (RSA-2048 requests) and an EC P-256 issuing key under an EC P-384 root (EC P-256
              requests). The requests are made by `openssl req` before the clock starts, and
              the same ones are sent to both;
- OCSP:       `lyncpki ca serve` (POST /ocsp) against `openssl ocsp -port` with an index.txt
              of the same CA's certificates, the same issuing CA and the same delegated responder
              certificate and key, so that both sign with the same key. The same request bytes
              to both: a fixed request without a nonce (the usual relying party's; lyncpki may
              answer it from its cache, openssl signs each), the same by GET with the request
              in the URL (how Windows asks; no target), then requests with nonces (each
              answer signed by both, shown without a target). openssl's responder is one
              single-threaded process and closes the connection after each answer.

The load is a fixed number of concurrent connections (8) sending requests back to back for a
fixed time, after a warm-up; a lean asyncio HTTP/1.1 client (uvloop when installed) in this
process. Not wrk: its first connection is a probe it closes without sending anything, and
`openssl ocsp -port` (3.0) then spins on that connection forever. The client's own CPU time
is printed so that it can be checked not to be the bottleneck, and so is the CPU each server's
processes used per answer (from /proc): on a small machine shared with the client, requests/s
swing with how the connections fall between the workers; the cost of an answer moves less.
Every server's answer is checked before it is measured (a certificate issued by the CA; an
OCSP answer `openssl ocsp` verifies up to the root and reads as good), and every measured
answer must be a 200.

lyncpki runs with --workers twice the CPU count (cfssl is a Go server and uses every CPU), as
the README advises: a keep-alive connection stays with the worker that accepted it, and a burst
of new connections is mostly accepted by whichever worker wakes first (with 2 workers, 6 of
the 8 connections or all 8 went to one of them, which then had one CPU for most of the load, and
the CPU-bound rows fell to about half in those runs). With more workers than CPUs the kernel's
scheduler spreads the work instead. --workers changes it.

Setup: cfssl is the Debian package golang-cfssl; when `cfssl` is missing this script installs
it (apt-get install -y golang-cfssl, after apt-get update when needed). Everything runs in a
temporary folder, removed at the end with every server it started.

Run: .venv/bin/python bench/service.py [--seconds 10] [--warmup 2] [--repeat 1]
     [--concurrency 8] [--workers N] [--quick] [--skip-ocsp] [--skip-enroll]
     [--keys rsa2048,ec-p256]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtensionOID

from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.x509.keys import decrypt_key

PASSPHRASE = "bench-service-passphrase"
DOMAIN = "bench.corp-test.se"
ACCOUNT, PASSWORD = "bench-fe01", "bench-fe01-password"
REQUESTS = 16  # distinct requests sent round-robin
NONCE_REQUESTS = 64
CA_KEYS = {  # --key, --root-key of `lyncpki ca init`, the requests' key (openssl req -newkey)
    "rsa2048": ("rsa2048", "rsa2048", ["-newkey", "rsa:2048"]),
    "ec-p256": ("ec-p256", "ec-p384", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
}
LABELS = {"rsa2048": "RSA-2048", "ec-p256": "EC P-256"}


# ---------------------------------------------------------------------------- processes
class Processes:
    """Every server this script starts; all stopped at the end, whatever happens."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(
        self, command: Sequence[str | Path], log: Path, **kwargs: Any
    ) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(c) for c in command], stdout=out, stderr=subprocess.STDOUT, **kwargs
            )
        self.started.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            self.stop(process)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(
    ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str, log: Path
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if ready():
                return
        except (httpx.TransportError, OSError):
            pass
        time.sleep(0.1)
    raise SystemExit(f"{what} did not start in 60 s:\n{log.read_text()[-2000:]}")


def run(command: Sequence[str | Path], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    process = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, check=False, **kwargs
    )
    if process.returncode != 0:
        raise SystemExit(
            f"{' '.join(map(str, command))} failed ({process.returncode}):\n"
            f"{process.stdout}\n{process.stderr}"
        )
    return process


def lyncpki_env(**more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNCPKI_")}
    env["LYNCPKI_CA_PASSPHRASE"] = PASSPHRASE
    env.update(more)
    return env


def ensure_cfssl() -> str | None:
    """`cfssl`, installed from the Debian package golang-cfssl when missing; None when that is
    not possible here (the cfssl rows are then skipped)."""
    if found := shutil.which("cfssl"):
        return found
    if not shutil.which("apt-get") or os.geteuid() != 0:
        print("cfssl is missing and cannot be installed here (apt-get as root): no cfssl rows")
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "golang-cfssl"]
    print("installing cfssl: apt-get install -y golang-cfssl", flush=True)
    if subprocess.run(install, capture_output=True, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, check=False)
        subprocess.run(install, capture_output=True, env=env, check=False)
    found = shutil.which("cfssl")
    if not found:
        print("apt-get could not install golang-cfssl: no cfssl rows")
    return found


# ---------------------------------------------------------------------------- load
@dataclass
class Load:
    ok: int
    bad: int  # answers other than 200
    errors: int  # connections refused, reset or closed mid-answer
    connections: int
    seconds: float
    client_cpu: float
    server_cpu: float  # s of CPU the server's processes used while measured

    @property
    def cpu_per_answer(self) -> float:
        """Microseconds of the server's CPU per answer: what one answer costs, however the
        load fell between its processes and whatever else the machine did meanwhile."""
        return self.server_cpu / self.ok * 1e6

    @property
    def rate(self) -> float:
        return self.ok / self.seconds


_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) used so far by a process and its live descendants (the
    workers of `ca serve`), from /proc. A process that ends meanwhile is left out, so a figure
    is only taken across a window in which the server's processes all live."""
    children: dict[int, list[int]] = {}
    used: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        # the command name, in parentheses, may hold spaces: the fields follow its last ")"
        fields = stat[stat.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / _TICKS
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += used.get(current, 0.0)
        todo.extend(children.get(current, []))
    return total


def _request_bytes(
    port: int, path: str, body: bytes, headers: dict[str, str], method: str = "POST"
) -> bytes:
    """The raw HTTP/1.1 request: a POST of `body`, or a GET with `body` in the URL (base64,
    URL-encoded: an OCSP GET, RFC 6960 A.1)."""
    if method == "GET":
        encoded = urllib.parse.quote(base64.b64encode(body).decode(), safe="")
        return f"GET {path}{encoded} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _hammer(
    port: int,
    path: str,
    bodies: Sequence[bytes],
    headers: dict[str, str],
    concurrency: int,
    seconds: float,
    method: str,
) -> Load:
    requests = [_request_bytes(port, path, b, headers, method) for b in bodies]
    counts = {"ok": 0, "bad": 0, "errors": 0, "connections": 0}
    deadline = time.perf_counter() + seconds

    async def connection(n: int) -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        sent = n
        while time.perf_counter() < deadline:
            try:
                if writer is None or reader is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    counts["connections"] += 1
                writer.write(requests[sent % len(requests)])
                sent += 1
                status_line = await reader.readline()
                if not status_line:
                    raise ConnectionError("closed before answering")
                version, status = status_line.split()[:2]
                length, close = 0, version == b"HTTP/1.0"
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"connection":
                        close = value.strip().lower() == b"close"
                await reader.readexactly(length)
                counts["ok" if status == b"200" else "bad"] += 1
                if close:
                    writer.close()
                    reader = writer = None
            except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError):
                counts["errors"] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(connection(n) for n in range(concurrency)))
    elapsed = time.perf_counter() - start
    return Load(
        counts["ok"], counts["bad"], counts["errors"], counts["connections"], elapsed, 0.0, 0.0
    )


def hammer(
    port: int,
    path: str,
    bodies: Sequence[bytes],
    headers: dict[str, str],
    *,
    server: subprocess.Popen[bytes],
    concurrency: int,
    seconds: float,
    warmup: float,
    repeat: int,
    method: str = "POST",
) -> Load:
    """Warm up, then `concurrency` connections sending back to back for `seconds`; the best
    of `repeat` such runs (other work on the machine only ever slows a run down), with the CPU
    the `server` process and its children used during it."""
    try:
        import uvloop

        runner: Callable[[Any], Load] = uvloop.run
    except ImportError:
        runner = asyncio.run
    if warmup > 0:
        runner(_hammer(port, path, bodies, headers, concurrency, warmup, method))
    best: Load | None = None
    for _ in range(repeat):
        cpu = time.process_time()
        served = tree_cpu(server.pid)
        load = runner(_hammer(port, path, bodies, headers, concurrency, seconds, method))
        load.client_cpu = time.process_time() - cpu
        load.server_cpu = tree_cpu(server.pid) - served
        if load.bad or load.errors:
            raise SystemExit(
                f"port {port}{path}: {load.bad} answers other than 200 and {load.errors} "
                f"connection errors in {load.ok + load.bad} answers: the figures would not be "
                "comparable"
            )
        if best is None or load.rate > best.rate:
            best = load
    assert best is not None
    return best


# ---------------------------------------------------------------------------- the CAs
@dataclass
class LyncpkiCa:
    key: str
    folder: Path
    home: Path
    port: int
    requests: list[bytes]  # PEM, made by openssl req

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def open(self) -> CertificateAuthority:
        return CertificateAuthority.open(CaHome(self.home), PASSPHRASE.encode())


def make_ca(folder: Path, key: str) -> LyncpkiCa:
    issuing_key, root_key, newkey = CA_KEYS[key]
    folder.mkdir(parents=True)
    home, port = folder / "home", free_port()
    lyncpki = [sys.executable, "-m", "lyncpki"]
    run(
        [
            *lyncpki, "ca", "init", "--home", home, "--name", f"Bench {LABELS[key]} Issuing CA",
            "--domain", DOMAIN, "--key", issuing_key, "--root-key", root_key,
            "--base-url", f"http://127.0.0.1:{port}",
        ],
        env=lyncpki_env(),
    )  # fmt: skip
    run(
        [*lyncpki, "ca", "account", "add", ACCOUNT, "--role", "requester", "--home", home],
        env=lyncpki_env(LYNCPKI_ACCOUNT_PASSWORD=PASSWORD),
    )
    requests = []
    for n in range(REQUESTS):
        name = f"fe{n:02d}.{DOMAIN}"
        out = folder / f"request{n}.csr"
        run([
            "openssl", "req", "-new", *newkey, "-nodes", "-keyout", folder / f"request{n}.key",
            "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}", "-out", out,
        ])  # fmt: skip
        requests.append(out.read_bytes())
    return LyncpkiCa(key, folder, home, port, requests)


def start_lyncpki(ca: LyncpkiCa, processes: Processes, workers: int) -> subprocess.Popen[bytes]:
    log = ca.folder / "serve.log"
    process = processes.start(
        [
            sys.executable, "-m", "lyncpki", "ca", "serve", "--home", ca.home,
            "--port", str(ca.port), "--workers", str(workers),
        ],
        log,
        env=lyncpki_env(),
    )  # fmt: skip
    wait_until(
        lambda: httpx.get(f"{ca.url}/health", timeout=2).status_code == 200,
        process,
        "lyncpki ca serve",
        log,
    )
    return process


def _plain_key(encrypted: Path, out: Path) -> Path:
    """The CA home's encrypted key as an unencrypted PEM (PKCS#1 / SEC1: cfssl 1.2 reads those)."""
    key = decrypt_key(encrypted.read_bytes(), PASSPHRASE.encode(), what=encrypted.name)
    out.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    out.chmod(0o600)
    return out


def start_cfssl(
    ca: LyncpkiCa, cfssl: str, processes: Processes, *, database: bool
) -> tuple[subprocess.Popen[bytes], int]:
    """`cfssl serve` holding the lyncpki issuing CA's certificate and key."""
    folder = ca.folder / ("cfssl-db" if database else "cfssl")
    folder.mkdir()
    key = _plain_key(ca.home / "ca" / "issuing.key", folder / "ca-key.pem")
    config = folder / "config.json"
    config.write_text(
        json.dumps(
            {
                "signing": {
                    "default": {
                        "expiry": "17520h",
                        "usages": ["digital signature", "key encipherment", "server auth"],
                    }
                }
            }
        )
    )
    port = free_port()
    command: list[str | Path] = [cfssl, "serve", "-address", "127.0.0.1", "-port", str(port)]
    command += ["-ca", ca.home / "ca" / "issuing.crt", "-ca-key", key, "-config", config]
    command += ["-loglevel", "2"]  # warnings: lyncpki logs warnings only too
    if database:
        certdb = folder / "certdb.sqlite"
        with sqlite3.connect(certdb) as conn:  # cfssl's certdb/sqlite migration 001
            conn.executescript(
                """
                CREATE TABLE certificates (
                  serial_number blob NOT NULL, authority_key_identifier blob NOT NULL,
                  ca_label blob, status blob NOT NULL, reason int, expiry timestamp,
                  revoked_at timestamp, pem blob NOT NULL,
                  PRIMARY KEY(serial_number, authority_key_identifier));
                CREATE TABLE ocsp_responses (
                  serial_number blob NOT NULL, authority_key_identifier blob NOT NULL,
                  body blob NOT NULL, expiry timestamp,
                  PRIMARY KEY(serial_number, authority_key_identifier));
                """
            )
        db_config = folder / "db.json"
        db_config.write_text(json.dumps({"driver": "sqlite3", "data_source": str(certdb)}))
        command += ["-db-config", db_config]
    log = folder / "cfssl.log"
    process = processes.start(command, log)
    url = f"http://127.0.0.1:{port}/api/v1/cfssl/sign"
    wait_until(
        lambda: httpx.post(url, json={}, timeout=2).status_code in (200, 400),
        process,
        "cfssl serve",
        log,
    )
    return process, port


def check_certificate(pem: bytes, issuer: x509.Certificate, what: str) -> None:
    certificate = x509.load_pem_x509_certificates(pem)[0]
    certificate.verify_directly_issued_by(issuer)
    names = certificate.extensions.get_extension_for_oid(
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME
    ).value.get_values_for_type(x509.DNSName)
    if not names or not names[0].endswith(DOMAIN):
        raise SystemExit(f"{what}: unexpected names {names}")


# ---------------------------------------------------------------------------- enrollment
@dataclass
class Row:
    step: str
    ours: Load
    theirs: Load | None
    baseline: str
    target: float | None


def bench_enrollment(
    ca: LyncpkiCa, cfssl: str | None, processes: Processes, args: argparse.Namespace
) -> list[Row]:
    issuer = x509.load_pem_x509_certificate((ca.home / "ca" / "issuing.crt").read_bytes())
    auth = base64.b64encode(f"{ACCOUNT}:{PASSWORD}".encode()).decode()
    ours_headers = {"Content-Type": "application/pkcs10", "Authorization": f"Basic {auth}"}
    server = start_lyncpki(ca, processes, args.workers)
    answer = httpx.post(f"{ca.url}/api/v1/enroll", content=ca.requests[0], headers=ours_headers)
    answer.raise_for_status()
    check_certificate(answer.content, issuer, "lyncpki")
    load = {
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "repeat": args.repeat,
    }
    ours = hammer(ca.port, "/api/v1/enroll", ca.requests, ours_headers, server=server, **load)
    processes.stop(server)
    label = f"enroll {LABELS[ca.key]} CA (c={args.concurrency})"
    if cfssl is None:
        return [Row(label, ours, None, "cfssl missing", 1.0)]
    rows = []
    bodies = [json.dumps({"certificate_request": r.decode()}).encode() for r in ca.requests]
    for database in (False, True):
        process, port = start_cfssl(ca, cfssl, processes, database=database)
        answer = httpx.post(f"http://127.0.0.1:{port}/api/v1/cfssl/sign", content=bodies[0])
        answer.raise_for_status()
        check_certificate(answer.json()["result"]["certificate"].encode(), issuer, "cfssl")
        theirs = hammer(
            port,
            "/api/v1/cfssl/sign",
            bodies,
            {"Content-Type": "application/json"},
            server=process,
            **load,
        )
        processes.stop(process)
        what = "cfssl serve, SQLite certdb" if database else "cfssl serve, no database"
        rows.append(Row(label, ours, theirs, f"{what}, same CA key", 1.0))
    return rows


# ---------------------------------------------------------------------------- OCSP
def _openssl_index(ca: CertificateAuthority, out: Path) -> None:
    """index.txt (openssl ca's database) listing the CA's certificates, as lyncpki has them."""

    def stamp(moment: dt.datetime) -> str:
        return moment.astimezone(dt.UTC).strftime("%y%m%d%H%M%SZ")

    lines = []
    for row in ca.certificates():
        if row["ca"] != ca.config.slug:
            continue
        serial = f"{int(row['serial'], 16):X}"
        serial = "0" * (len(serial) % 2) + serial
        not_after = row["not_after"]
        if not_after.tzinfo is None:
            not_after = not_after.replace(tzinfo=dt.UTC)
        lines.append(f"V\t{stamp(not_after)}\t\t{serial}\tunknown\t/CN={row['serial']}\n")
    out.write_text("".join(lines))


def _ocsp_requests(
    leaves: list[x509.Certificate], issuer: x509.Certificate
) -> tuple[bytes, list[bytes]]:
    """A fixed request without a nonce, and requests with nonces (one certificate each)."""

    def request(leaf: x509.Certificate, nonce: bytes | None) -> bytes:
        builder = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1())
        if nonce is not None:
            builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
        return builder.build().public_bytes(serialization.Encoding.DER)

    fixed = request(leaves[0], None)
    nonced = [
        request(leaves[n % len(leaves)], secrets.token_bytes(16)) for n in range(NONCE_REQUESTS)
    ]
    return fixed, nonced


def _check_ocsp(answer: bytes, folder: Path, ca: LyncpkiCa, leaf: Path, what: str) -> None:
    response = folder / f"{what}.ocsp"
    response.write_bytes(answer)
    home = ca.home / "ca"
    process = subprocess.run(
        [
            "openssl", "ocsp", "-respin", str(response), "-issuer", str(home / "issuing.crt"),
            "-cert", str(leaf), "-CAfile", str(home / "root.crt"),
            "-verify_other", str(home / "issuing.crt"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    output = process.stdout + process.stderr
    if process.returncode != 0 or "Response verify OK" not in output or ": good" not in output:
        raise SystemExit(f"{what}'s OCSP answer does not verify as good:\n{output}")


def bench_ocsp(ca: LyncpkiCa, processes: Processes, args: argparse.Namespace) -> list[Row]:
    folder = ca.folder / "ocsp"
    folder.mkdir()
    server = start_lyncpki(ca, processes, args.workers)
    auth = (ACCOUNT, PASSWORD)
    leaves = []
    for n, request in enumerate(ca.requests[:8]):
        answer = httpx.post(
            f"{ca.url}/api/v1/enroll",
            content=request,
            auth=auth,
            headers={"Content-Type": "application/pkcs10"},
        )
        answer.raise_for_status()
        leaf_pem = x509.load_pem_x509_certificates(answer.content)[0]
        leaves.append(leaf_pem)
        (folder / f"leaf{n}.pem").write_bytes(leaf_pem.public_bytes(serialization.Encoding.PEM))
    authority = ca.open()
    if not ca.home.joinpath("ca", "ocsp.crt").exists():
        processes.stop(server)
        raise SystemExit("no OCSP responder in the CA home (lyncpki.ca.ocsp missing?)")
    fixed, nonced = _ocsp_requests(leaves, authority.issuer.certificate)
    headers = {"Content-Type": "application/ocsp-request"}
    _check_ocsp(
        httpx.post(f"{ca.url}/ocsp", content=fixed, headers=headers).content,
        folder,
        ca,
        folder / "leaf0.pem",
        "lyncpki",
    )
    load = {
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "repeat": args.repeat,
    }
    ours_fixed = hammer(ca.port, "/ocsp", [fixed], headers, server=server, **load)
    ours_get = hammer(ca.port, "/ocsp/", [fixed], {}, method="GET", server=server, **load)
    ours_nonced = hammer(ca.port, "/ocsp", nonced, headers, server=server, **load)
    processes.stop(server)

    index = folder / "index.txt"
    _openssl_index(authority, index)
    authority.engine.dispose()
    responder_key = _plain_key(ca.home / "ca" / "ocsp.key", folder / "ocsp-key.pem")
    port = free_port()
    log = folder / "openssl-ocsp.log"
    process = processes.start(
        [
            "openssl", "ocsp", "-port", str(port), "-index", index,
            "-CA", ca.home / "ca" / "issuing.crt", "-rsigner", ca.home / "ca" / "ocsp.crt",
            "-rkey", responder_key, "-rmd", "sha256", "-nmin", "60",
        ],
        log,
    )  # fmt: skip
    # ready when it answers a real request: a bare connect would wedge it (see the docstring)
    wait_until(
        lambda: (
            httpx.post(
                f"http://127.0.0.1:{port}/", content=fixed, headers=headers, timeout=5
            ).status_code
            == 200
        ),
        process,
        "openssl ocsp",
        log,
    )
    _check_ocsp(
        httpx.post(f"http://127.0.0.1:{port}/", content=fixed, headers=headers).content,
        folder,
        ca,
        folder / "leaf0.pem",
        "openssl",
    )
    theirs_fixed = hammer(port, "/", [fixed], headers, server=process, **load)
    theirs_get = hammer(port, "/", [fixed], {}, method="GET", server=process, **load)
    theirs_nonced = hammer(port, "/", nonced, headers, server=process, **load)
    processes.stop(process)
    label = LABELS[ca.key]
    return [
        Row(
            f"OCSP {label}, fixed request, no nonce",
            ours_fixed,
            theirs_fixed,
            "openssl ocsp -port, same responder key",
            2.0,
        ),
        Row(
            f"OCSP {label}, the same by GET (Windows)",
            ours_get,
            theirs_get,
            "openssl ocsp -port, same responder key",
            None,
        ),
        Row(
            f"OCSP {label}, {NONCE_REQUESTS} requests w/ nonce",
            ours_nonced,
            theirs_nonced,
            "openssl ocsp -port, same responder key",
            None,
        ),
    ]


# ---------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per figure")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before each")
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure; the best is kept")
    parser.add_argument("--concurrency", type=int, default=8, help="connections at once (8)")
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1),
        help="lyncpki ca serve --workers (twice the CPUs by default)",
    )
    parser.add_argument(
        "--keys", default="rsa2048,ec-p256", help="issuing CA keys, comma-separated"
    )
    parser.add_argument("--quick", action="store_true", help="3 s per figure, 1 s warm-up")
    parser.add_argument("--skip-enroll", action="store_true", help="OCSP only")
    parser.add_argument("--skip-ocsp", action="store_true", help="enrollment only")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup, args.repeat = 3.0, 1.0, 1
    keys = args.keys.split(",")
    if not set(keys) <= set(CA_KEYS):
        parser.error(f"--keys: choose from {', '.join(CA_KEYS)}")
    if not shutil.which("openssl"):
        raise SystemExit("openssl is needed (requests, and the OCSP baseline)")
    cfssl = None if args.skip_enroll else ensure_cfssl()
    ocsp_ready = True
    try:
        import lyncpki.ca.ocsp  # noqa: F401
    except ImportError:
        ocsp_ready = False
        print("lyncpki.ca.ocsp is not there: no OCSP rows")

    rows: list[Row] = []
    processes = Processes()
    with tempfile.TemporaryDirectory(prefix="lyncpki-bench-service-") as temp:
        try:
            for key in keys:
                ca = make_ca(Path(temp) / key, key)
                if not args.skip_enroll:
                    rows += bench_enrollment(ca, cfssl, processes, args)
                if ocsp_ready and not args.skip_ocsp:
                    rows += bench_ocsp(ca, processes, args)
        finally:
            processes.stop_all()

    print(
        f"\n{os.cpu_count()} CPUs; lyncpki ca serve --workers {args.workers}; "
        f"{args.concurrency} connections, {args.seconds:g} s per figure after "
        f"{args.warmup:g} s warm-up, best of {args.repeat}"
    )
    print(f"\n{'step':<44} {'lyncpki/s':>10} {'base/s':>9} {'ratio':>7}  {'target':<8} "
          f"{'met':<4} baseline (same run)")  # fmt: skip
    for row in rows:
        ours = row.ours.rate
        if row.theirs is None:
            print(
                f"{row.step:<44} {ours:10.0f} {'-':>9} {'-':>7}  {'-':<8} {'-':<4} {row.baseline}"
            )
            continue
        theirs = row.theirs.rate
        ratio = ours / theirs
        target = f">= {row.target:.1f}x" if row.target else "-"
        met = ("yes" if ratio >= row.target else "NO") if row.target else "-"
        print(f"{row.step:<44} {ours:10.0f} {theirs:9.0f} {ratio:6.2f}x  {target:<8} {met:<4} "
              f"{row.baseline}")  # fmt: skip
    print(
        "\nserver CPU per answer (us of CPU, all of the server's processes; a ratio above 1.0x: "
        "lyncpki spends less per answer than the baseline):"
    )
    for row in rows:
        mine = row.ours.cpu_per_answer
        text = f"lyncpki {mine:6.0f}"
        if row.theirs is not None:
            base = row.theirs.cpu_per_answer
            text += f", baseline {base:6.0f}, ratio {base / mine:5.2f}x"
        print(f"  {row.step:<44} {text}   ({row.baseline})")
    print("\nload generator CPU (client's own, s of CPU per s measured):")
    for row in rows:
        loads = [("lyncpki", row.ours)] + ([("baseline", row.theirs)] if row.theirs else [])
        text = ", ".join(
            f"{who} {load.client_cpu / load.seconds:.2f} ({load.connections} connections)"
            + (
                " [near a whole CPU: a floor, not a ceiling]"
                if load.client_cpu > 0.6 * load.seconds
                else ""
            )
            for who, load in loads
        )
        print(f"  {row.step:<44} {text}")


if __name__ == "__main__":
    main()
