"""Several processes issuing at once against one database: nothing lost, no serial twice.

4 processes x 2,000 certificates against the same SQLite file and the same PostgreSQL
database: 8,000 distinct serials, 8,000 certificate rows, 8,000 issuance audit entries, and
every stored certificate parses and carries the serial of its row.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from cryptography import x509
from sqlalchemy import func, select

from lyncpki.ca import database as db
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.keyspec import KeySpec
from lyncpki.x509.identifiers import serial_hex
from lyncpki.x509.keys import generate_key
from lyncpki.x509.requests import RequestSubject, build_request, request_pem

PROCESSES = 4
PER_PROCESS = 2000
PASSPHRASE = b"concurrency-test"


def _issue_many(home: str, db_url: str, count: int, worker: int) -> list[str]:
    ca = CertificateAuthority.open(CaHome(home), PASSPHRASE, db_url=db_url)
    key = generate_key(KeySpec("ec", 256))
    csrs = [
        request_pem(build_request(key, RequestSubject(f"fe{worker}-{n}.corp-test.se",
                                                      (f"fe{worker}-{n}.corp-test.se",))))
        for n in range(10)
    ]  # fmt: skip
    serials = []
    for n in range(count):
        result = ca.submit(csrs[n % len(csrs)], requester=f"worker{worker}")
        assert result.serial is not None
        serials.append(result.serial)
    ca.engine.dispose()
    return serials


def _run(home: Path, db_url: str) -> None:
    ca = CertificateAuthority.create(
        CaHome(home), passphrase=PASSPHRASE, namespaces=("corp-test.se",), db_url=db_url,
        root_key=KeySpec("rsa", 2048), key=KeySpec("rsa", 2048),
    )  # fmt: skip
    ca.engine.dispose()
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        results = pool.starmap(
            _issue_many, [(str(home), db_url, PER_PROCESS, w) for w in range(PROCESSES)]
        )
    returned = [s for serials in results for s in serials]
    assert len(returned) == PROCESSES * PER_PROCESS
    assert len(set(returned)) == PROCESSES * PER_PROCESS, "a serial was issued twice"

    engine = db.connect(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(db.certificates.c.serial, db.certificates.c.der)).all()
        audited = conn.execute(
            select(func.count())
            .select_from(db.audit)
            .where(db.audit.c.action == "issue", db.audit.c.outcome == "ok")
        ).scalar()
    engine.dispose()
    assert len(rows) == PROCESSES * PER_PROCESS, "a certificate row is missing"
    assert {r.serial for r in rows} == set(returned)
    assert audited == PROCESSES * PER_PROCESS
    for row in rows[:: max(1, len(rows) // 200)]:  # a sample: every stored certificate parses
        assert serial_hex(x509.load_der_x509_certificate(row.der).serial_number) == row.serial


@pytest.mark.slow
def test_four_processes_on_sqlite(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _run(home, f"sqlite:///{home / 'ca' / 'ca.sqlite'}")


@pytest.mark.slow
def test_four_processes_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    _run(tmp_path / "home", postgres_url)
