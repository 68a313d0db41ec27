"""SIGKILL at random points of issuance, revocation with CRL publication, import and
assignment, again and again. After each kill: the CA database, the published CRLs and every
store load; every certificate a killed process reported issued is in the database; every
revocation it reported is in the next CRL; no file is half written.

The short form kills 8 times per operation; `make reliability` 50 (200 in all)."""

from __future__ import annotations

import datetime as dt
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, pkcs12
from cryptography.x509.oid import NameOID
from scoreboard import LONG, Scoreboard

from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.keyspec import KeySpec
from lyncpki.store import ServerStore

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
KILLS = 70 if LONG else 8  # the long form: 210 kills in all
PASSPHRASE = b"crash-passphrase"

ISSUE = """
import sys
from pathlib import Path
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
ca = CertificateAuthority.open(CaHome(Path(sys.argv[1])), b"crash-passphrase")
requests = [Path(p).read_bytes() for p in sys.argv[2:]]
print("ready", flush=True)
for pem in requests:
    result = ca.submit(pem, requester="crash")
    print(f"issued {result.serial}", flush=True)
"""

REVOKE = """
import sys
from pathlib import Path
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
ca = CertificateAuthority.open(CaHome(Path(sys.argv[1])), b"crash-passphrase")
print("ready", flush=True)
for serial in sys.argv[2:]:
    ca.revoke(serial, actor="crash")
    print(f"revoked {serial}", flush=True)
    ca.publish_crl(actor="crash")
    ca.publish_crl(actor="crash", delta=True)
    print(f"published {serial}", flush=True)
"""


def requests(folder: Path, count: int) -> list[Path]:
    paths = []
    for n in range(count):
        key = ec.generate_private_key(ec.SECP256R1())
        name = f"host{n}.contoso.net"
        pem = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256())
            .public_bytes(Encoding.PEM)
        )
        path = folder / f"r{n}.csr"
        path.write_bytes(pem)
        paths.append(path)
    return paths


def killed(script: str, args: list[str], rng: random.Random, longest: float) -> list[str]:
    """Run `script`, SIGKILL it after a random moment; the whole lines it printed (a line the
    kill cut short acknowledges nothing: print writes its pieces one by one when the output is
    unbuffered, so "issued" may come without its serial)."""
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    time.sleep(rng.uniform(0, longest))
    child.send_signal(signal.SIGKILL)
    rest = child.stdout.read()
    child.wait()
    return rest.split("\n")[:-1]  # the last piece is what follows the last newline


@pytest.fixture
def ca_home(tmp_path: Path) -> CaHome:
    home = CaHome(tmp_path / "home")
    ca = CertificateAuthority.create(
        home,
        passphrase=PASSPHRASE,
        namespaces=("contoso.net",),
        root_key=KeySpec("ec", 256),
        key=KeySpec("ec", 256),
    )
    ca.engine.dispose()
    return home


def whole_crls(home: CaHome, slug: str) -> x509.CertificateRevocationList:
    """Both published forms of the CRL parse (an atomic write never leaves half of one)."""
    crl = x509.load_der_x509_crl(home.crl_file(slug).read_bytes())
    x509.load_pem_x509_crl(home.crl_file(slug, pem=True).read_bytes())
    x509.load_der_x509_crl(home.crl_file(slug, delta=True).read_bytes())
    return crl


def test_sigkill_during_issuance(ca_home: CaHome, tmp_path: Path, scoreboard: Scoreboard) -> None:
    rng = random.Random(1201)
    paths = [str(p) for p in requests(tmp_path, 60)]
    acknowledged: set[str] = set()
    for _ in range(KILLS):
        lines = killed(ISSUE, [str(ca_home.root), *paths], rng, 0.4)
        acknowledged |= {line.split()[1] for line in lines if line.startswith("issued")}
        ca = CertificateAuthority.open(ca_home, None)
        stored = {row["serial"] for row in ca.certificates()}
        rows = len(ca.certificates())
        ca.engine.dispose()
        assert acknowledged <= stored  # nothing reported issued is lost
        assert rows == len(stored)  # serials distinct
    assert acknowledged, "no issuance completed before the kills: nothing was tested"
    scoreboard.record(
        "crash: SIGKILL during issuance",
        f"{KILLS} kills",
        0,
        0,
        f"{len(acknowledged)} acknowledged issuances all stored",
    )


def test_sigkill_during_revocation_and_crl_publication(
    ca_home: CaHome, tmp_path: Path, scoreboard: Scoreboard
) -> None:
    rng = random.Random(1202)
    ca = CertificateAuthority.open(ca_home, PASSPHRASE)
    serials = [
        ca.submit(p.read_bytes(), requester="crash").serial or ""
        for p in requests(tmp_path, 4 * KILLS)
    ]
    ca.engine.dispose()
    revoked: set[str] = set()
    pending = list(serials)
    for _ in range(KILLS):
        if len(pending) < 2:
            break
        lines = killed(REVOKE, [str(ca_home.root), *pending], rng, 0.3)
        revoked |= {line.split()[1] for line in lines if line.startswith("revoked")}
        ca = CertificateAuthority.open(ca_home, PASSPHRASE)
        stored = {r["serial"] for r in ca.certificates(status="revoked")}
        assert revoked <= stored
        whole_crls(ca_home, ca.config.slug)
        ca.publish_crl(actor="check")  # the next CRL lists every revocation made
        listed = {format(e.serial_number, "x") for e in whole_crls(ca_home, ca.config.slug)}
        assert {s.lstrip("0") for s in stored} <= {s.lstrip("0") for s in listed}
        pending = [s for s in serials if s not in stored]
        ca.engine.dispose()
    assert revoked
    scoreboard.record(
        "crash: SIGKILL during revocation + CRL",
        f"{KILLS} kills",
        0,
        0,
        f"{len(revoked)} acknowledged revocations all in the next CRL",
    )


IMPORT_AND_ASSIGN = """
import sys
from pathlib import Path
from lyncpki.enrollment.importing import import_file
from lyncpki.store import ServerStore
store = ServerStore(Path(sys.argv[1]), "crash.contoso.net")
print("ready", flush=True)
for path in sys.argv[2:]:
    result = import_file(store, Path(path), password="pfx", secret=b"crash-secret", exportable=True)
    store.assign("Default", result.certificate.thumbprint)
    print(f"assigned {result.certificate.thumbprint}", flush=True)
"""


def test_sigkill_during_import_and_assignment(tmp_path: Path, scoreboard: Scoreboard) -> None:
    rng = random.Random(1203)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Crash Root")])
    now = dt.datetime.now(dt.UTC)
    files = []
    for n in range(30):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"h{n}.contoso.net")]))
            .issuer_name(root_name)
            .public_key(key.public_key())
            .serial_number(n + 1)
            .not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=30))
            .sign(root_key, hashes.SHA256())
        )
        path = tmp_path / f"h{n}.pfx"
        path.write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"h", key, cert, None, BestAvailableEncryption(b"pfx")
            )
        )
        files.append(str(path))
    home = tmp_path / "home"
    store = ServerStore(home, "crash.contoso.net")
    for _ in range(KILLS):
        lines = killed(IMPORT_AND_ASSIGN, [str(home), *files], rng, 0.4)
        assigned = [line.split()[1] for line in lines if line.startswith("assigned")]
        index = store.load()  # loads
        for entry in index.personal:
            store.certificate(entry.thumbprint)  # whole
            assert store.has_key(entry)
        if assigned:  # the last acknowledged assignment is current, or a later one is
            current = index.slots("Default", now).current
            assert current is not None
    scoreboard.record(
        "crash: SIGKILL during import + assignment",
        f"{KILLS} kills",
        0,
        0,
        "store loads, every file whole",
    )
