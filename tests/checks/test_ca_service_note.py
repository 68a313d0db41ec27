"""The advice to serve the home CA's CRLs and OCSP answers is given when they could not be
fetched, not when the responder answered (it said "serve them" while `ca serve` ran, because
the OCSP responder did not know a certificate)."""

from __future__ import annotations

import json
from pathlib import Path

from lab import lab_env, ok, run_lyncpki
from lyncpki.checks.finding import Finding
from lyncpki.checks.home_check import ca_service_note
from lyncpki.planning.model import Severity


def _finding(identifier: str, message: str) -> Finding:
    return Finding(identifier, Severity.WARNING, "fe01", "Default", "CN=x", message, "fix", "R")


def test_the_note_is_for_what_could_not_be_fetched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok(run_lyncpki("ca", "init", "--home", home, "--domain", "contoso.net", "--root-key",
                   "ec-p384", "--key", "ec-p256", env=lab_env()))  # fmt: skip
    base = json.loads((home / "ca" / "config.json").read_text())["base_url"]
    answered = _finding("ocsp.problem", f"the OCSP responder {base}/ocsp does not know it")
    unusable = _finding("ocsp.problem", f"the OCSP responder {base}/ocsp gave an unusable answer")
    down = _finding("ocsp.problem", f"the OCSP responder {base}/ocsp cannot be reached (refused)")
    crl = _finding("cdp.unreachable", f"{base}/crl/x.crl cannot be fetched")
    assert ca_service_note(home, [answered, unusable]) is None
    for unfetched in (down, crl):
        note = ca_service_note(home, [answered, unfetched])
        assert note is not None and "lyncpki ca serve --home" in note
