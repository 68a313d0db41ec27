"""A requester asked the OCSPResponseSigning template and got a delegated responder's
certificate at once: with it, any answer it signs ("good" for a certificate revoked for
keyCompromise) verifies as the CA's (openssl ocsp: Response verify OK). The template now needs
a CA manager's approval, as SubCA does; the CA's own responder does not use it."""

from __future__ import annotations

from pathlib import Path

import httpx

from lab import ACCOUNTS, make_lab, openssl_request, start_serve, use_old_templates

REQUESTER = "fe-requester"


def test_a_requester_cannot_get_an_ocsp_signing_certificate_at_once(tmp_path: Path) -> None:
    lab = make_lab(tmp_path)
    try:
        _, request = openssl_request(lab.work, "evil", "evil.contoso.net", ["evil.contoso.net"])
        for template in ("OCSPResponseSigning", "SubCA"):
            answer = httpx.post(
                f"{lab.url}/api/v1/enroll",
                params={"template": template},
                content=request.read_bytes(),
                headers={"Content-Type": "application/pkcs10"},
                auth=(REQUESTER, ACCOUNTS[REQUESTER][1]),
                timeout=30,
            )
            assert answer.status_code == 202, (template, answer.status_code, answer.text)
            assert "BEGIN CERTIFICATE" not in answer.text
    finally:
        lab.stop()


def test_a_home_made_before_the_fix_holds_an_ocsp_signing_request_too(tmp_path: Path) -> None:
    """A home made before b2d154a keeps `approval: false` for OCSPResponseSigning in its
    templates.yaml: `ca serve` gave any requester the certificate (200). It is held (202), and
    `ca serve` says at its start how to correct the file."""
    lab = make_lab(tmp_path, serve=False)
    use_old_templates(lab.home)
    log = tmp_path / "serve.log"
    lab.process = start_serve(lab.home, lab.port, log)
    try:
        _, request = openssl_request(lab.work, "rogue", "rogue.contoso.net", ["rogue.contoso.net"])
        answer = httpx.post(
            f"{lab.url}/api/v1/enroll",
            params={"template": "OCSPResponseSigning"},
            content=request.read_bytes(),
            headers={"Content-Type": "application/pkcs10"},
            auth=(REQUESTER, ACCOUNTS[REQUESTER][1]),
            timeout=30,
        )
        assert answer.status_code == 202, (answer.status_code, answer.text)
        assert "BEGIN CERTIFICATE" not in answer.text
    finally:
        lab.stop()
    said = log.read_text()
    assert "warning: " in said and "OCSPResponseSigning says approval: false" in said
    assert "fix: set approval: true for OCSPResponseSigning" in said
