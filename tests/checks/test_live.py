"""Live checks against `openssl s_server` (not ours): a certificate missing a planned SAN is a
name mismatch for that SNI, a server that does not send its intermediate is an incomplete chain,
and our mutual TLS probe is accepted by `s_server -Verify 1 -crl_check` with a good client
certificate and refused with a revoked one, over TLS 1.2 and TLS 1.3."""

from __future__ import annotations

import http.server
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from lab import PASSPHRASE, Lab, free_port, ok, openssl, openssl_request

FE01_DEFAULT = ("pool01.contoso.net", "fe01.contoso.net", "sip.contoso.com", "sip.fabrikam.com")
PFX_PASSWORD = "client-pfx-password"


def issue(
    lab: Lab, folder: Path, name: str, sans: Sequence[str], template: str
) -> tuple[Path, Path]:
    key, csr = openssl_request(folder, name, sans[0], sans)
    cert = folder / f"{name}.crt"
    ok(lab.cli("ca", "issue", csr, "--template", template, "--out", cert))
    return cert, key


@contextmanager
def s_server(*args: str | Path) -> Iterator[int]:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed")
    port = free_port()
    process = subprocess.Popen(
        ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-quiet", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    error = process.stderr.read().decode() if process.poll() is not None else ""
                    raise AssertionError(f"s_server did not start: {error}") from None
                time.sleep(0.05)
        yield port
    finally:
        process.kill()
        process.wait()


def live_check(lab: Lab, topology: Path, port: int, *more: str | Path, **env: str) -> dict:  # type: ignore[type-arg]
    process = lab.cli(
        "check",
        "--topology",
        topology,
        "--endpoint",
        f"127.0.0.1:{port}=fe01.contoso.net",
        "--format",
        "json",
        *more,
        **env,
    )
    assert "Traceback" not in process.stderr, process.stderr
    assert process.returncode in (0, 1), process.stderr
    return json.loads(process.stdout) | {"exit": process.returncode}  # type: ignore[no-any-return]


def test_a_missing_san_is_a_name_mismatch_for_that_sni(
    check_lab: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    cert, key = issue(check_lab, tmp_path, "short", FE01_DEFAULT[:-1], "WebServer")
    issuing = check_lab.home / "ca" / "issuing.crt"
    with s_server("-cert", cert, "-key", key, "-cert_chain", issuing) as port:
        report = live_check(check_lab, internal_topology, port, "--offline")
    mismatches = [f for f in report["findings"] if f["id"] == "tls.name-mismatch"]
    assert len(mismatches) == 1  # sip.fabrikam.com: one finding, tried over TLS 1.2 and 1.3
    assert all("sip.fabrikam.com" in f["message"] for f in mismatches)
    assert {f["id"] for f in report["findings"]} == {"tls.name-mismatch", "san.missing"}
    handshakes = report["handshakes"]
    assert {h["negotiated"] for h in handshakes} == {"TLSv1.2", "TLSv1.3"}
    assert {h["sni"] for h in handshakes} == set(FE01_DEFAULT)
    assert all(h["ok"] for h in handshakes)


def test_a_server_without_its_intermediate_sends_an_incomplete_chain(
    check_lab: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    cert, key = issue(check_lab, tmp_path, "whole", FE01_DEFAULT, "WebServer")
    with s_server("-cert", cert, "-key", key) as port:
        report = live_check(check_lab, internal_topology, port, "--offline")
    assert {f["id"] for f in report["findings"]} == {"tls.chain-incomplete"}
    issuing = check_lab.home / "ca" / "issuing.crt"
    with s_server("-cert", cert, "-key", key, "-cert_chain", issuing) as port:
        report = live_check(check_lab, internal_topology, port, "--offline")
    assert report["findings"] == []


def test_mutual_tls_accepted_then_refused_once_revoked(
    check_lab: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    lab = check_lab
    cert, key = issue(lab, tmp_path, "server", FE01_DEFAULT, "WebServer")
    client_cert, client_key = issue(lab, tmp_path, "client", ("fe02.contoso.net",), "LyncServer")
    pfx = tmp_path / "client.pfx"
    openssl(
        "pkcs12",
        "-export",
        "-inkey",
        client_key,
        "-in",
        client_cert,
        "-out",
        pfx,
        "-passout",
        f"pass:{PFX_PASSWORD}",
    )
    trust = tmp_path / "trust.pem"
    trust.write_text(
        (lab.home / "ca" / "root.crt").read_text() + (lab.home / "ca" / "issuing.crt").read_text()
    )
    crl = lab.home / "publish" / "crl" / "lyncpki-issuing-ca.crl.pem"

    def serve() -> AbstractContextManager[int]:
        # -verify_return_error: refuse (not just log) a client certificate that fails
        return s_server(
            "-cert",
            cert,
            "-key",
            key,
            "-cert_chain",
            lab.home / "ca" / "issuing.crt",
            "-Verify",
            "1",
            "-verify_return_error",
            "-CAfile",
            trust,
            "-crl_check",
            "-CRL",
            crl,
        )

    ok(lab.cli("ca", "crl"))
    mtls = ("--offline", "--client-pfx", pfx)
    with serve() as port:
        report = live_check(lab, internal_topology, port, *mtls, LYNCPKI_PFX_PASSWORD=PFX_PASSWORD)
    assert report["findings"] == [], report["findings"]
    assert all(h["ok"] and h["client"] and h["client_asked"] for h in report["handshakes"])
    assert {h["negotiated"] for h in report["handshakes"]} == {"TLSv1.2", "TLSv1.3"}

    # the same server without -Verify never asks for a client certificate: every handshake
    # succeeds, and the check says that mutual TLS was not tried rather than that it worked
    with s_server(
        "-cert", cert, "-key", key, "-cert_chain", lab.home / "ca" / "issuing.crt"
    ) as port:
        report = live_check(lab, internal_topology, port, *mtls, LYNCPKI_PFX_PASSWORD=PFX_PASSWORD)
    assert report["exit"] == 1
    assert {f["id"] for f in report["findings"]} == {"mtls.not-requested"}
    assert all(h["ok"] and h["client_asked"] is False for h in report["handshakes"])
    [unasked] = report["findings"]
    assert "TLSv1.2" in unasked["message"] and "TLSv1.3" in unasked["message"]

    serial = openssl("x509", "-in", client_cert, "-noout", "-serial").strip().split("=", 1)[1]
    ok(lab.cli("ca", "revoke", serial, "--reason", "keyCompromise"))
    ok(lab.cli("ca", "crl"))
    with serve() as port:
        report = live_check(lab, internal_topology, port, *mtls, LYNCPKI_PFX_PASSWORD=PFX_PASSWORD)
    assert report["exit"] == 1
    refused = [f for f in report["findings"] if f["id"] == "mtls.refused"]
    assert {f["id"] for f in report["findings"]} == {"mtls.refused"}
    versions = {h["version"] for h in report["handshakes"] if h["client_refused"]}
    assert versions == {"TLSv1.2", "TLSv1.3"}
    assert any("revoked" in f["message"] for f in refused)
    assert len(refused) == len({f["message"] for f in refused})  # one finding a cause
    # one finding a cause, not one a handshake (one per planned name and version: eight)
    assert sorted(v for f in refused for v in ("TLSv1.2", "TLSv1.3") if v in f["message"]) == [
        "TLSv1.2",
        "TLSv1.3",
    ]


def test_a_listener_that_requires_a_client_certificate_is_said_so(
    check_lab: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    """`s_server -Verify 1 -verify_return_error` probed without --client passed (exit 0), with a
    false "refuses TLSv1.2 but accepts TLSv1.3": TLS 1.2 ended in the handshake, TLS 1.3 with
    an alert after it (openssl s_client shows alert 116, certificate required)."""
    cert, key = issue(check_lab, tmp_path, "mtls-only", FE01_DEFAULT, "LyncServer")
    issuing = check_lab.home / "ca" / "issuing.crt"
    other_key, other = tmp_path / "other.key", tmp_path / "other.crt"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", other_key, "-out", other,
            "-subj", "/CN=Other Root", "-days", "5")  # fmt: skip
    with s_server("-cert", cert, "-key", key, "-cert_chain", issuing, "-Verify", "1",
                  "-CAfile", other, "-verify_return_error") as port:  # fmt: skip
        report = live_check(check_lab, internal_topology, port, "--offline")
    ids = [f["id"] for f in report["findings"]]
    assert ids == ["tls.client-required"], report["findings"]
    (finding,) = report["findings"]
    assert finding["severity"] == "warning" and "--client" in finding["fix"]
    assert "TLSv1.2" in finding["message"] and "TLSv1.3" in finding["message"]
    assert all(h["client_required"] for h in report["handshakes"])


def test_a_certificate_refused_for_another_reason_is_no_name_mismatch(
    check_lab: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    """A certificate that names every SNI but has a negative serial was reported as "does not
    name" each of them (the name check failed on the serial); openssl's hostname check passes."""
    key, csr = openssl_request(tmp_path, "neg", FE01_DEFAULT[0], FE01_DEFAULT)
    ca_key = tmp_path / "ca.key"
    ca_cert = tmp_path / "ca.crt"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_cert,
            "-subj", "/CN=Negative Serial CA", "-days", "5")  # fmt: skip
    ext = tmp_path / "ext.cnf"
    ext.write_text("subjectAltName=" + ",".join(f"DNS:{n}" for n in FE01_DEFAULT) + "\n")
    cert = tmp_path / "neg.crt"
    openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-set_serial", "-7",
            "-out", cert, "-days", "5", "-extfile", ext)  # fmt: skip
    with s_server("-cert", cert, "-key", key) as port:
        shown = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
             FE01_DEFAULT[0], "-verify_hostname", FE01_DEFAULT[0], "-CAfile", ca_cert],
            input="", capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        report = live_check(check_lab, internal_topology, port, "--offline",
                            "--trust", ca_cert)  # fmt: skip
    assert "Verify return code: 0 (ok)" in shown.stdout, shown.stdout[-500:]
    assert "tls.name-mismatch" not in {f["id"] for f in report["findings"]}, report["findings"]


def test_a_failed_handshake_says_what_the_failure_means(
    check_lab: Lab, internal_topology: Path
) -> None:
    """Every failed handshake had the same fix ("check that the service listens there"): a
    plain-text service on the port and a name that does not resolve are said as such."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        report = live_check(check_lab, internal_topology, server.server_address[1], "--offline")
    finally:
        server.shutdown()
        server.server_close()
    failed = [f for f in report["findings"] if f["id"] == "tls.handshake"]
    assert failed and all("no TLS there" in f["message"] for f in failed), report["findings"]
    assert all("5061" in f["fix"] for f in failed)
    process = check_lab.cli("check", "--topology", internal_topology, "--endpoint",
                            "no-such-host.invalid:5061=fe01.contoso.net", "--offline",
                            "--format", "json")  # fmt: skip
    findings = json.loads(process.stdout)["findings"]
    unresolved = [f for f in findings if f["id"] == "tls.handshake"]
    assert unresolved and "does not resolve" in unresolved[0]["message"], findings
    assert "DNS" in unresolved[0]["fix"]


def test_a_certificate_served_for_one_name_only_is_judged_too(
    check_lab: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    """A server that picks its certificate by SNI (`s_server -servername -cert2`) passed with
    a revoked certificate for fe01.contoso.net: only the first certificate presented went
    through the rules. openssl refuses it for that name; so does the check."""
    lab = check_lab
    good, good_key = issue(lab, tmp_path, "good", FE01_DEFAULT, "WebServer")
    bad, bad_key = issue(lab, tmp_path, "revoked", FE01_DEFAULT, "WebServer")
    serial = openssl("x509", "-in", bad, "-noout", "-serial").strip().split("=", 1)[1]
    ok(lab.cli("ca", "revoke", serial, "--reason", "keyCompromise"))
    ok(lab.cli("ca", "crl"))
    issuing = lab.home / "ca" / "issuing.crt"
    trust = tmp_path / "trust.pem"
    trust.write_text((lab.home / "ca" / "root.crt").read_text() + issuing.read_text())
    with s_server("-cert", good, "-key", good_key, "-cert_chain", issuing,
                  "-servername", "fe01.contoso.net", "-cert2", bad, "-key2", bad_key,
                  "-cert_chain", issuing) as port:  # fmt: skip
        said = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
             "fe01.contoso.net", "-CAfile", trust, "-crl_check", "-crl_download",
             "-verify_return_error"],
            input="", capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        report = live_check(lab, internal_topology, port)
    assert "certificate revoked" in said.stdout + said.stderr  # openssl's own verdict
    revoked = [f for f in report["findings"] if f["id"] == "cert.revoked"]
    assert revoked and all("presented for fe01.contoso.net" in f["message"] for f in revoked)
    assert report["exit"] == 1


def test_an_expired_certificate_on_the_wire_is_said_expired_not_a_ca_problem(
    check_lab: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    """The server's own certificate, expired, was "a CA certificate of its path is outside
    its validity" with the fix to trust another CA. openssl says the leaf expired; so does
    the check (cert.expired), and the path is trusted."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    lab = check_lab
    issuing = lab.home / "ca" / "issuing.crt"
    ca_cert = x509.load_pem_x509_certificate(issuing.read_bytes())
    ca_key = serialization.load_pem_private_key(
        (lab.home / "ca" / "issuing.key").read_bytes(), PASSPHRASE.encode()
    )
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    names = [x509.DNSName(n) for n in FE01_DEFAULT]
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, FE01_DEFAULT[0])]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(ca_cert.not_valid_before_utc)  # within the (young) lab CA's life
        .not_valid_after(now - dt.timedelta(seconds=2))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )  # fmt: skip
    cert, key_file = tmp_path / "expired.crt", tmp_path / "expired.key"
    cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    said = openssl("verify", "-CAfile", lab.home / "ca" / "root.crt", "-untrusted", issuing,
                   cert, check=False)  # fmt: skip
    assert "certificate has expired" in said
    with s_server("-cert", cert, "-key", key_file, "-cert_chain", issuing) as port:
        report = live_check(lab, internal_topology, port, "--offline")
    ids = {f["id"] for f in report["findings"]}
    shown = [(f["id"], f["message"]) for f in report["findings"]]
    assert "cert.expired" in ids and "tls.untrusted" not in ids, shown


def test_a_tls_1_0_only_server_is_told_to_enable_tls_1_2_for_each_version(
    check_lab: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    """Lync 2013 on Windows 2008 R2 untouched: the TLS 1.3 finding said "enable TLS 1.2", the
    TLS 1.2 one ("alert handshake failure") "check that the service listens there"."""
    cert, key = issue(check_lab, tmp_path, "old", FE01_DEFAULT, "WebServer")
    issuing = check_lab.home / "ca" / "issuing.crt"
    with s_server("-cert", cert, "-key", key, "-cert_chain", issuing, "-tls1",
                  "-cipher", "DEFAULT:@SECLEVEL=0") as port:  # fmt: skip
        report = live_check(check_lab, internal_topology, port, "--offline")
    failed = [f for f in report["findings"] if f["id"] == "tls.handshake"]
    assert len(failed) == 2 and all("enable TLS 1.2" in f["fix"] for f in failed), failed


def test_an_endpoint_without_a_name_says_no_name_was_checked(
    check_lab: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    """`--endpoint 127.0.0.1:PORT` with a certificate for other names passed without a word
    that no name was checked."""
    cert, key = issue(check_lab, tmp_path, "other", ("other.contoso.net",), "WebServer")
    issuing = check_lab.home / "ca" / "issuing.crt"
    with s_server("-cert", cert, "-key", key, "-cert_chain", issuing) as port:
        process = check_lab.cli("check", "--topology", internal_topology, "--endpoint",
                                f"127.0.0.1:{port}", "--offline", "--format", "json")  # fmt: skip
    findings = json.loads(process.stdout)["findings"]
    noted = [f for f in findings if f["id"] == "tls.no-name"]
    assert len(noted) == 1 and noted[0]["severity"] == "info" and "=SERVER" in noted[0]["fix"]


def test_a_sha1_certificate_on_the_wire_is_not_judged_not_untrusted(
    check_lab: Lab, internal_topology: Path, tmp_path: Path
) -> None:
    """R-GEN-04 allows SHA-1 and openssl validates the chain; pyca's verifier refuses SHA-1,
    and the check said "not trusted", an error, exit 1. It says the trust is not judged, a
    warning, with how to judge it."""
    lab = check_lab
    issuing, root = lab.home / "ca" / "issuing.crt", lab.home / "ca" / "root.crt"
    key, csr = openssl_request(tmp_path, "sha1", FE01_DEFAULT[0], FE01_DEFAULT)
    issuing_key = tmp_path / "issuing.key"
    openssl("pkey", "-in", lab.home / "ca" / "issuing.key", "-passin", "stdin",
            "-out", issuing_key, stdin=PASSPHRASE + "\n")  # fmt: skip
    (tmp_path / "sha1.ext").write_text(
        f"subjectAltName={','.join('DNS:' + n for n in FE01_DEFAULT)}\n"
        "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        "basicConstraints=critical,CA:FALSE\ncrlDistributionPoints=URI:http://127.0.0.1:9/x.crl\n"
    )
    cert = tmp_path / "sha1.crt"
    openssl("x509", "-req", "-in", csr, "-CA", issuing, "-CAkey", issuing_key, "-sha1",
            "-days", "30", "-extfile", tmp_path / "sha1.ext", "-out", cert)  # fmt: skip
    assert ": OK" in openssl("verify", "-CAfile", root, "-untrusted", issuing, cert)
    with s_server("-cert", cert, "-key", key, "-cert_chain", issuing,
                  "-cipher", "DEFAULT:@SECLEVEL=0") as port:  # fmt: skip
        report = live_check(lab, internal_topology, port, "--offline")
    found = {f["id"]: f for f in report["findings"]}
    assert found["tls.untrusted"]["severity"] == "warning", found
    assert "not judged" in found["tls.untrusted"]["message"]
    assert [i for i, f in found.items() if f["severity"] == "error"] == [], found
    assert report["exit"] == 0
