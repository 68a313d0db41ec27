"""Fixtures of the CA tests: one shared CA for issuance and refusals, and a fresh CA for every
test that revokes, publishes or changes templates (so that no test sees another's CRL entries).

Both CAs use an RSA 2048 root to keep key generation fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from ca_tools import make_ca
from sqlalchemy import Engine

from lyncpki.ca import database as db
from lyncpki.ca.authority import CertificateAuthority


@pytest.fixture(scope="session")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    """The shared CA: issues, refuses, approves; never revokes."""
    return make_ca(tmp_path_factory.mktemp("shared-ca") / "home")


@pytest.fixture
def fresh_ca(tmp_path: Path) -> CertificateAuthority:
    """A CA of this test alone (revocations, CRLs, templates)."""
    return make_ca(tmp_path / "home")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_ca(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CertificateAuthority]:
    """A CA of this test alone on each database: SQLite in its home, then PostgreSQL."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    ca = make_ca(tmp_path / "home", url)
    try:
        yield ca
    finally:
        ca.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty CA database of this test alone on each database: a SQLite file, then
    PostgreSQL."""
    url = (
        f"sqlite:///{tmp_path / 'ca.sqlite'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    engine = db.connect(url, create=True)
    yield engine
    engine.dispose()


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder for requests, keys and certificates written for openssl."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder
