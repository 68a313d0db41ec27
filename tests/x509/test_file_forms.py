"""Certificate files as Windows and openssl write them, all made here by openssl: PEM with the
UTF-8 byte-order mark PowerShell 5 and Notepad put first reads as without it; a PKCS#7 or a
.pfx that lacks what was asked for, and a file given as a request that is none, are named for
what they are, with a fix, and never with the ASN.1 parser's own report."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from lyncpki.errors import LyncPkiError
from lyncpki.x509.bundles import BundleError, load_bundle
from lyncpki.x509.requests import RequestError, read_request

pytestmark = pytest.mark.external

BOM = b"\xef\xbb\xbf"
PFX_PASSWORD = "forms-pfx-pw"


def openssl(*args: str | Path) -> bytes:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, check=True).stdout


@dataclass(frozen=True)
class Files:
    folder: Path

    def __truediv__(self, name: str) -> Path:
        return self.folder / name

    def bytes(self, name: str) -> bytes:
        return (self.folder / name).read_bytes()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    """A CA, a leaf it signed and the leaf's request, and the files made of them, by openssl."""
    f = Files(tmp_path_factory.mktemp("forms"))
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f / "ca.key", "-out", f / "ca.pem", "-subj", "/CN=Forms CA",
            "-days", "2")  # fmt: skip
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", f / "leaf.key",
            "-out", f / "leaf.req", "-subj", "/CN=fe01.contoso.net")  # fmt: skip
    openssl("x509", "-req", "-in", f / "leaf.req", "-CA", f / "ca.pem", "-CAkey", f / "ca.key",
            "-out", f / "leaf.pem", "-days", "1")  # fmt: skip
    openssl("x509", "-in", f / "leaf.pem", "-outform", "DER", "-out", f / "leaf.der")
    openssl("req", "-in", f / "leaf.req", "-outform", "DER", "-out", f / "leaf.req.der")
    openssl("crl2pkcs7", "-nocrl", "-certfile", f / "leaf.pem", "-certfile", f / "ca.pem",
            "-out", f / "chain.p7b.pem")  # fmt: skip
    openssl("crl2pkcs7", "-nocrl", "-certfile", f / "ca.pem", "-outform", "DER",
            "-out", f / "chain.p7b")  # fmt: skip
    openssl("crl2pkcs7", "-nocrl", "-outform", "DER", "-out", f / "empty.p7b")
    openssl("crl2pkcs7", "-nocrl", "-out", f / "empty.p7b.pem")
    openssl("pkcs8", "-topk8", "-in", f / "leaf.key", "-outform", "DER", "-nocrypt",
            "-out", f / "leaf.key.der")  # fmt: skip
    pfx = ("-passout", f"pass:{PFX_PASSWORD}")
    openssl("pkcs12", "-export", "-in", f / "leaf.pem", "-inkey", f / "leaf.key",
            "-out", f / "leaf.pfx", *pfx)  # fmt: skip
    openssl("pkcs12", "-export", "-in", f / "leaf.pem", "-nokeys", "-out", f / "nokey.pfx", *pfx)
    # the CA's key with the leaf's certificate: a key that matches none of the certificates
    openssl("pkcs12", "-export", "-inkey", f / "ca.key", "-nocerts", "-certfile", f / "leaf.pem",
            "-out", f / "mismatch.pfx", *pfx)  # fmt: skip
    return f


def fingerprints_by_openssl(pem: bytes) -> list[str]:
    """The SHA-256 fingerprints openssl prints of each certificate of a PEM text."""
    found = []
    for block in pem.split(b"-----END CERTIFICATE-----")[:-1]:
        line = subprocess.run(
            ["openssl", "x509", "-noout", "-fingerprint", "-sha256"],
            input=block + b"-----END CERTIFICATE-----\n",
            capture_output=True,
            check=True,
        ).stdout.decode()
        found.append(line.strip().split("=", 1)[1].replace(":", "").lower())
    return found


def fingerprints(certificates: list[x509.Certificate]) -> list[str]:
    return [c.fingerprint(hashes.SHA256()).hex() for c in certificates]


def assert_plain(error: LyncPkiError, *words: str) -> None:
    """A refusal that says `words`, has a fix and shows nothing of the parser's internals."""
    for word in words:
        assert word in error.message, error.message
    assert error.fix
    assert "ParseError" not in str(error) and "{" not in str(error), str(error)


# ---------------------------------------------------------------- UTF-8 byte-order mark
@pytest.mark.parametrize("name", ["leaf.pem", "chain.p7b.pem"], ids=["certificate", "pkcs7-pem"])
@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"], ids=["lf", "crlf"])
def test_pem_after_a_utf8_bom_is_read_as_openssl_reads_it(
    files: Files, name: str, line_end: bytes
) -> None:
    data = BOM + files.bytes(name).replace(b"\n", line_end)
    pem = files.bytes(name)
    if name.endswith(".p7b.pem"):
        pem = openssl("pkcs7", "-in", files / name, "-print_certs")
    expected = fingerprints_by_openssl(pem)
    assert expected
    bundle = load_bundle(data, name)
    assert sorted(fingerprints(bundle.certificates)) == sorted(expected)


def test_a_request_after_a_utf8_bom_is_read(files: Files) -> None:
    read = read_request(BOM + files.bytes("leaf.req").replace(b"\n", b"\r\n"), "bom.req")
    assert read.csr.public_bytes(Encoding.DER) == files.bytes("leaf.req.der")


def test_a_file_of_a_bom_alone_is_empty(files: Files) -> None:
    with pytest.raises(BundleError, match="is empty"):
        load_bundle(BOM + b"\r\n", "bom.cer")
    with pytest.raises(RequestError, match="is empty"):
        read_request(BOM + b"\r\n", "bom.req")


# ---------------------------------------------------------------- PKCS#7 and PKCS#12
@pytest.mark.parametrize("name", ["empty.p7b", "empty.p7b.pem"], ids=["der", "pem"])
def test_a_pkcs7_without_certificates_is_named(files: Files, name: str) -> None:
    with pytest.raises(BundleError) as caught:
        load_bundle(files.bytes(name), name)
    assert_plain(caught.value, "is a PKCS#7 chain that holds no certificate")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("nokey.pfx", "holds a certificate but no private key"),
        ("mismatch.pfx", "its private key matches none of its certificates"),
    ],
    ids=["no-key", "other-key"],
)
def test_a_pfx_without_the_key_of_its_certificate_is_named(
    files: Files, name: str, words: str
) -> None:
    with pytest.raises(BundleError) as caught:
        load_bundle(files.bytes(name), name, password=PFX_PASSWORD, pkcs12_hint=True)
    assert_plain(caught.value, words)
    assert "holds no certificate" not in caught.value.message


def test_a_pfx_with_its_key_still_opens(files: Files) -> None:
    bundle = load_bundle(files.bytes("leaf.pfx"), "leaf.pfx", password=PFX_PASSWORD)
    assert bundle.key is not None
    assert fingerprints(bundle.certificates) == fingerprints_by_openssl(files.bytes("leaf.pem"))


# ---------------------------------------------------------------- not a request
@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("chain.p7b", "a PKCS#7 chain"),
        ("chain.p7b.pem", "a PKCS#7 chain"),
        ("leaf.pem", "a certificate"),
        ("leaf.der", "a certificate"),
        ("leaf.pfx", "a PKCS#12 file"),
        ("leaf.key", "a private key"),
        ("leaf.key.der", "a private key"),
    ],
)
def test_what_is_given_as_a_request_but_is_none_is_named(
    files: Files, name: str, kind: str
) -> None:
    with pytest.raises(RequestError) as caught:
        read_request(files.bytes(name), name)
    assert_plain(caught.value, f"{name} is {kind}", "not a certificate request")
    assert caught.value.fix and "lyncpki import" in caught.value.fix


def test_a_request_cut_short_is_damaged_armor(files: Files) -> None:
    with pytest.raises(RequestError) as caught:
        read_request(files.bytes("leaf.req")[:600], "t.req")
    assert_plain(caught.value, "BEGIN without a matching END")
    assert "PEM but not a certificate request" not in caught.value.message


def test_a_damaged_request_is_refused_without_the_parser_report(files: Files) -> None:
    der = files.bytes("leaf.req.der")
    with pytest.raises(RequestError) as caught:
        read_request(der[:40] + b"\x00" * 20 + der[60:], "damaged.req")
    assert_plain(caught.value, "is not a valid PKCS#10 certificate request")


def test_the_der_of_a_single_pem_certificate_is_openssls_der(files: Files) -> None:
    """single_pem_der (store reads: the thumbprint hashed from these bytes) gives exactly the
    DER openssl writes, and nothing for a file that is more or other than one certificate."""
    from lyncpki.x509.forms import single_pem_der

    pem = files.bytes("leaf.pem")
    assert single_pem_der(pem) == files.bytes("leaf.der")
    assert single_pem_der(pem.replace(b"\n", b"\r\n")) == files.bytes("leaf.der")
    assert single_pem_der(pem + b"\n\n") == files.bytes("leaf.der")
    assert single_pem_der(pem + files.bytes("ca.pem")) is None  # two certificates
    assert single_pem_der(pem + b"trailing words\n") is None
    assert single_pem_der(b"subject=CN = x\n" + pem) is None  # openssl x509 -text style
    assert single_pem_der(files.bytes("leaf.der")) is None
    assert single_pem_der(files.bytes("leaf.req")) is None
    assert single_pem_der(pem[: len(pem) // 2]) is None  # truncated: no END line
