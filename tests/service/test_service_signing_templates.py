"""A requester asked the OCSPResponseSigning template and got a delegated responder's
certificate at once: with it, any answer it signs ("good" for a certificate revoked for
keyCompromise) verifies as the CA's (openssl ocsp: Response verify OK). The template now needs
a CA manager's approval, as SubCA does; the CA's own responder does not use it."""

from __future__ import annotations

from pathlib import Path

import httpx

from lab import ACCOUNTS, make_lab, openssl_request

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
