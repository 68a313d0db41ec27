"""The issuance path's writes on the driver's cursor (lyncpki.ca.driver_sql) write exactly the
rows SQLAlchemy writes, on SQLite and PostgreSQL; a serial collision is still refused by the
database and retried; a failed transaction leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import fcntl
import itertools
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from ca_tools import openssl_req
from cryptography import x509
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine, Table, func, insert, select
from sqlalchemy.exc import IntegrityError

from lyncpki.ca import authority
from lyncpki.ca import database as db
from lyncpki.ca.authority import CaError, CertificateAuthority
from lyncpki.ca.driver_sql import DriverStatement, held_connection, write_transaction
from lyncpki.keyspec import KeySpec
from lyncpki.x509.identifiers import thumbprint
from lyncpki.x509.keys import generate_key

# Aware datetimes, in and out of UTC, with and without microseconds.
MOMENTS = (
    dt.datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
)


def _rows(moment: dt.datetime, n: int) -> dict[str, dict[str, Any]]:
    return {
        "requests": {
            "ca": "issuing", "csr": b"\x30\x82csr" + bytes([n]), "template": "WebServer",
            "requester": "fe01", "subject": "CN=fe01.corp-test.se", "sans": "fe01.corp-test.se",
            "key": "rsa2048", "status": "issued", "submitted_at": moment, "decided_at": moment,
            "decided_by": "policy", "serial": f"{n:040x}",
        },
        "certificates": {
            "serial": f"{n:040x}", "ca": "issuing", "subject": "CN=fe01.corp-test.se",
            "sans": "fe01.corp-test.se,pool.corp-test.se", "template": "WebServer",
            "requester": "fe01", "request_id": n, "not_before": moment,
            "not_after": moment + dt.timedelta(days=730), "thumbprint": "AB" * 20,
            "key": "ec-p256", "issued_at": moment, "status": "valid", "der": b"\x30\x82der\x00",
        },
        "audit": {
            "at": moment, "actor": "fe01", "action": "issue", "target": f"{n:040x}",
            "outcome": "ok", "detail": "request 1, template WebServer, fe01.corp-test.se",
        },
    }  # fmt: skip


def _read(engine: Engine, table: Table, key: str, value: Any) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(table).where(table.c[key] == value)).one()
    return {k: v for k, v in row._mapping.items() if k not in ("id", key)}


def _stored(engine: Engine, table: Table, key: str, value: Any) -> tuple[Any, ...]:
    """The row as the driver stores it (SQLite: DATETIME as text, BLOBs as bytes)."""
    names = [c.name for c in table.c if c.name not in ("id", key)]
    columns = ", ".join(f'"{n}"' for n in names)
    with engine.connect() as conn:
        found = conn.exec_driver_sql(
            f"SELECT {columns} FROM {table.name} WHERE {key} = "
            + ("?" if engine.dialect.name == "sqlite" else "%(v)s"),
            (value,) if engine.dialect.name == "sqlite" else {"v": value},
        ).one()
    return tuple(bytes(v) if isinstance(v, memoryview) else v for v in found)


@pytest.mark.parametrize("moment", MOMENTS, ids=["utc", "utc+2"])
def test_rows_are_those_sqlalchemy_writes(engine: Engine, moment: dt.datetime) -> None:
    tables = {"requests": db.requests, "certificates": db.certificates, "audit": db.audit}
    ours, theirs = _rows(moment, 1), _rows(moment, 2)
    with write_transaction(engine) as cursor:
        for name, table in tables.items():
            statement = DriverStatement(insert(table), engine.dialect, tuple(ours[name]))
            statement.execute_many(cursor, [ours[name]])
    with engine.begin() as conn:
        for name, table in tables.items():
            conn.execute(insert(table), theirs[name])
    keys = {"requests": "serial", "certificates": "serial", "audit": "target"}
    for name, table in tables.items():
        mine = _read(engine, table, keys[name], ours[name][keys[name]])
        other = _read(engine, table, keys[name], theirs[name][keys[name]])
        if name == "requests":
            assert mine.pop("csr") != other.pop("csr")
        if name == "certificates":
            assert (mine.pop("request_id"), other.pop("request_id")) == (1, 2)
        assert mine == other, f"{name}: read back differently"
        stored_mine = _stored(engine, table, keys[name], ours[name][keys[name]])
        stored_other = _stored(engine, table, keys[name], theirs[name][keys[name]])
        differ = [a for a, b in zip(stored_mine, stored_other, strict=True) if a != b]
        assert len(differ) == (1 if name in ("requests", "certificates") else 0), differ


def test_returning_ids_in_order(engine: Engine) -> None:
    statement = DriverStatement(
        insert(db.requests).returning(db.requests.c.id), engine.dialect, authority._REQUEST_KEYS
    )
    rows = [_rows(MOMENTS[0], n)["requests"] for n in range(1, 6)]
    with write_transaction(engine) as cursor:
        one = statement.returning_ids(cursor, rows[:1])
        many = statement.returning_ids(cursor, rows[1:])
    ids = one + many
    assert len(set(ids)) == 5
    for n, request_id in enumerate(ids, start=1):
        assert _read(engine, db.requests, "id", request_id)["serial"] == f"{n:040x}"


def test_failed_transaction_leaves_nothing(engine: Engine) -> None:
    statement = DriverStatement(
        insert(db.audit), engine.dialect, tuple(_rows(MOMENTS[0], 1)["audit"])
    )
    with pytest.raises(RuntimeError), write_transaction(engine) as cursor:
        statement.execute(cursor, _rows(MOMENTS[0], 1)["audit"])
        raise RuntimeError("policy changed its mind")
    row = _rows(MOMENTS[0], 2)["certificates"]
    certificates = DriverStatement(insert(db.certificates), engine.dialect, tuple(row))
    with pytest.raises(IntegrityError), write_transaction(engine) as cursor:
        statement.execute(cursor, _rows(MOMENTS[0], 3)["audit"])
        certificates.execute_many(cursor, [row, row])  # the same serial twice
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.audit)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(db.certificates)).scalar() == 0
    with write_transaction(engine) as cursor:  # the pool's connections are still usable
        statement.execute(cursor, _rows(MOMENTS[0], 4)["audit"])


def test_held_connection_is_reused_and_survives_failures(tmp_path: Path) -> None:
    engine = db.connect(f"sqlite:///{tmp_path / 'ca.sqlite'}", create=True)
    held = held_connection(engine)
    assert held is not None
    assert held_connection(db.connect("sqlite://")) is None  # in memory: the pool's own
    audit = DriverStatement(insert(db.audit), engine.dialect, tuple(_rows(MOMENTS[0], 1)["audit"]))
    row = _rows(MOMENTS[0], 2)["certificates"]
    certificates = DriverStatement(insert(db.certificates), engine.dialect, tuple(row))
    drivers = set()
    with write_transaction(engine, held) as cursor:
        drivers.add(id(cursor.connection))
        audit.execute(cursor, _rows(MOMENTS[0], 1)["audit"])
    with pytest.raises(IntegrityError), write_transaction(engine, held) as cursor:
        drivers.add(id(cursor.connection))
        audit.execute(cursor, _rows(MOMENTS[0], 3)["audit"])
        certificates.execute_many(cursor, [row, row])  # the same serial twice: rolled back
    with write_transaction(engine, held) as cursor:
        drivers.add(id(cursor.connection))
        audit.execute(cursor, _rows(MOMENTS[0], 4)["audit"])
    assert len(drivers) == 1, "each transaction took another connection"
    with engine.connect() as conn:
        targets = conn.execute(select(db.audit.c.target).order_by(db.audit.c.id)).scalars()
        assert list(targets) == [f"{1:040x}", f"{4:040x}"]
    with held.checked_out() as pooled:
        driver = pooled.dbapi_connection
        pooled.invalidate()  # what a lost connection comes to
    with write_transaction(engine, held) as cursor:  # replaced, not reused
        assert cursor.connection is not driver
        audit.execute(cursor, _rows(MOMENTS[0], 5)["audit"])
    with held.checked_out() as pooled:
        driver = pooled.dbapi_connection
    engine.dispose()  # closes the held connection too: its log is checkpointed and removed
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        driver.cursor()
    assert not (tmp_path / "ca.sqlite-wal").exists()
    with write_transaction(engine, held) as cursor:  # and a new one is taken after it
        audit.execute(cursor, _rows(MOMENTS[0], 6)["audit"])
    engine.dispose()


def test_statements_follow_the_tables() -> None:
    with pytest.raises(ValueError, match="not parameters"):
        DriverStatement(insert(db.audit), db.connect("sqlite://").dialect, ("at", "nonsense"))


def test_serial_collision_is_refused_by_the_database_and_retried(
    backend_ca: CertificateAuthority, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = backend_ca
    first = ca.submit(openssl_req(work), requester="fe01")
    assert first.certificate is not None
    taken = first.certificate.serial_number
    serials = itertools.chain([taken, taken], iter(authority.random_serial, None))
    monkeypatch.setattr(authority, "random_serial", lambda: next(serials))

    def counts() -> list[int | None]:
        with ca.engine.connect() as conn:
            return [
                conn.execute(select(func.count()).select_from(t)).scalar()
                for t in (db.requests, db.certificates, db.audit)
            ]

    before = counts()
    second = ca.submit(openssl_req(work), requester="fe02")
    assert second.certificate is not None and second.certificate.serial_number != taken
    assert counts() == [n + 1 for n in before if n is not None], "a failed attempt left rows"
    row, _ = ca.certificate(second.serial or "")
    assert row["requester"] == "fe02" and row["request_id"] == second.request_id
    assert row["thumbprint"] == thumbprint(second.certificate)


def test_sqlite_writers_take_turns_at_the_writer_gate(tmp_path: Path) -> None:
    """Another process holding `<database>-writer.lock` (here: another open file) makes an
    issuance transaction wait for it, not sleep-poll SQLite's lock; it goes on at once after."""
    database = tmp_path / "ca.sqlite"
    engine = db.connect(f"sqlite:///{database}", create=True)
    row = _rows(MOMENTS[0], 1)["audit"]
    statement = DriverStatement(insert(db.audit), engine.dialect, tuple(row))
    with write_transaction(engine) as cursor:
        statement.execute(cursor, row)
    gate = tmp_path / "ca.sqlite-writer.lock"
    assert gate.exists()
    other = os.open(gate, os.O_RDWR)
    fcntl.flock(other, fcntl.LOCK_EX)

    def write() -> None:
        with write_transaction(engine) as cursor:
            statement.execute(cursor, row)

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(0.3)
    assert writer.is_alive(), "the transaction did not wait at the gate"
    fcntl.flock(other, fcntl.LOCK_UN)
    os.close(other)
    writer.join(10)
    assert not writer.is_alive()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.audit)).scalar() == 2
    engine.dispose()


def test_approval_decides_the_request_once(
    backend_ca: CertificateAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An approval's certificate and its request's decision are one transaction: a request
    denied meanwhile (after the approver read it) gets no certificate, and stays denied."""
    ca = backend_ca

    def sub_ca_request(n: int) -> bytes:
        key = generate_key(KeySpec("ec", 256))
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Branch CA {n}")])
        csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, SHA256())
        return csr.public_bytes(Encoding.PEM)

    first = ca.submit(sub_ca_request(1), requester="alice", template="SubCA")
    approved = ca.approve(first.request_id, actor="bob")
    assert approved.status == "issued" and approved.certificate is not None
    status = ca.request_status(first.request_id)
    assert (status["status"], status["serial"], status["decided_by"]) == (
        "issued", approved.serial, "bob"
    )  # fmt: skip

    second = ca.submit(sub_ca_request(2), requester="alice", template="SubCA")
    evaluate = authority.evaluate

    def denied_meanwhile(*args: Any, **kwargs: Any) -> Any:
        ca.deny(second.request_id, actor="carol", reason="not this one")
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(authority, "evaluate", denied_meanwhile)
    certificates = len(ca.certificates())
    with pytest.raises(CaError, match="decided meanwhile"):
        ca.approve(second.request_id, actor="bob")
    assert ca.request_status(second.request_id)["status"] == "denied"
    assert len(ca.certificates()) == certificates
