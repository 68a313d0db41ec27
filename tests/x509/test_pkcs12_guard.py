"""PKCS#12 files opened in a child process with a time limit: what openssl put in a .pfx comes
back whole, and a file whose key derivation is set to take far too long is stopped."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from lyncpki.x509 import pkcs12_guard
from lyncpki.x509.bundles import BundleError, load_bundle
from lyncpki.x509.pkcs12_child import _open
from lyncpki.x509.pkcs12_guard import Pkcs12TooSlow, looks_like_pkcs12, open_pkcs12

pytestmark = pytest.mark.external


def openssl(*args: str | Path) -> bytes:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, check=True).stdout


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A .pfx exported by openssl: a leaf, its key, its issuing CA."""
    folder = tmp_path_factory.mktemp("pfx")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", folder / "ca.key", "-out", folder / "ca.pem", "-subj", "/CN=Guard CA",
            "-days", "2")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", folder / "leaf.key",
            "-out", folder / "leaf.csr", "-subj", "/CN=fe01.contoso.net")  # fmt: skip
    openssl("x509", "-req", "-in", folder / "leaf.csr", "-CA", folder / "ca.pem",
            "-CAkey", folder / "ca.key", "-out", folder / "leaf.pem", "-days", "1")  # fmt: skip
    openssl("pkcs12", "-export", "-in", folder / "leaf.pem", "-inkey", folder / "leaf.key",
            "-certfile", folder / "ca.pem", "-name", "Lync Default", "-passout", "pass:pfx-pw",
            "-out", folder / "leaf.pfx")  # fmt: skip
    return folder


def test_what_openssl_exported_comes_back(exported: Path) -> None:
    opened = open_pkcs12((exported / "leaf.pfx").read_bytes(), b"pfx-pw")
    leaf = x509.load_pem_x509_certificate((exported / "leaf.pem").read_bytes())
    ca = x509.load_pem_x509_certificate((exported / "ca.pem").read_bytes())
    assert opened.certificate == leaf and opened.additional == [ca]
    assert opened.friendly_name == b"Lync Default"
    assert opened.key is not None
    assert opened.key.public_key() == leaf.public_key()  # type: ignore[union-attr]
    # the same key as openssl's own file, compared by what openssl prints of it
    ours = opened.key.private_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    theirs = openssl("pkey", "-in", exported / "leaf.key", "-pubout")
    shown = subprocess.run(
        ["openssl", "pkey", "-pubout"], input=ours, capture_output=True, check=True
    ).stdout
    assert shown == theirs


def test_a_wrong_password_is_pycas_refusal(exported: Path) -> None:
    with pytest.raises(ValueError):
        open_pkcs12((exported / "leaf.pfx").read_bytes(), b"not-the-password")


def test_the_key_never_crosses_the_pipe_in_clear(exported: Path) -> None:
    transport = b"t" * 32
    answer = _open(
        {
            "data": base64.b64encode((exported / "leaf.pfx").read_bytes()).decode(),
            "password": base64.b64encode(b"pfx-pw").decode(),
            "transport": base64.b64encode(transport).decode(),
        }
    )
    key = base64.b64decode(answer["key"])
    with pytest.raises(TypeError):  # encrypted: no key without the one-time password
        serialization.load_der_private_key(key, None)
    assert serialization.load_der_private_key(key, transport) is not None
    assert "PRIVATE" not in json.dumps(answer)


def _slow_pfx() -> bytes:
    """A .pfx whose key and certificate bags each ask for 5,000,000 PBKDF2 rounds (about a
    second each here; real exports use 2,000): a stand-in for one that asks for 2^31."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "slow.contoso.net")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(5_000_000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(b"pw")
    )
    return pkcs12.serialize_key_and_certificates(b"slow", key, cert, None, encryption)


def test_a_file_set_to_take_too_long_is_stopped(
    monkeypatch: pytest.MonkeyPatch, exported: Path
) -> None:
    slow = _slow_pfx()
    with pytest.raises(Pkcs12TooSlow):
        open_pkcs12(slow, b"pw", limit=0.2)
    # the reader was stopped with the file: the next file opens in a new one
    assert open_pkcs12((exported / "leaf.pfx").read_bytes(), b"pfx-pw").key is not None
    monkeypatch.setattr(pkcs12_guard, "LIMIT_SECONDS", 0.2)
    with pytest.raises(BundleError) as refused:
        load_bundle(slow, "slow.pfx", password="pw", pkcs12_hint=True)
    assert "was not opened" in refused.value.message and "export it again" in refused.value.fix


def test_a_reader_killed_between_two_files_is_started_again(exported: Path) -> None:
    data = (exported / "leaf.pfx").read_bytes()
    assert open_pkcs12(data, b"pfx-pw").key is not None
    reader = pkcs12_guard._READER._child
    assert reader is not None
    reader.kill()
    reader.wait()
    assert open_pkcs12(data, b"pfx-pw").key is not None  # a new reader, not an error
    assert pkcs12_guard._READER._child is not reader


READER_OF_A_KILLED_PARENT = """
import os, sys, time
from pathlib import Path
from lyncpki.x509 import pkcs12_guard
pkcs12_guard.open_pkcs12(Path(sys.argv[1]).read_bytes(), b"pfx-pw")
print(pkcs12_guard._READER._child.pid, flush=True)
time.sleep(60)
"""


def test_the_reader_ends_with_the_process_it_serves(exported: Path) -> None:
    """One reader opens every file of a process; killed, the process leaves no reader behind."""
    parent = subprocess.Popen(
        [sys.executable, "-c", READER_OF_A_KILLED_PARENT, str(exported / "leaf.pfx")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    reader = int(parent.stdout.readline())
    assert _running(reader)
    parent.kill()
    parent.wait()
    for _ in range(100):
        if not _running(reader):
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the reader {reader} outlived the process it served")


def _running(pid: int) -> bool:
    """Whether `pid` runs (an ended process that its new parent has not collected yet, a
    zombie, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_only_what_begins_as_a_pfx_is_opened(exported: Path) -> None:
    assert looks_like_pkcs12((exported / "leaf.pfx").read_bytes())
    leaf = x509.load_pem_x509_certificate((exported / "leaf.pem").read_bytes())
    for other in (
        (exported / "leaf.pem").read_bytes(),
        leaf.public_bytes(serialization.Encoding.DER),
        b"",
        b"\x30\x03\x02\x01",
    ):
        assert not looks_like_pkcs12(other)
    with pytest.raises(BundleError, match="is not a PKCS#12 file"):
        load_bundle(b"\x30\x05\x02\x01\x01\x05\x00", "text.pfx", pkcs12_hint=True)
