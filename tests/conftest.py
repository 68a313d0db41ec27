"""Shared fixtures: paths of the repository's example topologies."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def contoso_yaml() -> Path:
    return ROOT / "examples" / "contoso.yaml"
