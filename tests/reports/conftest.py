"""Fixtures of the report tests: the README's Contoso plan and a small two-site plan."""

from __future__ import annotations

import pytest
from report_samples import contoso_plan as _contoso_plan
from report_samples import small_plan as _small_plan

from lyncpki.planning import CertificatePlan


@pytest.fixture
def contoso_plan() -> CertificatePlan:
    return _contoso_plan()


@pytest.fixture
def small_plan() -> CertificatePlan:
    return _small_plan()
