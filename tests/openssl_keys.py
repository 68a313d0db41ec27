"""Keys for the requests the tests make with `openssl req`.

An RSA key takes openssl 50 to 300 ms to generate, and the tests make hundreds of requests whose
key nobody looks at twice; each process generates one RSA key of each size (with openssl) and
every request of that size is made on a copy of it. EC keys cost a millisecond: each request
still gets a new one."""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
from pathlib import Path

_folder: Path | None = None
_keys: dict[str, Path] = {}


def key_args(key: str, key_file: Path) -> list[str]:
    """`openssl req` arguments for a request on a `key` ("rsa:2048", "ec:P-256") written to
    `key_file`: a new EC key (-newkey), or a copy of this process's RSA key of that size."""
    if key.startswith("ec:"):
        return [
            "-newkey",
            "ec",
            "-pkeyopt",
            f"ec_paramgen_curve:{key[3:]}",
            "-keyout",
            str(key_file),
        ]
    shutil.copyfile(_rsa_key(key), key_file)
    key_file.chmod(0o600)
    return ["-key", str(key_file)]


def _rsa_key(key: str) -> Path:
    global _folder
    if key not in _keys:
        if _folder is None:
            _folder = Path(tempfile.mkdtemp(prefix="lyncpki-test-keys-"))
            atexit.register(shutil.rmtree, _folder, True)
        bits = key.partition(":")[2] or "2048"
        path = _folder / f"rsa{bits}.key"
        subprocess.run(
            ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{bits}",
             "-out", str(path)],
            check=True,
            capture_output=True,
        )  # fmt: skip
        _keys[key] = path
    return _keys[key]
