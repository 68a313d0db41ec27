"""A .pfx made by openssl for the store tests: a self-signed EC certificate and its key."""

from __future__ import annotations

from pathlib import Path

from lab import openssl


def make_pfx(folder: Path, name: str, password: str) -> tuple[Path, Path]:
    """`folder/name.pfx` for CN=`name`.contoso.net, protected by `password`; (pfx, certificate)."""
    key, cert, pfx = folder / f"{name}.key", folder / f"{name}.crt", folder / f"{name}.pfx"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", cert, "-subj", f"/CN={name}.contoso.net")  # fmt: skip
    openssl("pkcs12", "-export", "-inkey", key, "-in", cert, "-out", pfx,
            "-passout", f"pass:{password}")  # fmt: skip
    return pfx, cert
