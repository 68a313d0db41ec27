"""The password of a .pfx written here: a blank one, one of a few letters, or one with blanks
at its ends protected the private key the file carries; refused now, and a password of the
least length accepted gives a file openssl opens with it."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lyncpki.x509.bundles import MIN_PFX_PASSWORD, BundleError, export_pkcs12

KEY = ec.generate_private_key(ec.SECP256R1())
NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pfx.contoso.net")])
CERT = (
    x509.CertificateBuilder()
    .subject_name(NAME)
    .issuer_name(NAME)
    .public_key(KEY.public_key())
    .serial_number(7)
    .not_valid_before(dt.datetime(2026, 1, 1))
    .not_valid_after(dt.datetime(2027, 1, 1))
    .sign(KEY, hashes.SHA256())
)


@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("", "needs a password"),
        (" ", "needs a password"),
        ("abc", f"shorter than {MIN_PFX_PASSWORD} characters"),
        (" padded-password ", "begins or ends with a blank"),
    ],
)
def test_a_weak_pfx_password_is_refused(password: str, words: str) -> None:
    with pytest.raises(BundleError, match=words) as caught:
        export_pkcs12(KEY, CERT, [], password=password, friendly_name="x")
    assert "--password" in str(caught.value.fix)


def test_the_least_password_makes_a_pfx_openssl_opens(tmp_path: Path) -> None:
    password = "eight-ch"
    assert len(password) == MIN_PFX_PASSWORD
    pfx = tmp_path / "x.pfx"
    pfx.write_bytes(export_pkcs12(KEY, CERT, [], password=password, friendly_name="x"))
    opened = subprocess.run(
        ["openssl", "pkcs12", "-in", str(pfx), "-nokeys", "-passin", "stdin"],
        input=password + "\n", capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert opened.returncode == 0 and "subject=CN = pfx.contoso.net" in opened.stdout, opened.stderr
