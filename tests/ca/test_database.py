"""The CA database itself: append-only audit on SQLite and PostgreSQL, clear URL errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import DBAPIError

from lyncpki.ca import database as db
from lyncpki.errors import LyncPkiError


def _audit_row() -> dict[str, object]:
    return {"at": dt.datetime.now(dt.UTC), "actor": "t", "action": "init", "target": "x",
            "outcome": "ok", "detail": "first"}  # fmt: skip


def _assert_append_only(url: str) -> None:
    engine = db.connect(url, create=True)
    with engine.begin() as conn:
        conn.execute(insert(db.audit), _audit_row())
    for statement in (update(db.audit).values(detail="rewritten"), delete(db.audit)):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    with engine.connect() as conn:
        rows = conn.execute(db.audit.select()).all()
    assert [r.detail for r in rows] == ["first"]
    engine.dispose()


def test_audit_is_append_only_on_sqlite(tmp_path: Path) -> None:
    _assert_append_only(f"sqlite:///{tmp_path / 'ca.sqlite'}")


def test_audit_is_append_only_on_postgresql(postgres_url: str) -> None:
    _assert_append_only(postgres_url)


def test_create_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ca.sqlite'}"
    db.connect(url, create=True).dispose()
    db.connect(url, create=True).dispose()  # triggers and tables already there: no error


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(LyncPkiError, match="cannot use database URL"):
        db.connect("nosuchdb://x")


def test_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(LyncPkiError, match="cannot open the CA database") as caught:
        db.connect("postgresql+psycopg://postgres:secret@127.0.0.1:1/none", create=True)
    assert "secret" not in str(caught.value)


def test_passwords_are_redacted() -> None:
    assert db.redact("postgresql+psycopg://ca:s3cret@db:5432/pki") == (
        "postgresql+psycopg://ca:***@db:5432/pki"
    )
    assert "s3cret" not in db.redact("postgresql://u:s3cret@h/d")
