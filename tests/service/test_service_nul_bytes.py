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


def test_a_request_id_beyond_32_bits_is_404_and_audited(tmp_path: Path, postgres_url: str) -> None:
    """requests.id is 32 bits on PostgreSQL: /api/v1/requests/2147483648 answered 400 "the
    request holds ... a NUL", and an approval of it was not audited."""
    port = free_port()
    home = tmp_path / "home"
    init_ca(home, port, db=postgres_url, accounts=("fe01", "boss"))
    server = start_server(home, port, tmp_path / "serve.log")
    url = f"http://127.0.0.1:{port}"
    boss = ("boss", PASSWORDS["boss"])
    try:
        status = httpx.get(f"{url}/api/v1/requests/{2**31}", auth=boss, timeout=30)
        approve = httpx.post(f"{url}/api/v1/requests/{2**31}/approve", auth=boss, timeout=30)
    finally:
        stop_server(server)
    for answer in (status, approve):
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"] == "not_found", answer.text
        assert "NUL" not in answer.text
    audit = json.loads(lyncpki("ca", "audit", "--home", home, "--json", "--limit", "50").stdout)
    assert any(
        r["action"] == "approve" and r["target"] == f"request {2**31}" and r["outcome"] == "refused"
        for r in audit
    ), audit


def test_a_value_the_database_refuses_is_named_not_called_a_nul() -> None:
    """The answer to any DataError said "a NUL or other character": an out-of-range number
    was called a NUL."""
    from sqlalchemy.exc import DataError

    from lyncpki.service.errors import response_for

    answer = response_for(
        DataError("SELECT ...", {"id": 2**31}, Exception("integer out of range\nDETAIL: x"))
    )
    body = json.loads(bytes(answer.body))
    assert answer.status_code == 400 and body["error"] == "request.invalid"
    assert "integer out of range" in body["message"]
    assert "NUL" not in body["message"] and "DETAIL" not in body["message"]
