"""The CA's PostgreSQL database unreachable while `ca serve` runs: the service says the CA is
unavailable (503, Retry-After), the client calls it unavailable (not "the CA refused"), and
both recover when the database comes back. It was a generic 500 with a traceback in the log,
reported by the client as a policy refusal."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from service_tools import free_port, init_ca, start_server, stop_server
from sqlalchemy import create_engine, text

from lyncpki.ca.client import CaClient, CaUnreachable

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _connections(database: str, allowed: bool) -> None:
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(
                text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}')
            )
            if not allowed:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name"
                    ),
                    {"name": database},
                )
    finally:
        admin.dispose()


@pytest.mark.external
def test_a_database_outage_is_unavailable_then_recovers(tmp_path: Path, postgres_url: str) -> None:
    database = postgres_url.rsplit("/", 1)[1]
    port = free_port()
    home = tmp_path / "home"
    init_ca(home, port, db=postgres_url, accounts=("fe01",))
    server = start_server(home, port, tmp_path / "serve.log")
    url = f"http://127.0.0.1:{port}"
    try:
        _connections(database, allowed=False)
        try:
            down = httpx.get(f"{url}/health", timeout=30)
            with CaClient(url, timeout=30) as client, pytest.raises(CaUnreachable) as said:
                client.health()
        finally:
            _connections(database, allowed=True)
        up = httpx.get(f"{url}/health", timeout=30)
    finally:
        stop_server(server)
    assert down.status_code == 503, down.text
    assert down.headers["retry-after"] == "30"
    assert down.json()["error"] == "unavailable" and "database" in down.json()["message"]
    assert said.value.status == 503 and "not available" in said.value.message
    assert up.status_code == 200 and up.json()["status"] == "ok"
