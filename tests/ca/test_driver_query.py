"""The CRL's read on the driver's cursor (lyncpki.ca.driver_query) gives the rows and values
`Connection.execute` gives, on SQLite and PostgreSQL, batch after batch (PostgreSQL: from a
server-side cursor), with the WHERE clause's bound values (a date among them) applied as
SQLAlchemy binds them; and a CRL's entries carry the revocation dates the database holds."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, insert, select, type_coerce

from lyncpki.ca import database as db
from lyncpki.ca.driver_query import DriverQuery

START = dt.datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=dt.UTC)
ROWS = 1_050  # more than two batches of 500


@pytest.fixture
def revocations(engine: Engine) -> Engine:
    """The CA database of `engine` with ROWS revoked certificates of two CAs."""
    with engine.begin() as conn:
        conn.execute(
            insert(db.certificates),
            [
                {
                    "serial": f"{n + 1:040x}", "ca": "issuing", "subject": "CN=x", "sans": "x",
                    "template": "WebServer", "requester": "t", "request_id": None,
                    "not_before": START, "not_after": START, "thumbprint": "AB" * 20,
                    "key": "ec-p256", "issued_at": START, "status": "revoked", "der": b"x",
                }
                for n in range(ROWS)
            ],
        )  # fmt: skip
        conn.execute(
            insert(db.revocations),
            [
                {
                    "serial": f"{n + 1:040x}",
                    "ca": "issuing" if n % 7 else "root",
                    "reason": ("keyCompromise", "superseded", "removeFromCRL")[n % 3],
                    # in and out of UTC, with and without microseconds
                    "revoked_at": (START + dt.timedelta(seconds=n * 61, microseconds=n)).astimezone(
                        dt.timezone(dt.timedelta(hours=n % 5 - 2))
                    ),
                    "revoked_by": "test",
                }
                for n in range(ROWS)
            ],
        )
    return engine


def _query(after: dt.datetime) -> object:
    r = db.revocations.c
    return (
        select(r.id, r.serial, type_coerce(r.revoked_at, db.CrlDate()), r.reason, r.revoked_at)
        .where(r.ca == "issuing", r.reason != "removeFromCRL", r.revoked_at > after)
        .order_by(r.id)
    )


def test_the_rows_are_those_connection_execute_gives(revocations: Engine) -> None:
    engine = revocations
    after = START + dt.timedelta(hours=2)
    statement = _query(after)
    with engine.begin() as conn:
        expected = [tuple(row) for row in conn.execute(statement)]  # type: ignore[call-overload]
        query = DriverQuery(statement, engine.dialect)  # type: ignore[arg-type]
        processors = [query.processor(i) for i in range(5)]
        batches = [
            [tuple(p(v) for p, v in zip(processors, row, strict=True)) for row in rows]
            for rows in query.batches(conn, 500)
        ]
    got = [row for rows in batches for row in rows]
    assert 500 < len(got) < ROWS  # the WHERE clause, its date among it, was applied
    assert [len(rows) for rows in batches[:-1]] == [500] * (len(batches) - 1)
    assert got == expected
    for _, _, naive, _, aware in got:
        assert naive.tzinfo is None and aware.tzinfo is not None
        assert naive == aware.astimezone(dt.UTC).replace(tzinfo=None)
    assert all(aware > after for *_, aware in got)
