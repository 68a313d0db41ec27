"""Every action is audited, refusals included (`ca audit --json`): approvals and denials of what
is not pending or does not exist, from the command line and the API; a requester's attempts at
what managers do (403); bodies over 1 MiB (413); a CA passphrase that does not open the keys —
never the passphrase itself."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import pytest
from service_tools import (
    PASSWORDS,
    Service,
    curl,
    enroll_pem,
    lyncpki,
    openssl_req,
    revoke,
    serial_of,
    service_env,
)

pytestmark = pytest.mark.external

LOCAL = f"local:{getpass.getuser()}"
MISSING = 987654


def _rows(service: Service, **wanted: str) -> list[dict[str, Any]]:
    return [r for r in service.audit(1000) if all(r[k] == v for k, v in wanted.items())]


def _request(service: Service, work: Path, template: str = "") -> int:
    """A request of fe01 through the API: its id (pending for SubCA, else issued)."""
    csr = openssl_req(work, "/CN=Corp Test Sub CA", None) if template else openssl_req(work)
    answer = curl(
        work,
        f"{service.url}/api/v1/enroll" + (f"?template={template}" if template else ""),
        "-u",
        f"fe01:{PASSWORDS['fe01']}",
        "--data-binary",
        f"@{csr}",
        "-H",
        "Content-Type: application/pkcs10",
    )
    assert answer.status in (200, 202), answer
    return int(answer.headers["x-request-id"])


def test_cli_refusals_to_approve_or_deny_are_audited(service: Service, work: Path) -> None:
    denied = _request(service, work, "SubCA")
    service.cli("ca", "deny", str(denied), "--reason", "not needed")
    issued = _request(service, work)
    cases = [
        ("approve", denied, "is denied, not pending"),
        ("approve", issued, "is issued, not pending"),
        ("approve", MISSING, f"no request {MISSING}"),
        ("deny", issued, "is issued, not pending"),
        ("deny", MISSING, f"no request {MISSING}"),
    ]
    for action, request_id, message in cases:
        before = len(_rows(service, action=action, target=f"request {request_id}"))
        refused = service.cli("ca", action, str(request_id), check=False)
        assert refused.returncode == 2, refused
        assert message in refused.stderr, refused.stderr
        rows = _rows(service, action=action, target=f"request {request_id}")
        assert len(rows) == before + 1, (action, request_id, rows)
        assert rows[0]["actor"] == LOCAL
        assert rows[0]["outcome"] == "refused"
        assert message in rows[0]["detail"]


def test_api_403_and_409_are_audited(service: Service, work: Path) -> None:
    leaf = enroll_pem(service, openssl_req(work))
    serial = serial_of(leaf)
    issued = _request(service, work)
    mine = _request(service, work)
    with service.client("fe01") as http:
        forbidden = {
            ("approve", f"request {issued}"): http.post(f"/api/v1/requests/{issued}/approve"),
            ("deny", f"request {issued}"): http.post(f"/api/v1/requests/{issued}/deny"),
            ("revoke", serial): http.post(
                f"/api/v1/certificates/{serial}/revoke", json={"reason": "keyCompromise"}
            ),
        }
    for (action, target), answer in forbidden.items():
        assert answer.status_code == 403, answer.text
        rows = _rows(service, actor="fe01", action=action, target=target)
        assert [r["outcome"] for r in rows] == ["denied"], rows
        assert "requester may not" in rows[0]["detail"]
    with service.client("boss") as http:
        conflicts = {
            "approve": http.post(f"/api/v1/requests/{mine}/approve"),
            "deny": http.post(f"/api/v1/requests/{mine}/deny", json={"reason": "late"}),
        }
    for action, answer in conflicts.items():
        assert answer.status_code == 409, answer.text
        rows = _rows(service, actor="boss", action=action, target=f"request {mine}")
        assert [r["outcome"] for r in rows] == ["refused"], rows
        assert "is issued, not pending" in rows[0]["detail"]


def test_requests_refused_before_the_ca_reads_them_are_audited(
    service: Service, work: Path
) -> None:
    """A JSON body that is no enrollment, a template named twice differently, a template name
    longer than any, an unknown revocation reason, a serial that is no serial: each was a clear
    4xx and no audit entry (found by an exploratory test)."""
    leaf = enroll_pem(service, openssl_req(work))
    serial = serial_of(leaf)
    before = max(r["id"] for r in service.audit(1))
    with service.client("boss") as http:
        answers = [
            http.post("/api/v1/enroll", json={"csr": 5}),
            http.post("/api/v1/enroll?template=WebServer", json={"csr": "x", "template": "Other"}),
            http.post(f"/api/v1/enroll?template={'A' * 100}", content=b"x"),
            http.post(f"/api/v1/certificates/{serial}/revoke", json={"reason": "nope"}),
            http.post("/api/v1/certificates/zz/revoke"),
        ]
    assert [a.status_code for a in answers] == [422, 400, 422, 400, 400], [a.text for a in answers]
    rows = [r for r in service.audit(50) if r["id"] > before and r["actor"] == "boss"]
    said = sorted((r["action"], r["outcome"], r["detail"].split(":")[0]) for r in rows)
    assert said == sorted([
        ("submit", "refused", "422 request.invalid"),
        ("submit", "refused", "400 request.template_conflict"),
        ("submit", "refused", "422 request.invalid"),
        ("revoke", "refused", "unknown revocation reason 'nope'"),
        ("revoke", "refused", "'zz' is not a serial number"),
    ]), rows  # fmt: skip
    assert _rows(service, action="revoke", target=serial, outcome="ok") == []  # not revoked


def test_another_accounts_request_is_not_shown_and_audited(service: Service, work: Path) -> None:
    theirs = _request(service, work)
    other, password = "fe-audit-other", "fe-audit-other-password-1"
    env = service_env(LYNCPKI_ACCOUNT_PASSWORD=password)
    lyncpki("ca", "account", "add", other, "--home", service.home, env=env)
    with service.client() as http:
        answer = http.get(f"/api/v1/requests/{theirs}", auth=(other, password))
    assert answer.status_code == 404, answer.text
    rows = _rows(service, actor=other, action="status", target=f"request {theirs}")
    assert [r["outcome"] for r in rows] == ["denied"], rows


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_bodies_over_1_mib_are_audited(service: Service, work: Path, chunked: bool) -> None:
    big = work / "big.bin"
    big.write_bytes(b"A" * (2 * 1024 * 1024))
    extra = ["-H", "Transfer-Encoding: chunked"] if chunked else []
    before = len(_rows(service, actor="fe01", action="enroll", outcome="refused"))
    before_ocsp = len(_rows(service, actor="anonymous", action="ocsp", outcome="refused"))
    enroll = curl(
        work,
        f"{service.url}/api/v1/enroll",
        "-u",
        f"fe01:{PASSWORDS['fe01']}",
        "--data-binary",
        f"@{big}",
        "-H",
        "Content-Type: application/pkcs10",
        *extra,
    )
    ocsp = curl(
        work,
        f"{service.url}/ocsp",
        "--data-binary",
        f"@{big}",
        "-H",
        "Content-Type: application/ocsp-request",
        *extra,
    )
    for answer in (enroll, ocsp):
        assert answer.status == 413, answer
        assert answer.json()["error"] == "request.too_large"
    rows = _rows(service, actor="fe01", action="enroll", outcome="refused")
    assert len(rows) == before + 1, rows
    assert "413" in rows[0]["detail"] and "1048576" in rows[0]["detail"]
    assert rows[0]["target"] == "127.0.0.1"
    assert len(_rows(service, actor="anonymous", action="ocsp", outcome="refused")) == (
        before_ocsp + 1
    )


def test_a_wrong_ca_passphrase_is_audited_without_it(service: Service, work: Path) -> None:
    wrong = "Wrong-passphrase-4711"
    csr = openssl_req(work)
    before = len(_rows(service, action="unlock"))
    refused = lyncpki(
        "ca",
        "issue",
        csr,
        "--home",
        service.home,
        env=service_env(LYNCPKI_CA_PASSPHRASE=wrong),
        check=False,
    )
    assert refused.returncode == 2, refused
    assert "wrong passphrase" in refused.stderr
    rows = _rows(service, action="unlock")
    assert len(rows) == before + 1, rows
    assert rows[0]["actor"] == LOCAL
    assert rows[0]["outcome"] == "refused"
    assert "wrong passphrase" in rows[0]["detail"]
    assert wrong not in service.cli("ca", "audit", "--json", "--limit", "100000").stdout


def test_malformed_basic_credentials_are_401_and_audited(service: Service) -> None:
    """Non-ASCII after `Basic ` was a 500 (base64's ValueError escaped); no malformed
    credentials were audited."""
    before = max(r["id"] for r in service.audit(1))
    with service.client() as http:
        for value in (b"Basic \xff\xfe", b"Basic !!!!"):
            answer = http.get("/api/v1/requests/1", headers={"Authorization": value})
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"] == "auth.malformed"
    rows = [r for r in service.audit(20) if r["id"] > before and r["action"] == "login"]
    assert [(r["actor"], r["outcome"]) for r in rows] == [("-", "refused")] * 2, rows


def test_a_hold_is_released_by_a_manager_only(service: Service, work: Path) -> None:
    """POST /api/v1/certificates/{serial}/unrevoke: a requester is refused (403, audited), a
    manager releases a hold (the certificate is valid again), and a certificate that is not
    on hold is a 409 with the reason."""
    leaf = enroll_pem(service, openssl_req(work))
    serial = serial_of(leaf)
    revoke(service, leaf, "certificateHold")
    with service.client("fe01") as http:
        assert http.post(f"/api/v1/certificates/{serial}/unrevoke").status_code == 403
    assert [r["outcome"] for r in _rows(service, actor="fe01", action="unrevoke")] == ["denied"]
    with service.client("boss") as http:
        released = http.post(f"/api/v1/certificates/{serial}/unrevoke")
        assert released.status_code == 200, released.text
        assert released.json()["serial"] == serial.lower()
        again = http.post(f"/api/v1/certificates/{serial}/unrevoke")
        assert again.status_code == 409 and "is not revoked" in again.text, again.text
    shown = service.cli("ca", "show", serial, "--json")
    assert '"status": "valid"' in shown.stdout


def test_cross_site_calls_are_audited_once_a_minute(tmp_path: Path) -> None:
    """A call a page of another site made a browser send was refused (403) and left no trace:
    the CA's managers never learnt that a page tried to revoke with their browsers. (A service
    of its own: the audit throttle is the service's.)"""
    from service_tools import make_service

    served = make_service(tmp_path, accounts=("boss",))
    target = "/api/v1/certificates/01AB/revoke"
    try:
        with served.client("boss") as http:
            for n in range(3):  # a loop, each time from another origin: one row, not three
                answer = http.post(
                    target, content=b"{}", headers={"Origin": f"http://attack-{n}.example"}
                )
                assert answer.status_code == 403
                assert answer.json()["error"] == "request.cross_site"
        rows = _rows(served, action="cross-site")
    finally:
        served.stop()
    assert len(rows) == 1, rows
    assert (rows[0]["actor"], rows[0]["target"], rows[0]["outcome"]) == (
        "-",
        f"POST {target}",
        "refused",
    )
    assert "http://attack-0.example" in rows[0]["detail"]


def test_the_cross_site_audit_counts_what_it_did_not_write() -> None:
    """The throttle is the service's, whatever the origins (the sender chooses them: keyed by
    origin, a loop with a new Origin each time wrote a row a request)."""
    import asyncio

    from lyncpki.service.cross_site import AUDIT_EVERY, CrossSiteGuard, cross_site_origin

    now = [1000.0]
    written: list[tuple[str, ...]] = []
    guard = CrossSiteGuard(lambda *row: written.append(row), clock=lambda: now[0])

    def scope(origin: bytes) -> dict[str, Any]:
        return {
            "type": "http",
            "method": "POST",
            "path": "/api/v1/requests/7/approve",
            "headers": [(b"host", b"ca:8080"), (b"origin", origin)],
        }

    async def refuse(origins: list[bytes]) -> list[object]:
        answers: list[object] = []
        for o in origins:
            found = cross_site_origin(scope(o))
            answers.append(None if found is None else await guard.refusal(scope(o), found))
        return answers

    assert asyncio.run(refuse([b"http://ca:8080"])) == [None]  # the service's own origin
    answers = asyncio.run(refuse([f"http://evil{n}.example".encode() for n in range(500)]))
    assert all(a is not None and a.status_code == 403 for a in answers)  # type: ignore[attr-defined]
    now[0] += AUDIT_EVERY
    asyncio.run(refuse([b"http://late.example"]))
    assert [row[-1] for row in written] == [
        "a web page of http://evil0.example sent it: refused",
        "a web page of http://late.example sent it: refused (499 more since the last row)",
    ]
