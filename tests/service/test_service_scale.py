"""Two `lyncpki ca serve` processes on one PostgreSQL database, 2,000 enrollments at once spread
over both: every one answered, every serial distinct, every certificate stored once.

The serials and request ids are coordinated by the database only (the processes share
nothing else), so this is where a duplicate serial, a lost row or a deadlock would show.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from service_tools import (
    DOMAIN,
    PASSWORDS,
    free_port,
    init_ca,
    openssl_req,
    run_tool,
    start_server,
    stop_server,
)
from sqlalchemy import create_engine, text

TOTAL = 2_000
CONCURRENCY = 32
DISTINCT_REQUESTS = 8  # made by openssl, each sent 250 times
OCSP_SHIPPED = importlib.util.find_spec("lyncpki.ca.ocsp") is not None


async def _enroll_all(
    urls: list[str], requests: list[bytes], total: int = TOTAL
) -> list[httpx.Response | Exception]:
    limit = asyncio.Semaphore(CONCURRENCY)
    auth = httpx.BasicAuth("fe01", PASSWORDS["fe01"])
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(auth=auth, timeout=120, limits=limits) as http:

        async def one(n: int) -> httpx.Response | Exception:
            async with limit:
                try:
                    return await http.post(
                        f"{urls[n % len(urls)]}/api/v1/enroll",
                        content=requests[n % len(requests)],
                        headers={
                            "Content-Type": "application/pkcs10",
                            "Accept": "application/json",
                        },
                    )
                except httpx.HTTPError as error:
                    return error

        return await asyncio.gather(*(one(n) for n in range(total)))


@pytest.mark.slow
@pytest.mark.external
def test_two_servers_one_postgresql_2000_concurrent_enrollments(
    tmp_path: Path, postgres_url: str
) -> None:
    ports = [free_port(), free_port()]
    home = tmp_path / "home"
    init_ca(home, ports[0], db=postgres_url, accounts=("fe01",))
    work = tmp_path / "work"
    work.mkdir()
    requests = [
        openssl_req(work, f"/CN=fe{n:02d}.{DOMAIN}", [f"fe{n:02d}.{DOMAIN}"]).read_bytes()
        for n in range(DISTINCT_REQUESTS)
    ]
    servers = []
    try:
        for port in ports:  # the same home (keys, published files) and the same database
            servers.append(start_server(home, port, tmp_path / f"serve-{port}.log"))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        start = time.monotonic()
        answers = asyncio.run(_enroll_all(urls, requests))
        elapsed = time.monotonic() - start
        for server in servers:
            assert server.poll() is None, "a server died during the run"
    finally:
        for server in servers:
            stop_server(server)

    failures = [a for a in answers if isinstance(a, Exception) or a.status_code != 200]
    assert not failures, f"{len(failures)} of {TOTAL} failed, e.g. " + "; ".join(
        repr(f) if isinstance(f, Exception) else f.text[:300] for f in failures[:5]
    )
    served = Counter(str(a.url.port) for a in answers if isinstance(a, httpx.Response))
    assert served == {str(ports[0]): TOTAL // 2, str(ports[1]): TOTAL // 2}
    bodies = [a.json() for a in answers if isinstance(a, httpx.Response)]
    assert all(b["status"] == "issued" for b in bodies)
    serials = [int(b["serial"], 16) for b in bodies]
    assert len(set(serials)) == TOTAL, f"{TOTAL - len(set(serials))} duplicate serials"
    assert len({b["request_id"] for b in bodies}) == TOTAL

    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT serial FROM certificates WHERE requester = 'fe01'")
            ).all()
            requests_stored = conn.execute(
                text("SELECT count(*) FROM requests WHERE requester = 'fe01'")
            ).scalar()
            issued_audit = conn.execute(
                text("SELECT count(*) FROM audit WHERE action = 'issue' AND actor = 'fe01'")
            ).scalar()
    finally:
        engine.dispose()
    assert len(rows) == TOTAL
    assert {int(r.serial, 16) for r in rows} == set(serials)
    assert requests_stored == TOTAL
    assert issued_audit == TOTAL
    print(f"\n{TOTAL} enrollments over 2 servers in {elapsed:.1f} s ({TOTAL / elapsed:.0f}/s)")


@pytest.mark.external
def test_workers_serve_the_same_ca(tmp_path: Path, postgres_url: str) -> None:
    """`ca serve --workers 2`: each worker opens the CA from the environment (the passphrase
    handed down), serves enrollment and OCSP; the answers verify with openssl."""
    port = free_port()
    home = tmp_path / "home"
    init_ca(home, port, db=postgres_url, accounts=("fe01",))
    work = tmp_path / "work"
    work.mkdir()
    requests = [openssl_req(work).read_bytes() for _ in range(2)]
    server = start_server(home, port, tmp_path / "serve.log", workers=2)
    try:
        answers = asyncio.run(_enroll_all([f"http://127.0.0.1:{port}"], requests, total=200))
        health = httpx.get(f"http://127.0.0.1:{port}/health").json()
        leaf = work / "leaf.pem"
        leaf.write_text(answers[0].json()["certificate"])  # type: ignore[union-attr]
        ocsp = run_tool(
            "openssl", "ocsp", "-issuer", home / "ca" / "issuing.crt", "-cert", leaf,
            "-url", f"http://127.0.0.1:{port}/ocsp", "-CAfile", home / "ca" / "root.crt",
            "-verify_other", home / "ca" / "issuing.crt",
        )  # fmt: skip
    finally:
        stop_server(server)
    assert all(isinstance(a, httpx.Response) and a.status_code == 200 for a in answers)
    assert len({a.json()["serial"] for a in answers}) == 200  # type: ignore[union-attr]
    assert health["status"] == "ok"
    assert health["ocsp"] is OCSP_SHIPPED
    if OCSP_SHIPPED:
        assert f"{leaf}: good" in ocsp.stdout, ocsp.stdout + ocsp.stderr
        assert "Response verify OK" in ocsp.stderr
    # no worker is left behind
    assert server.poll() is not None
