"""The CA service under load: 64 concurrent enrollments, back to back, on SQLite (`ca serve
--workers 2`) and on PostgreSQL (two `ca serve` processes on one database, the load split
between them): requests per second, p50 and p99 latency, errors (the goal: none), and every
certificate answered stored once (distinct serials = rows).

Short form: 5 seconds each; `make reliability`: 60 seconds each."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from scoreboard import LONG, Scoreboard
from sqlalchemy import create_engine, text

from lab import free_port, lab_env, ok, run_lyncpki, start_serve

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
SECONDS = 60.0 if LONG else 5.0
CONCURRENCY = 64
ACCOUNT, PASSWORD = "load-requester", "load-requester-password"


def csr_pems(count: int) -> list[bytes]:
    pems = []
    for n in range(count):
        key = ec.generate_private_key(ec.SECP256R1())
        name = f"load{n}.corp-load.net"
        pems.append(
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256())
            .public_bytes(Encoding.PEM)
        )
    return pems


def serve(home: Path, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    return start_serve(home, port, log, workers=workers)


async def _connection(
    url: str, pems: list[bytes], stop: float, latencies: list[float], serials: list[str]
) -> int:
    """One keep-alive HTTP/1.1 connection enrolling back to back (a lean client: httpx's pool
    costs more than the service at 64 connections); its error count."""
    host, port = url.removeprefix("http://").split(":")
    auth = base64.b64encode(f"{ACCOUNT}:{PASSWORD}".encode()).decode()
    reader, writer = await asyncio.open_connection(host, int(port))
    errors = 0
    try:
        for pem in itertools.cycle(pems):
            if time.monotonic() >= stop:
                break
            head = (
                f"POST /api/v1/enroll HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Basic {auth}\r\nContent-Type: application/pkcs10\r\n"
                f"Accept: application/json\r\nContent-Length: {len(pem)}\r\n\r\n"
            )
            start = time.perf_counter()
            writer.write(head.encode() + pem)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if b" 200 " not in status_line:
                errors += 1
            else:
                serials.append(json.loads(body)["serial"])
    except (OSError, asyncio.IncompleteReadError, ValueError):
        errors += 1
    finally:
        writer.close()
    return errors


async def load(
    urls: list[str], pems: list[bytes], seconds: float
) -> tuple[list[float], int, list[str]]:
    latencies: list[float] = []
    serials: list[str] = []
    stop = time.monotonic() + seconds
    counts = await asyncio.gather(
        *(
            _connection(urls[i % len(urls)], pems, stop, latencies, serials)
            for i in range(CONCURRENCY)
        )
    )
    return latencies, sum(counts), serials


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


def run_load(home: Path, urls: list[str], scoreboard: Scoreboard, label: str, db_url: str) -> None:
    latencies, errors, serials = asyncio.run(load(urls, csr_pems(200), SECONDS))
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT count(*) FROM certificates WHERE requester = :r"), {"r": ACCOUNT}
        ).scalar_one()
    engine.dispose()
    rate = len(latencies) / SECONDS
    assert errors == 0
    assert len(set(serials)) == len(serials) == rows  # every answer stored, once
    scoreboard.record(
        f"load: {label}",
        f"{CONCURRENCY} clients x {SECONDS:.0f} s, {rate:,.0f} req/s",
        errors,
        len(serials) - rows,
        f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, p99 "
        f"{percentile(latencies, 0.99) * 1000:.0f} ms, {rows:,} rows",
    )


def init(home: Path, port: int, db: str | None = None) -> None:
    args: list[str | Path] = [
        "ca",
        "init",
        "--home",
        home,
        "--domain",
        "corp-load.net",
        "--root-key",
        "ec-p384",
        "--key",
        "ec-p256",
        "--base-url",
        f"http://127.0.0.1:{port}",
    ]
    if db:
        args += ["--db", db]
    ok(run_lyncpki(*args))
    ok(
        run_lyncpki(
            "ca",
            "account",
            "add",
            ACCOUNT,
            "--role",
            "requester",
            "--home",
            home,
            env=lab_env(LYNCPKI_ACCOUNT_PASSWORD=PASSWORD),
        )
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(20)


def test_load_on_sqlite(
    tmp_path: Path, scoreboard: Scoreboard, processes: list[subprocess.Popen[bytes]]
) -> None:
    home, port = tmp_path / "home", free_port()
    init(home, port)
    processes.append(serve(home, port, 2, tmp_path / "serve.log"))
    db = f"sqlite:///{(home / 'ca' / 'ca.sqlite').resolve()}"
    run_load(home, [f"http://127.0.0.1:{port}"], scoreboard, "SQLite, --workers 2", db)


def test_load_on_postgresql(
    tmp_path: Path,
    scoreboard: Scoreboard,
    postgres_url: str,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    home, ports = tmp_path / "home", [free_port(), free_port()]
    init(home, ports[0], postgres_url)
    for port in ports:
        processes.append(serve(home, port, 1, tmp_path / f"serve-{port}.log"))
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    run_load(home, urls, scoreboard, "PostgreSQL, 2 ca serve processes", postgres_url)
