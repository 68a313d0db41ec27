"""serial.not-positive and SHA-1 on certificates openssl made (pyca's builder makes neither a
negative serial nor, by default, a SHA-1 signature): openssl accepts both chains; the check
names each problem in its own finding, and prints no Python warning."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lab import lab_env, openssl

pytestmark = pytest.mark.external


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("odd-serials")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", folder / "root.key",
            "-out", folder / "root.crt", "-subj", "/CN=Odd Root", "-days", "30")  # fmt: skip
    (folder / "leaf.ext").write_text(
        "subjectAltName=DNS:pool01.contoso.net\nextendedKeyUsage=serverAuth\n"
        "crlDistributionPoints=URI:http://127.0.0.1:9/x.crl\n"
    )
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", folder / "leaf.key",
            "-out", folder / "leaf.csr", "-subj", "/CN=pool01.contoso.net")  # fmt: skip
    return folder


def _leaf(pki: Path, name: str, *more: str) -> Path:
    cert = pki / f"{name}.crt"
    openssl("x509", "-req", "-in", pki / "leaf.csr", "-CA", pki / "root.crt", "-CAkey",
            pki / "root.key", "-out", cert, "-days", "5", "-extfile", pki / "leaf.ext",
            *more)  # fmt: skip
    return cert


def _check(cert: Path, root: Path) -> tuple[dict[str, dict[str, str]], str]:
    process = subprocess.run(
        [sys.executable, "-m", "lyncpki", "check", "--cert", str(cert), "--trust", str(root),
         "--offline", "--json", "--home", str(cert.parent / "home")],
        capture_output=True, text=True, env=lab_env(), timeout=120, check=False,
    )  # fmt: skip
    assert process.returncode in (0, 1), process.stderr
    findings = json.loads(process.stdout)["findings"]
    return {f["id"]: f for f in findings}, process.stderr


@pytest.mark.parametrize("serial", ["0", "-7"])
def test_a_serial_that_is_not_positive_is_named(pki: Path, serial: str) -> None:
    cert = _leaf(pki, f"serial{serial}", "-set_serial", serial)
    assert ": OK" in openssl("verify", "-CAfile", pki / "root.crt", cert)  # openssl takes it
    found, stderr = _check(cert, pki / "root.crt")
    assert f"the serial number is {serial}" in found["serial.not-positive"]["message"]
    assert found["serial.not-positive"]["severity"] == "warning"
    assert "Warning" not in stderr and "wasn't positive" not in stderr, stderr


def test_a_sha1_signature_is_named_as_such(pki: Path) -> None:
    cert = _leaf(pki, "sha1", "-sha1", "-set_serial", "99")
    assert "sha1WithRSAEncryption" in openssl("x509", "-in", cert, "-noout", "-text")
    found, _ = _check(cert, pki / "root.crt")
    assert "signed with SHA-1" in found["signature.unsupported"]["message"]
    assert found["signature.unsupported"]["severity"] == "warning"
    # openssl validates the path; R-GEN-04 allows SHA-1: the trust that pyca cannot judge is
    # said as not judged, a warning (it was an error, "not trusted", and exit 1)
    assert ": OK" in openssl("verify", "-CAfile", pki / "root.crt", cert)
    assert found["chain.untrusted"]["severity"] == "warning"
    assert "not judged" in found["chain.untrusted"]["message"]
    assert [f for f in found.values() if f["severity"] == "error"] == []


def test_a_key_beside_the_certificates_does_not_stop_the_judgement(pki: Path) -> None:
    """A PEM with the chain and its key (key first or last, encrypted or not) was refused whole
    as "a bare private key": the certificate was never judged. It is judged; a key in clear is a
    warning of its own, an encrypted one nothing."""
    cert = _leaf(pki, "with-key", "-set_serial", "100")
    leaf_pem, root_pem = cert.read_bytes(), (pki / "root.crt").read_bytes()
    clear = (pki / "leaf.key").read_bytes()
    encrypted_key = pki / "leaf.enc.key"
    openssl("pkey", "-in", pki / "leaf.key", "-aes256", "-passout", "pass:x", "-out",
            encrypted_key)  # fmt: skip
    cases = {
        "key-last.pem": (leaf_pem + root_pem + clear, True),
        "key-first.pem": (clear + leaf_pem, True),
        "encrypted.pem": (encrypted_key.read_bytes() + leaf_pem, False),
    }
    for name, (data, warned) in cases.items():
        path = pki / name
        path.write_bytes(data)
        found, _ = _check(path, pki / "root.crt")
        assert "input.unreadable" not in found, (name, found)
        assert "san.missing" not in found and "chain.untrusted" not in found, (name, found)
        assert ("input.key-in-clear" in found) is warned, (name, found)
