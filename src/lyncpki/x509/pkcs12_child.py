"""The child side of `pkcs12_guard`: opens PKCS#12 files with pyca/cryptography.

Reads one JSON object a line on stdin (`data`, `password`, `transport`, base64; `alarm`,
seconds), writes one a line on stdout: `error`, or the certificate, the other certificates, the
friendly name and the private key re-encrypted (PKCS#8) with the one-time `transport` password
the parent chose, so that the key never crosses the pipe in clear. Ends at the end of its
input. Each file is opened under an alarm (SIGALRM, whose default action ends the process): a
file set to take hours stops this process even when the parent is gone. Run as
`python -m lyncpki.x509.pkcs12_child`.
"""

from __future__ import annotations

import base64
import json
import signal
import sys
import warnings
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _open(request: dict[str, Any]) -> dict[str, Any]:
    data = base64.b64decode(request["data"])
    password = None if request["password"] is None else base64.b64decode(request["password"])
    transport = base64.b64decode(request["transport"])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            loaded = pkcs12.load_pkcs12(data, password)
    except Exception as error:  # whatever pyca raises, the parent decides what it means
        return {"error": str(error) or type(error).__name__}
    der = serialization.Encoding.DER
    return {
        "certificate": _b64(loaded.cert.certificate.public_bytes(der)) if loaded.cert else None,
        "friendly_name": _b64(loaded.cert.friendly_name) if loaded.cert else None,
        "additional": [_b64(c.certificate.public_bytes(der)) for c in loaded.additional_certs],
        "key": _b64(
            loaded.key.private_bytes(
                der,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(transport),
            )
        )
        if loaded.key is not None
        else None,
    }


def main() -> None:
    alarm = getattr(signal, "alarm", None)  # not on Windows: the parent's limit still holds
    for line in sys.stdin:
        request = json.loads(line)
        if alarm is not None:
            alarm(int(request.get("alarm", 0)))
        answer = _open(request)
        if alarm is not None:
            alarm(0)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
