"""Fixtures of the service tests: one CA served by a real `lyncpki ca serve` for the session
(made by `lyncpki ca init` with an RSA 2048 root, its CRL/AIA/OCSP URLs on this server), and a
folder per test for requests and certificates written for openssl and curl.

Tests that revoke use certificates of their own, so the shared CA serves them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_tools import Service, make_service


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The CA service of the session: accounts fe01 (requester), boss and boss2 (managers)."""
    served = make_service(tmp_path_factory.mktemp("service"))
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder for this test's keys, requests, certificates and curl output."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder
