"""Fixtures of the store tests."""

from __future__ import annotations

import pytest
from store_pki import Pki, make_pki


@pytest.fixture(scope="session")
def pki() -> Pki:
    return make_pki()
