"""Fixtures of the CA tests: one shared CA for issuance and refusals, and a fresh CA for every
test that revokes, publishes or changes templates (so that no test sees another's CRL entries).

Both CAs use an RSA 2048 root to keep key generation fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ca_tools import NAMESPACE, PASSPHRASE

from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.keyspec import KeySpec


def make_ca(path: Path) -> CertificateAuthority:
    return CertificateAuthority.create(
        CaHome(path),
        passphrase=PASSPHRASE,
        name="Test Issuing CA",
        namespaces=(NAMESPACE,),
        root_key=KeySpec("rsa", 2048),
        key=KeySpec("rsa", 2048),
    )


@pytest.fixture(scope="session")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    """The shared CA: issues, refuses, approves; never revokes."""
    return make_ca(tmp_path_factory.mktemp("shared-ca") / "home")


@pytest.fixture
def fresh_ca(tmp_path: Path) -> CertificateAuthority:
    """A CA of this test alone (revocations, CRLs, templates)."""
    return make_ca(tmp_path / "home")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder for requests, keys and certificates written for openssl."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder
