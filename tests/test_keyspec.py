"""Key specifications as the topology, the cmdlets and the CLI spell them (R-GEN-05)."""

from __future__ import annotations

import pytest

from lyncpki.keyspec import KeySpec


@pytest.mark.parametrize(
    ("text", "algorithm", "size", "name"),
    [
        ("rsa2048", "rsa", 2048, "rsa2048"),
        ("RSA-4096", "rsa", 4096, "rsa4096"),
        ("rsa", "rsa", 2048, "rsa2048"),
        ("rsa1024", "rsa", 1024, "rsa1024"),
        ("ec-p256", "ec", 256, "ec-p256"),
        ("ECDH_P384", "ec", 384, "ec-p384"),
        ("ecdsa-p521", "ec", 521, "ec-p521"),
    ],
)
def test_parse(text: str, algorithm: str, size: int, name: str) -> None:
    spec = KeySpec.parse(text)
    assert (spec.algorithm, spec.size, spec.name) == (algorithm, size, name)


@pytest.mark.parametrize("text", ["rsa3072", "rsa512", "ec-p224", "dsa1024", ""])
def test_refuses_what_lync_does_not_support(text: str) -> None:
    with pytest.raises(ValueError):
        KeySpec.parse(text)


def test_cmdlet_names() -> None:
    assert KeySpec.parse("rsa2048").cmdlet_name == "RSA"
    assert KeySpec.parse("ec-p256").cmdlet_name == "ECDH_P256"


def test_strength_orders_ec_above_rsa2048() -> None:
    assert KeySpec.parse("ec-p256").strength_bits > KeySpec.parse("rsa2048").strength_bits
    assert KeySpec.parse("rsa1024").strength_bits < 2048
