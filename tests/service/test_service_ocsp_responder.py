"""The OCSP responder's own delegated certificate (<home>/ca/ocsp.crt) revoked while `lyncpki ca
serve` runs with two workers: it carries OCSP No Check, so relying parties never ask about it —
the service must stop signing with it at once. Every answer after the revocation (asked by
`openssl ocsp`, one connection each, so both workers answer) is signed by a new responder
certificate, which openssl verifies up to the root; a restart keeps the new one."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_tools import (
    Service,
    enroll_pem,
    free_port,
    init_ca,
    openssl,
    openssl_req,
    run_tool,
    serial_of,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.external

ROUNDS = 8


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Service]:
    """A CA of its own (its responder is revoked here), served by two workers."""
    port = free_port()
    home, work = tmp_path / "home", tmp_path / "relying-party"
    work.mkdir()
    init_ca(home, port, accounts=("fe01", "boss"))
    shutil.copyfile(home / "ca" / "root.crt", work / "root.crt")
    shutil.copyfile(home / "ca" / "issuing.crt", work / "issuing.crt")
    service = Service(home, port, work, tmp_path / "serve.log")
    service.process = start_server(home, port, service.log, workers=2)
    try:
        yield service
    finally:
        stop_server(service.process)


def _key_id(cert: Path) -> str:
    """The certificate's subject key identifier as openssl prints it, without colons: what
    openssl prints as an OCSP answer's Responder Id (byKey)."""
    text = openssl("x509", "-in", cert, "-noout", "-ext", "subjectKeyIdentifier")
    return text.strip().splitlines()[-1].strip().replace(":", "").upper()


def _ask(service: Service, cert: Path, *extra: str) -> tuple[str, str]:
    """`openssl ocsp -resp_text` about `cert`, verified up to the root: (status line, Responder
    Id)."""
    process = run_tool(
        "openssl",
        "ocsp",
        "-issuer",
        service.issuing_crt,
        "-cert",
        cert,
        "-url",
        f"{service.url}/ocsp",
        "-CAfile",
        service.root_crt,
        "-verify_other",
        service.issuing_crt,
        "-resp_text",
        *extra,
    )
    output = process.stdout + process.stderr
    assert process.returncode == 0, output
    assert "Response verify OK" in output, output
    responder = re.search(r"Responder Id: ([0-9A-F]+)", output)
    status = re.search(rf"^{re.escape(str(cert))}: (\w+)", output, re.MULTILINE)
    assert responder is not None and status is not None, output
    return status.group(1), responder.group(1)


def test_a_revoked_responder_certificate_is_replaced_at_once(served: Service, work: Path) -> None:
    leaf = enroll_pem(served, openssl_req(work))
    responder_file = served.home / "ca" / "ocsp.crt"
    old = work / "old-responder.crt"
    shutil.copyfile(responder_file, old)
    old_id = _key_id(old)
    for extra in ((), ("-no_nonce",), ("-no_nonce",)):  # signed, then cached nonce-less
        assert _ask(served, leaf, *extra) == ("good", old_id)

    revoked = served.cli("ca", "revoke", serial_of(old), "--reason", "keyCompromise").stdout
    assert "certificate of the OCSP responder" in revoked, revoked

    answers = [_ask(served, leaf, *extra) for extra in [(), ("-no_nonce",)] * (ROUNDS // 2)]
    new_id = _key_id(responder_file)
    assert new_id != old_id
    assert answers == [("good", new_id)] * ROUNDS  # never the revoked one again
    assert serial_of(responder_file) != serial_of(old)
    assert _ask(served, old) == ("revoked", new_id)  # what it says of the old one

    replacing = [
        re.search(r"replacing the revoked ([0-9a-f]+)", r["detail"])
        for r in served.audit()
        if r["action"] == "issue"
    ]
    replaced = [int(m.group(1), 16) for m in replacing if m is not None]
    assert replaced == [int(serial_of(old), 16)]  # one new certificate, for both workers

    stop_server(served.process)  # type: ignore[arg-type]
    served.process = start_server(served.home, served.port, served.log, workers=2)
    assert [_ask(served, leaf) for _ in range(2)] == [("good", new_id)] * 2
