"""A template that needs a CA manager's approval (SubCA): 202 with the request id, the request
pending until another manager approves or denies it; nobody approves their own request."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from service_tools import (
    PASSWORDS,
    Service,
    curl,
    openssl,
    openssl_req,
    pem_blocks,
    verify,
    write_leaf,
)

pytestmark = pytest.mark.external

PKCS7, PEM_CHAIN = "application/pkcs7-mime", "application/pem-certificate-chain"

SUB_CA = "/CN=Corp Test Sub CA"


def _request_sub_ca(service: Service, work: Path, account: str) -> int:
    csr = openssl_req(work, SUB_CA, None)
    answer = curl(
        work,
        f"{service.url}/api/v1/enroll?template=SubCA",
        "-u",
        f"{account}:{PASSWORDS[account]}",
        "--data-binary",
        f"@{csr}",
        "-H",
        "Content-Type: application/pkcs10",
    )
    assert answer.status == 202, answer
    data = answer.json()
    assert data["status"] == "pending"
    assert data["template"] == "SubCA"
    assert data["retrieve"] == f"/api/v1/requests/{data['request_id']}"
    assert answer.headers["x-request-id"] == str(data["request_id"])
    return int(data["request_id"])


def test_pending_until_a_manager_approves(service: Service, work: Path) -> None:
    request_id = _request_sub_ca(service, work, "fe01")
    with service.client("fe01") as http:
        status = http.get(f"/api/v1/requests/{request_id}")
        assert status.status_code == 200, status.text
        assert status.json()["status"] == "pending"
        assert "certificate" not in status.json()
        assert status.json()["sans"] == []  # a list, as ca pending --json (it was "" text)
        refused = http.post(f"/api/v1/requests/{request_id}/approve")
        assert refused.status_code == 403, refused.text
    pending = service.cli("ca", "pending", "--json").stdout
    assert f'"id": {request_id}' in pending, pending

    with service.client("boss") as http:
        approved = http.post(
            f"/api/v1/requests/{request_id}/approve", headers={"Accept": "application/json"}
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "issued"
        twice = http.post(f"/api/v1/requests/{request_id}/approve")
        assert twice.status_code == 409, twice.text
        assert "not pending" in twice.json()["message"]

    with service.client("fe01") as http:
        status = http.get(f"/api/v1/requests/{request_id}")
    assert status.status_code == 200, status.text
    data = status.json()
    assert data["status"] == "issued"
    assert data["decided_by"] == "boss"
    assert data["certificate"] == approved.json()["certificate"]
    sub_ca = write_leaf(work, data["certificate"], "sub-ca.pem")
    text = openssl("x509", "-in", sub_ca, "-noout", "-text")
    assert "CA:TRUE, pathlen:0" in text
    assert "Subject: CN = Corp Test Sub CA" in text
    # a subordinate CA is signed by the root (as an offline AD CS root signs them)
    process = verify(service, sub_ca)
    assert process.returncode == 0, process.stdout + process.stderr
    approvals = [r for r in service.audit() if r["actor"] == "boss" and r["action"] == "issue"]
    assert any(f"request {request_id}," in r["detail"] for r in approvals), approvals
    # retrieved in the forms enroll answers in, when asked (it was JSON whatever was asked)
    with service.client("fe01") as http:
        p7 = http.get(f"/api/v1/requests/{request_id}", headers={"Accept": PKCS7})
        pem = http.get(f"/api/v1/requests/{request_id}", headers={"Accept": PEM_CHAIN})
    assert p7.headers["content-type"] == PKCS7, p7.text[:200]
    (work / "retrieved.p7b").write_bytes(p7.content)
    printed = openssl("pkcs7", "-inform", "DER", "-in", work / "retrieved.p7b", "-print_certs")
    assert "subject=CN = Corp Test Sub CA" in printed
    assert pem.headers["content-type"] == PEM_CHAIN
    assert pem.text.startswith(data["certificate"].strip())


def test_approval_answer_is_a_pem_chain_by_default(service: Service, work: Path) -> None:
    request_id = _request_sub_ca(service, work, "fe01")
    answer = curl(
        work,
        f"{service.url}/api/v1/requests/{request_id}/approve",
        "-X",
        "POST",
        "-u",
        f"boss2:{PASSWORDS['boss2']}",
    )
    assert answer.status == 200, answer
    assert answer.headers["content-type"] == "application/pem-certificate-chain"
    # the subordinate CA and its issuer, the root: the issuing CA is not on its path (it was
    # sent as well, a chain that is no path)
    blocks = pem_blocks(answer.body.decode())
    assert len(blocks) == 2
    assert blocks[1] == service.root_crt.read_text("ascii")
    chain = write_leaf(work, answer.body.decode(), "sub-ca-chain.pem")
    issuer = openssl("x509", "-in", chain, "-noout", "-issuer").strip()
    assert (
        issuer
        == "issuer="
        + openssl("x509", "-in", service.root_crt, "-noout", "-subject")[len("subject=") :].strip()
    )
    with service.client("fe01") as http:
        status = http.get(f"/api/v1/requests/{request_id}").json()
    assert status["chain"] == [service.root_crt.read_text("ascii")]


def test_a_manager_may_not_approve_its_own_request(service: Service, work: Path) -> None:
    request_id = _request_sub_ca(service, work, "boss2")
    with service.client("boss2") as http:
        own = http.post(f"/api/v1/requests/{request_id}/approve")
        assert own.status_code == 403, own.text  # forbidden whatever the state: not a 409
        assert own.json()["error"] == "auth.forbidden"
        assert "its own request" in own.json()["message"]
        still = http.get(f"/api/v1/requests/{request_id}")
        assert still.json()["status"] == "pending"
    refusals = [
        r
        for r in service.audit()
        if r["actor"] == "boss2" and r["action"] == "approve" and r["outcome"] == "denied"
    ]
    assert any(r["target"] == f"request {request_id}" for r in refusals), refusals
    # another manager may
    with service.client("boss") as http:
        assert http.post(f"/api/v1/requests/{request_id}/approve").status_code == 200


def test_deny(service: Service, work: Path) -> None:
    request_id = _request_sub_ca(service, work, "fe01")
    with service.client("fe01") as http:
        assert http.post(f"/api/v1/requests/{request_id}/deny").status_code == 403
    with service.client("boss") as http:
        denied = http.post(
            f"/api/v1/requests/{request_id}/deny", json={"reason": "no sub CAs this year"}
        )
        assert denied.status_code == 200, denied.text
        assert denied.json() == {"request_id": request_id, "status": "denied"}
        late = http.post(f"/api/v1/requests/{request_id}/approve")
        assert late.status_code == 409, late.text
        again = http.post(f"/api/v1/requests/{request_id}/deny")
        assert again.status_code == 409, again.text
    with service.client("fe01") as http:
        status = http.get(f"/api/v1/requests/{request_id}")
    assert status.json()["status"] == "denied"
    assert status.json()["reason"] == "no sub CAs this year"
    assert "certificate" not in status.json()


def test_requests_of_others_and_unknown_ids(service: Service, work: Path) -> None:
    """A requester sees its own requests only; a manager sees all; unknown ids are 404."""
    request_id = _request_sub_ca(service, work, "boss2")
    with service.client("fe01") as http:
        other = http.get(f"/api/v1/requests/{request_id}")
        assert other.status_code == 404, other.text
        assert other.json()["error"] == "not_found"
        assert http.get("/api/v1/requests/99999999").status_code == 404
        assert http.get("/api/v1/requests/not-a-number").status_code == 422
    with service.client("boss") as http:
        assert http.get(f"/api/v1/requests/{request_id}").status_code == 200
        assert http.post("/api/v1/requests/99999999/approve").status_code == 404
        assert http.post("/api/v1/requests/99999999/deny").status_code == 404
        http.post(f"/api/v1/requests/{request_id}/deny")


# ------------------------------------------------------------------------ concurrent decisions
ROUNDS = 12  # pending requests, each decided by 8 calls at once
CALLS = 8
BATCHES = 4


def _pending_requests(service: Service, work: Path, count: int) -> list[int]:
    with service.client("fe01") as http:
        ids = []
        for _ in range(count):
            csr = openssl_req(work, SUB_CA, None)
            answer = http.post(
                "/api/v1/enroll",
                params={"template": "SubCA"},
                content=csr.read_bytes(),
                headers={"Content-Type": "application/pkcs10"},
            )
            assert answer.status_code == 202, answer.text
            ids.append(int(answer.json()["request_id"]))
    return ids


async def _decide_at_once(service: Service, calls: list[tuple[int, str, str]]) -> list[int]:
    """POST /api/v1/requests/{id}/{approve|deny} as (id, action, manager), all at once."""
    limits = httpx.Limits(max_connections=len(calls))
    async with httpx.AsyncClient(base_url=service.url, timeout=60, limits=limits) as http:
        for manager in ("boss", "boss2"):  # log in first: the decisions then race each other
            await http.get("/api/v1/requests/1", auth=(manager, PASSWORDS[manager]))
        answers = await asyncio.gather(
            *(
                http.post(
                    f"/api/v1/requests/{rid}/{action}",
                    auth=(manager, PASSWORDS[manager]),
                    headers={"Accept": "application/json"},
                )
                for rid, action, manager in calls
            )
        )
    return [a.status_code for a in answers]


def _certificates_of(service: Service, ids: list[int]) -> Counter[int]:
    rows = json.loads(service.cli("ca", "list", "--json").stdout)
    return Counter(r["request_id"] for r in rows if r["request_id"] in ids)


def test_concurrent_approvals_issue_one_certificate(service: Service, work: Path) -> None:
    for _batch in range(BATCHES):  # a race: tried a few times (the first miss fails)
        ids = _pending_requests(service, work, ROUNDS)
        managers = ("boss", "boss2")
        calls = [(rid, "approve", managers[n % 2]) for rid in ids for n in range(CALLS)]
        statuses = asyncio.run(_decide_at_once(service, calls))
        for n, rid in enumerate(ids):
            mine = statuses[n * CALLS : (n + 1) * CALLS]
            assert sorted(mine) == [200] + [409] * (CALLS - 1), (rid, mine)
        issued = _certificates_of(service, ids)
        assert issued == dict.fromkeys(ids, 1), issued


def test_concurrent_approve_and_deny_decide_once(service: Service, work: Path) -> None:
    # one approval, then denials arriving while it signs
    actions = ("approve",) + ("deny",) * (CALLS - 1)
    for _batch in range(BATCHES):  # a race: tried a few times (the first miss fails)
        ids = _pending_requests(service, work, 2 * ROUNDS)
        calls = [(rid, actions[n], "boss") for rid in ids for n in range(CALLS)]
        statuses = asyncio.run(_decide_at_once(service, calls))
        issued = _certificates_of(service, ids)
        with service.client("boss") as http:
            final = {rid: http.get(f"/api/v1/requests/{rid}").json()["status"] for rid in ids}
        for n, rid in enumerate(ids):
            mine = statuses[n * CALLS : (n + 1) * CALLS]
            assert mine.count(200) == 1, (rid, mine)
            assert issued.get(rid, 0) == (1 if final[rid] == "issued" else 0), (rid, final[rid])
