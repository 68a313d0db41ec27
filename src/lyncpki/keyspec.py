"""Key specifications (R-GEN-05): RSA 1024/2048/4096 or EC P-256/P-384/P-521.

A leaf value type shared by the topology (which parses it), the planner and the x509 layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

RSA_SIZES = (1024, 2048, 4096)
EC_CURVES = ("p256", "p384", "p521")

_RSA = re.compile(r"^rsa[-_ ]?(\d+)$")
_EC = re.compile(r"^(?:ec|ecdsa|ecdh)[-_ ]?(?:p|secp|p-)?(256|384|521)(?:r1)?$")


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One key type: `rsa` with a size in bits, or `ec` with a NIST curve."""

    algorithm: Literal["rsa", "ec"]
    size: int  # RSA modulus bits, or the curve's size (256, 384, 521)

    @classmethod
    def parse(cls, text: str) -> KeySpec:
        """Parse `rsa2048`, `RSA-4096`, `ec-p256`, `ECDH_P384` (the cmdlet's -KeyAlg name)."""
        value = text.strip().lower().replace("ecdh_", "ec-")
        if value == "rsa":
            return cls("rsa", 2048)
        if match := _RSA.match(value):
            size = int(match.group(1))
            if size not in RSA_SIZES:
                raise ValueError(
                    f"RSA key size {size} is not supported by Lync Server (1024, 2048 or 4096)"
                )
            return cls("rsa", size)
        if match := _EC.match(value):
            return cls("ec", int(match.group(1)))
        raise ValueError(
            f"unknown key type '{text}' "
            "(use rsa2048, rsa4096, rsa1024, ec-p256, ec-p384 or ec-p521)"
        )

    @property
    def name(self) -> str:
        """The spelling lyncpki prints and accepts: `rsa2048`, `ec-p256`."""
        return f"rsa{self.size}" if self.algorithm == "rsa" else f"ec-p{self.size}"

    @property
    def cmdlet_name(self) -> str:
        """Request-CsCertificate -KeyAlg: `RSA` or `ECDH_P256`."""
        return "RSA" if self.algorithm == "rsa" else f"ECDH_P{self.size}"

    @property
    def strength_bits(self) -> int:
        """Comparable strength: RSA modulus bits, EC curves counted as the RSA size they match."""
        if self.algorithm == "rsa":
            return self.size
        return {256: 3072, 384: 7680, 521: 15360}[self.size]

    def __str__(self) -> str:
        return self.name


DEFAULT_KEY = KeySpec("rsa", 2048)
