"""Fixtures of the enrollment tests: one lab (a Contoso CA served on loopback) for the session.
Each test works on its own servers' stores, so the shared lab serves them all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lab import Lab, make_lab


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    served = make_lab(tmp_path_factory.mktemp("lab"))
    try:
        yield served
    finally:
        served.stop()
