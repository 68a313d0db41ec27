"""A NUL character in what a client sends, on PostgreSQL (whose text keeps no NUL): it was an
internal error (500, a traceback in the log), and a login with it was neither counted nor
audited. Each is now a 4xx, and the service stays healthy."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from service_tools import PASSWORDS, free_port, init_ca, lyncpki, start_server, stop_server

pytestmark = pytest.mark.external


def test_a_nul_in_credentials_a_serial_or_a_reason_is_a_4xx(
    tmp_path: Path, postgres_url: str
) -> None:
    port = free_port()
    home = tmp_path / "home"
    init_ca(home, port, db=postgres_url, accounts=("fe01", "boss"))
    log = tmp_path / "serve.log"
    server = start_server(home, port, log)
    url = f"http://127.0.0.1:{port}"
    boss = ("boss", PASSWORDS["boss"])
    try:
        nul_name = base64.b64encode(b"x\x00y:pw").decode()
        login = httpx.get(
            f"{url}/api/v1/requests/1", headers={"Authorization": f"Basic {nul_name}"}, timeout=30
        )
        serial = httpx.post(f"{url}/api/v1/certificates/ab%00cd/revoke", auth=boss, timeout=30)
        reason = httpx.post(
            f"{url}/api/v1/requests/1/deny", json={"reason": "x\u0000"}, auth=boss, timeout=30
        )
        health = httpx.get(f"{url}/health", timeout=30)
    finally:
        stop_server(server)
    assert login.status_code == 401 and login.json()["error"] == "auth.malformed", login.text
    assert 400 <= serial.status_code < 500, serial.text
    assert 400 <= reason.status_code < 500, reason.text
    assert health.status_code == 200
    assert "Traceback" not in log.read_text()
    audit = json.loads(lyncpki("ca", "audit", "--home", home, "--json", "--limit", "50").stdout)
    assert any(r["action"] == "login" and r["outcome"] == "refused" for r in audit), audit
