"""Group commit: concurrent callers' writes share transactions; nothing is lost or mixed up,
and one failing caller does not fail the others."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from ca_tools import openssl_req
from sqlalchemy import Engine, func, select

from lyncpki.ca import authority
from lyncpki.ca import database as db
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.driver_sql import HeldConnection
from lyncpki.ca.group_commit import GroupCommit


def test_each_caller_gets_its_own_results_in_order() -> None:
    calls: list[int] = []

    def store(items: list[int]) -> list[int]:
        calls.append(len(items))
        time.sleep(0.01)  # a slow transaction: others queue up meanwhile
        return [i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(store)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: group.run([n, n + 1000]), range(200)))
    assert results == [[n * 10, (n + 1000) * 10] for n in range(200)]
    assert sum(calls) == 400
    assert len(calls) < 200, "no two callers ever shared a transaction"


def test_a_failing_caller_does_not_fail_the_others() -> None:
    barrier = threading.Barrier(8)

    def store(items: list[int]) -> list[int]:
        if 3 in items:
            raise ValueError("bad item 3")
        return items

    group: GroupCommit[int, int] = GroupCommit(store)

    def call(n: int) -> list[int] | str:
        barrier.wait()
        try:
            return group.run([n])
        except ValueError as error:
            return str(error)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(8)))
    assert results == [[0], [1], [2], "bad item 3", [4], [5], [6], [7]]


def test_concurrent_issuance_shares_transactions(
    fresh_ca: CertificateAuthority, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = fresh_ca
    requests = [openssl_req(work, key="ec:P-256") for _ in range(4)]
    commits = 0
    transaction = authority.write_transaction  # issuances are stored on the driver's cursor

    @contextmanager
    def counted(engine: Engine, held: HeldConnection | None = None) -> Iterator[Any]:
        nonlocal commits
        with transaction(engine, held) as cursor:
            yield cursor
        commits += 1

    monkeypatch.setattr(authority, "write_transaction", counted)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: ca.submit(requests[n % 4], requester=f"t{n % 8}"),
                                range(400)))  # fmt: skip
    monkeypatch.undo()
    serials = [r.serial for r in results]
    assert len(set(serials)) == 400
    with ca.engine.connect() as conn:
        stored = conn.execute(
            select(db.certificates.c.serial, db.certificates.c.requester)
            .where(db.certificates.c.template == "WebServer")
        ).all()  # fmt: skip
        issued_audits = conn.execute(
            select(func.count()).select_from(db.audit).where(db.audit.c.action == "issue")
        ).scalar()
    assert {row.serial for row in stored} >= set(serials)
    by_serial = {row.serial: row.requester for row in stored}
    for n, result in enumerate(results):  # each certificate stored for its own caller
        assert by_serial[result.serial] == f"t{n % 8}"
    assert issued_audits is not None and issued_audits >= 400
    assert 0 < commits < 400, f"{commits} commits for 400 certificates: no group commit"
    print(f"400 concurrent issuances in {commits} transactions")


def test_one_caller_alone_still_commits_at_once(fresh_ca: CertificateAuthority, work: Path) -> None:
    result = fresh_ca.submit(openssl_req(work), requester="alone")
    row, _ = fresh_ca.certificate(result.serial or "")
    assert row["requester"] == "alone"
