"""Fixtures of the check tests: a lab of their own (they revoke), with an all-internal variant
of the Contoso topology, so that a clean deployment has nothing to report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from lab import CONTOSO, Lab, make_lab


@pytest.fixture(scope="session")
def internal_topology(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/contoso.yaml with every certificate from the internal CA (R-GEN-09 allows it
    for a lab), so that no public-facing name from the internal CA is warned about."""
    data = yaml.safe_load(CONTOSO.read_text())
    data["certificate_authorities"] = {"edge_external": "internal", "reverse_proxy": "internal"}
    path = tmp_path_factory.mktemp("topology") / "contoso-internal.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def check_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    served = make_lab(tmp_path_factory.mktemp("check-lab"))
    try:
        yield served
    finally:
        served.stop()
