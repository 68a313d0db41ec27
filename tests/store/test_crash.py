"""SIGKILL in the middle of imports: afterwards the store loads, every file it refers to is
whole (certificates parse, keys are complete encrypted PEM), no file anywhere in it is half
written, and the next operation sweeps what the dead writer left."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from store_pki import Pki

from lyncpki.store import ServerStore

SERVER = "crash.contoso.net"
PASSWORD = b"pfx-crash-pass"
CHILD = """
import sys
from pathlib import Path
from lyncpki.enrollment.importing import import_file
from lyncpki.store import ServerStore
store = ServerStore(Path(sys.argv[1]), "crash.contoso.net")
print("ready", flush=True)
for path in sys.argv[2:]:
    import_file(store, Path(path), password="pfx-crash-pass", secret=b"crash-secret",
                exportable=True)
    print("imported", flush=True)
print("done", flush=True)
"""


def whole(store: ServerStore) -> int:
    """Assert the store is consistent and every file in it whole; the certificates it holds."""
    index = store.load()
    for entry in index.personal:
        store.certificate(entry.thumbprint)
        assert entry.key_id is not None and store.has_key(entry)
    store.trusted_certificates(index)
    for path in store.paths.root.rglob("*"):
        if path.is_dir() or path.name.endswith(".tmp") or path.name == ".lock":
            continue
        data = path.read_bytes()
        if path.suffix == ".crt":
            x509.load_pem_x509_certificate(data)
        elif path.suffix == ".key":
            assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
            assert data.endswith(b"-----END ENCRYPTED PRIVATE KEY-----\n")
    return len(index.personal)


@pytest.mark.slow
def test_sigkill_during_imports_never_leaves_half_a_store(tmp_path: Path, pki: Pki) -> None:
    files = []
    for n in range(40):
        cert, key = pki.leaf(f"host{n}.contoso.net")
        path = tmp_path / f"host{n}.pfx"
        path.write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"host", key, cert, [pki.root], BestAvailableEncryption(PASSWORD)
            )
        )
        files.append(str(path))
    home = tmp_path / "home"
    store = ServerStore(home, SERVER)
    rng = random.Random(20261201)
    kills = 0
    for _ in range(25):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(home), *files],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        # killed at a random point of the sequence, whatever this machine's speed: after a
        # random number of imports, a random moment into the next one
        for _ in range(rng.randrange(len(files) - 1)):
            assert child.stdout.readline().strip() == "imported"
        time.sleep(rng.uniform(0.0, 0.03))
        child.send_signal(signal.SIGKILL)
        child.wait()
        kills += child.returncode == -signal.SIGKILL
        whole(store)
    assert kills >= 20  # most runs were killed mid-way, not after finishing
    # a last, whole run completes what the killed ones began, and sweeps their temp files
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(home), *files], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert whole(store) == len(files)
    assert not list(store.paths.root.rglob("*.tmp"))
