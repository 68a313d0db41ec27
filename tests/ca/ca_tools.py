"""Helpers of the CA tests: requests made by `openssl req`, and every verdict asked of openssl.

Nothing here grades lyncpki with lyncpki: certificates and CRLs are written to files and read
back, verified and printed by openssl (and linted by pkilint in test_lint.py).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.keyspec import KeySpec
from openssl_keys import key_args

PASSPHRASE = b"test-passphrase"
NAMESPACE = "corp-test.se"
_counter = itertools.count(1)


def make_ca(path: Path, db_url: str | None = None) -> CertificateAuthority:
    return CertificateAuthority.create(
        CaHome(path),
        passphrase=PASSPHRASE,
        name="Test Issuing CA",
        namespaces=(NAMESPACE,),
        root_key=KeySpec("rsa", 2048),
        key=KeySpec("rsa", 2048),
        db_url=db_url,
    )


_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----\n?", re.DOTALL)


def openssl_binary() -> str:
    binary = shutil.which("openssl")
    if binary is None:
        pytest.skip("openssl is not installed")
    return binary


def run_openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run openssl; the result whatever the exit code (stdout and stderr as text)."""
    return subprocess.run(
        [openssl_binary(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def openssl(*args: str | Path) -> str:
    """Run openssl, which must succeed; its stdout."""
    process = run_openssl(*args)
    assert process.returncode == 0, (
        f"openssl {' '.join(map(str, args))} failed ({process.returncode}):\n"
        f"{process.stdout}\n{process.stderr}"
    )
    return process.stdout


def openssl_req(
    directory: Path,
    key: str = "rsa:2048",
    subject: str = "/CN=fe01.corp-test.se",
    sans: Sequence[str] | None = ("fe01.corp-test.se",),
    extra_args: Sequence[str] = (),
    *,
    der: bool = False,
) -> bytes:
    """A new key and a PKCS#10 request made by `openssl req`: the request's bytes (PEM, or DER
    with der=True). A SAN without a `type:` prefix is a DNS name."""
    n = next(_counter)
    key_file = directory / f"req{n}.key"
    out = directory / f"req{n}.{'der' if der else 'csr'}"
    args: list[str] = ["req", "-new", *key_args(key, key_file), "-nodes"]
    args += ["-subj", subject]
    if sans:
        names = ",".join(s if ":" in s else f"DNS:{s}" for s in sans)
        args += ["-addext", f"subjectAltName={names}"]
    args += list(extra_args)
    if der:
        args += ["-outform", "DER"]
    openssl(*args, "-out", str(out))
    return out.read_bytes()


def write_pem(directory: Path, name: str, certificate: x509.Certificate) -> Path:
    path = directory / name
    path.write_bytes(certificate.public_bytes(Encoding.PEM))
    return path


def ca_file(ca: CertificateAuthority, which: str) -> Path:
    """root.crt / issuing.crt of the CA home, as written by the CA (PEM)."""
    return ca.home.cert_file(which)


def crl_pem(ca: CertificateAuthority, *, root: bool = False, delta: bool = False) -> Path:
    """The published CRL (PEM copy) of the issuing CA, or of the root."""
    slug = ca.config.root_slug if root else ca.config.slug
    return ca.home.crl_file(slug, delta=delta, pem=True)


def verify(
    ca: CertificateAuthority,
    certificate: Path,
    *,
    crls: Sequence[Path] = (),
    flags: Sequence[str] = (),
    untrusted: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """`openssl verify -CAfile root.crt -untrusted issuing.crt [flags] [-CRLfile ...] cert`."""
    args: list[str | Path] = ["verify", "-CAfile", ca_file(ca, "root")]
    args += ["-untrusted", untrusted or ca_file(ca, "issuing")]
    args += list(flags)
    for crl in crls:
        args += ["-CRLfile", crl]
    args.append(certificate)
    return run_openssl(*args)


def assert_verifies(ca: CertificateAuthority, certificate: Path, **kwargs: object) -> None:
    process = verify(ca, certificate, **kwargs)  # type: ignore[arg-type]
    assert process.returncode == 0, process.stdout + process.stderr
    assert process.stdout.strip() == f"{certificate}: OK", process.stdout + process.stderr


def x509_text(path: Path, *, inform: str = "PEM") -> str:
    return openssl("x509", "-in", path, "-inform", inform, "-noout", "-text")


def crl_text(path: Path) -> str:
    inform = "PEM" if path.read_bytes().startswith(b"-----") else "DER"
    return openssl("crl", "-in", path, "-inform", inform, "-noout", "-text")


def crl_number(path: Path) -> int:
    """The CRL number as openssl reads it (`crlNumber=0x03`)."""
    inform = "PEM" if path.read_bytes().startswith(b"-----") else "DER"
    line = openssl("crl", "-in", path, "-inform", inform, "-noout", "-crlnumber").strip()
    assert line.startswith("crlNumber="), line
    return int(line.removeprefix("crlNumber="), 16)


def serial_of(path: Path) -> str:
    """The serial as `openssl x509 -serial` prints it: uppercase hex, no separators."""
    line = openssl("x509", "-in", path, "-noout", "-serial").strip()
    assert line.startswith("serial="), line
    return line.removeprefix("serial=")


def colon_serial_of(path: Path) -> str:
    """The serial as `openssl x509 -text` prints it: `30:26:86:...`."""
    match = re.search(r"Serial Number:\s*\n\s+([0-9a-f:]+)\s*\n", x509_text(path))
    assert match, "no colon-separated serial in openssl's output"
    return match.group(1)


def dates_of(path: Path) -> tuple[dt.datetime, dt.datetime]:
    """notBefore and notAfter as openssl prints them (ISO 8601, UTC)."""
    out = openssl("x509", "-in", path, "-noout", "-startdate", "-enddate", "-dateopt", "iso_8601")
    values = dict(line.split("=", 1) for line in out.strip().splitlines())

    def parse(text: str) -> dt.datetime:
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=dt.UTC)

    return parse(values["notBefore"]), parse(values["notAfter"])


def extension_block(text: str, title: str) -> str:
    """The lines openssl prints under one extension header (its value), header line included."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.strip().startswith(title):
            indent = len(line) - len(line.lstrip())
            block = [line]
            for following in lines[index + 1 :]:
                if len(following) - len(following.lstrip()) <= indent:
                    break
                block.append(following)
            return "\n".join(block)
    raise AssertionError(f"openssl shows no '{title}' in:\n{text}")


def key_identifier(text: str, title: str) -> str:
    """The hex of a SKI/AKI as openssl prints it (`keyid:` prefix of older versions dropped)."""
    block = extension_block(text, title).splitlines()[1:]
    value = " ".join(line.strip() for line in block)
    return value.removeprefix("keyid:").strip()


def pem_blocks(text: str) -> list[str]:
    return [m.group(0) for m in _PEM_BLOCK.finditer(text)]


def public_key_of_request(path: Path, *, inform: str = "PEM") -> str:
    return openssl("req", "-in", path, "-inform", inform, "-noout", "-pubkey")


def public_key_of_certificate(path: Path) -> str:
    return openssl("x509", "-in", path, "-noout", "-pubkey")
