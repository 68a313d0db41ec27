"""Enrollment over HTTPS with a client certificate this CA issued (a Lync server renewing with
its current MTLS certificate), checked with curl: accepted while valid, refused once revoked,
and a certificate without Client Authentication never gets through the TLS handshake."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_tools import (
    DOMAIN,
    SERVE,
    curl,
    free_port,
    init_ca,
    lyncpki,
    openssl,
    openssl_req,
    run_tool,
    serial_of,
    service_env,
    stop_server,
)

pytestmark = pytest.mark.external


@pytest.fixture(scope="module")
def https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    folder = tmp_path_factory.mktemp("https")
    home, port = folder / "home", free_port()
    init_ca(home, port, accounts=())
    # The service's own TLS certificate may come from anywhere: a throwaway self-signed one.
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", folder / "tls.key", "-out", folder / "tls.pem", "-subj", "/CN=localhost",
            "-days", "2")  # fmt: skip
    with (folder / "serve.log").open("ab") as log:
        process = subprocess.Popen(
            [*SERVE, "--home", str(home), "--port", str(port), "--tls-cert",
             str(folder / "tls.pem"), "--tls-key", str(folder / "tls.key")],
            stdout=log, stderr=subprocess.STDOUT, env=service_env(),
        )  # fmt: skip
    try:
        for _ in range(300):
            probe = run_tool("curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}",
                             f"https://127.0.0.1:{port}/health")  # fmt: skip
            if probe.stdout.strip() == "200":
                break
            time.sleep(0.1)
        yield folder, port
    finally:
        stop_server(process)


def _client(folder: Path, name: str, template: str) -> tuple[Path, Path]:
    """A key and a certificate issued by `lyncpki ca issue` under `template`."""
    csr = openssl_req(folder, f"/CN={name}.{DOMAIN}", (f"{name}.{DOMAIN}",))
    cert = folder / f"{name}.pem"
    lyncpki("ca", "issue", csr, "--template", template, "-o", cert, "--home", folder / "home")
    return cert, csr.with_suffix(".key")


def _enroll(folder: Path, port: int, cert: Path, key: Path) -> tuple[int, bytes]:
    csr = openssl_req(folder, f"/CN=new.{DOMAIN}", (f"new.{DOMAIN}",))
    answer = curl(folder, f"https://127.0.0.1:{port}/api/v1/enroll", "-k", "--cert", cert,
                  "--key", key, "--data-binary", f"@{csr}", "-H",
                  "Content-Type: application/pkcs10")  # fmt: skip
    return answer.status, answer.body


def test_a_valid_client_certificate_enrolls_and_a_revoked_one_is_refused(
    https: tuple[Path, int],
) -> None:
    folder, port = https
    cert, key = _client(folder, "fe01", "LyncServer")
    status, body = _enroll(folder, port, cert, key)
    assert status == 200, body
    issued = folder / "issued.pem"
    issued.write_bytes(body)
    home = folder / "home"
    check = run_tool("openssl", "verify", "-CAfile", home / "ca" / "root.crt", "-untrusted",
                     home / "ca" / "issuing.crt", issued)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    audit = lyncpki("ca", "audit", "--json", "--home", home).stdout
    assert f'"actor": "cert:fe01.{DOMAIN}/{serial_of(cert)}"' in audit

    lyncpki("ca", "revoke", serial_of(cert), "--home", home)
    status, body = _enroll(folder, port, cert, key)
    assert status == 401 and b"auth.certificate" in body


def test_no_certificate_and_no_account_is_401(https: tuple[Path, int]) -> None:
    folder, port = https
    answer = curl(folder, f"https://127.0.0.1:{port}/api/v1/enroll", "-k", "-X", "POST")
    assert answer.status == 401 and answer.json()["error"] == "auth.required"


def test_a_server_only_certificate_fails_the_handshake(https: tuple[Path, int]) -> None:
    """WebServer certificates lack Client Authentication: TLS refuses them as clients."""
    folder, port = https
    cert, key = _client(folder, "web01", "WebServer")
    csr = openssl_req(folder)
    process = run_tool("curl", "-sk", "--cert", cert, "--key", key, "--data-binary", f"@{csr}",
                       f"https://127.0.0.1:{port}/api/v1/enroll")  # fmt: skip
    assert process.returncode != 0  # no HTTP answer at all: the handshake failed


def test_another_certificate_of_the_same_name_is_another_identity(
    https: tuple[Path, int],
) -> None:
    """A client certificate was the account `cert:<its CN>`: a requester issued a certificate
    for a server's name (any name in the namespace is issued) read that server's pending
    requests, and would have collected their certificates. The identity is now the
    certificate: its name and serial."""
    folder, port = https
    home = folder / "home"
    owner = []
    for n in (1, 2):
        csr = openssl_req(folder, f"/CN=fe05.{DOMAIN}", (f"fe05.{DOMAIN}",))
        cert = folder / f"fe05-{n}.pem"
        lyncpki("ca", "issue", csr, "--template", "LyncServer", "-o", cert, "--home", home)
        owner.append((cert, csr.with_suffix(".key")))
    (first, first_key), (second, second_key) = owner
    pending = openssl_req(folder, "/CN=Corp Test Sub CA", None)
    answer = curl(folder, f"https://127.0.0.1:{port}/api/v1/enroll?template=SubCA", "-k",
                  "--cert", first, "--key", first_key, "--data-binary", f"@{pending}",
                  "-H", "Content-Type: application/pkcs10")  # fmt: skip
    assert answer.status == 202, answer.body
    request_id = answer.headers["x-request-id"]
    url = f"https://127.0.0.1:{port}/api/v1/requests/{request_id}"
    mine = curl(folder, url, "-k", "--cert", first, "--key", first_key)
    assert (
        mine.status == 200 and mine.json()["requester"] == f"cert:fe05.{DOMAIN}/{serial_of(first)}"
    )
    theirs = curl(folder, url, "-k", "--cert", second, "--key", second_key)
    assert theirs.status == 404, theirs.body


def test_a_revoked_tls_certificate_of_the_service_is_said_at_start(
    https: tuple[Path, int],
) -> None:
    """`ca serve --tls-cert` with a certificate this CA revoked served it without a word, and
    clients that check revocation refused every connection."""
    folder, _ = https
    cert, key = _client(folder, "tls-revoked", "WebServer")
    lyncpki("ca", "revoke", serial_of(cert), "--reason", "superseded", "--home", folder / "home")
    port, log = free_port(), folder / "serve-revoked.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*SERVE, "--home", str(folder / "home"), "--port", str(port), "--tls-cert",
             str(cert), "--tls-key", str(key)],
            stdout=out, stderr=subprocess.STDOUT, env=service_env(),
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while "clients refuse it" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        said = " ".join(log.read_text().split())
        assert f"(serial {serial_of(cert).lower().lstrip('0')}) is revoked by this CA" in said
        assert "superseded" in said and "fix: issue it a new one" in said
    finally:
        stop_server(process)
