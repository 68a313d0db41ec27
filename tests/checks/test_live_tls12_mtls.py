"""A TLS 1.2-only mutual-TLS listener, as a real Lync Server 2013 :5061 is (no TLS 1.3).

Probed with a client certificate, TLS 1.3's "protocol version" alert was `mtls.refused`: an
alert about the protocol is no verdict on the client certificate. Probed without one, TLS 1.3
was "offers neither TLS 1.2 nor TLS 1.3" and the certificate the server sent before its
CertificateRequest was never judged. openssl s_client judges the same servers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from test_live import FE01_DEFAULT, PFX_PASSWORD, issue, live_check, s_server

from lab import Lab, openssl

pytestmark = pytest.mark.external


def _s_client(port: int, *more: str | Path) -> str:
    said = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
         FE01_DEFAULT[1], "-verify_hostname", FE01_DEFAULT[1], *map(str, more)],
        input="", capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    return said.stdout + said.stderr


def test_mutual_tls_with_a_tls_1_2_only_listener_is_no_refusal(
    check_lab: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    lab = check_lab
    cert, key = issue(lab, tmp_path, "server12", FE01_DEFAULT, "WebServer")
    client_cert, client_key = issue(lab, tmp_path, "client12", ("fe02.contoso.net",), "LyncServer")
    pfx = tmp_path / "client.pfx"
    openssl("pkcs12", "-export", "-inkey", client_key, "-in", client_cert, "-out", pfx,
            "-passout", f"pass:{PFX_PASSWORD}")  # fmt: skip
    issuing = lab.home / "ca" / "issuing.crt"
    trust = tmp_path / "trust.pem"
    trust.write_text((lab.home / "ca" / "root.crt").read_text() + issuing.read_text())
    with s_server("-cert", cert, "-key", key, "-cert_chain", issuing, "-no_tls1_3",
                  "-Verify", "2", "-CAfile", trust, "-verify_return_error") as port:  # fmt: skip
        said = _s_client(port, "-CAfile", trust, "-cert", client_cert, "-key", client_key,
                         "-cert_chain", issuing, "-verify_return_error")  # fmt: skip
        report = live_check(lab, internal_topology, port, "--offline", "--client-pfx", pfx,
                            LYNCPKI_PFX_PASSWORD=PFX_PASSWORD)  # fmt: skip
    assert "Protocol  : TLSv1.2" in said or "Protocol: TLSv1.2" in said, said[-800:]
    assert "Verify return code: 0 (ok)" in said, said[-800:]
    ids = {f["id"] for f in report["findings"]}
    assert "mtls.refused" not in ids, report["findings"]
    assert ids <= {"tls.version"}, report["findings"]
    assert report["exit"] == 0, report["findings"]
    assert all(h["ok"] for h in report["handshakes"] if h["version"] == "TLSv1.2")


def test_a_tls_1_2_listener_requiring_a_client_certificate_is_still_judged(
    check_lab: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    wrong_key, wrong = tmp_path / "wrong.key", tmp_path / "wrong.crt"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", wrong_key, "-out", wrong,
            "-days", "5", "-subj", "/CN=wrong.example.org",
            "-addext", "subjectAltName=DNS:wrong.example.org")  # fmt: skip
    root = check_lab.home / "ca" / "root.crt"
    with s_server("-cert", wrong, "-key", wrong_key, "-no_tls1_3", "-Verify", "2",
                  "-CAfile", root, "-verify_return_error") as port:  # fmt: skip
        said = _s_client(port, "-CAfile", root, "-verify_return_error")
        report = live_check(check_lab, internal_topology, port, "--offline")
    assert "self-signed certificate" in said, said[-800:]
    ids = {f["id"] for f in report["findings"]}
    # TLS 1.2 works (it ended only for want of a client certificate): no handshake error
    assert "tls.handshake" not in ids, report["findings"]
    assert {"tls.client-required", "tls.name-mismatch", "tls.untrusted"} <= ids, ids
    assert {"chain.untrusted", "san.missing"} <= ids, ids
    assert report["exit"] == 1


def test_a_server_offering_only_rsa_key_exchange_is_reached(
    check_lab: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    """Windows Server 2008 R2/2012 Lync hosts offer TLS_RSA_* suites: the probe kept Python's
    default cipher string (forward-secret suites only) and reported a false tls.handshake."""
    cert, key = issue(check_lab, tmp_path, "rsakx", FE01_DEFAULT, "WebServer")
    issuing = check_lab.home / "ca" / "issuing.crt"
    root = check_lab.home / "ca" / "root.crt"
    with s_server("-cert", cert, "-key", key, "-cert_chain", issuing, "-no_tls1_3",
                  "-cipher", "AES128-GCM-SHA256:AES256-SHA256") as port:  # fmt: skip
        said = _s_client(port, "-CAfile", root, "-verify_return_error", "-no_tls1_3")
        report = live_check(check_lab, internal_topology, port, "--offline")
    assert "Cipher is AES128-GCM-SHA256" in said and "Verify return code: 0 (ok)" in said, said
    ids = {f["id"] for f in report["findings"]}
    assert "tls.handshake" not in ids and ids <= {"tls.version"}, report["findings"]
    assert all(h["ok"] for h in report["handshakes"] if h["version"] == "TLSv1.2")
    assert report["exit"] == 0


def test_no_tls_1_3_is_a_note_without_a_fix_lync_2013_cannot_apply(
    check_lab: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    """Every correct Lync 2013 server (TLS 1.2 at most) drew a warning "enable TLSv1.3"."""
    cert, key = issue(check_lab, tmp_path, "only12", FE01_DEFAULT, "WebServer")
    issuing = check_lab.home / "ca" / "issuing.crt"
    with s_server("-cert", cert, "-key", key, "-cert_chain", issuing, "-no_tls1_3") as port:
        report = live_check(check_lab, internal_topology, port, "--offline")
    [note] = report["findings"]
    assert note["id"] == "tls.version" and note["severity"] == "info", note
    assert "enable" not in note["fix"] and "TLSv1.3" in note["message"], note
    assert report["exit"] == 0
