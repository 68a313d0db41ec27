"""The live proof of `deploy` checked only the leaf against its CRL (VERIFY_CRL_CHECK_LEAF):
parties whose issuing CA is revoked on the root's CRL completed their mutual-TLS handshakes.
`openssl verify -crl_check_all` refuses the chain; so does the proof now, which loads the root's
CRL and checks the whole chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab import openssl
from lyncpki.deployment.proof import party, prove
from path_pki import crl, issue, write_pem

pytestmark = pytest.mark.external

SERVERS = ("fe01.contoso.net", "fe02.contoso.net")


def _prove(tmp_path: Path, *, revoke_issuing: bool) -> tuple[list[bool], str]:
    root = issue("Proof Root", None, ca=True)
    issuing = issue("Proof Issuing", root, ca=True)
    leaves = [issue(s, issuing, ca=False, sans=(s,)) for s in SERVERS]
    root_crl = write_pem(
        tmp_path / "root-crl.pem", crl(root, revoked=[issuing] if revoke_issuing else [])
    )
    issuing_crl = write_pem(tmp_path / "issuing-crl.pem", crl(issuing))
    root_pem = write_pem(tmp_path / "root.pem", root)
    both = write_pem(tmp_path / "crls.pem", crl(root, revoked=[issuing] if revoke_issuing else []),
                     crl(issuing))  # fmt: skip
    said = openssl("verify", "-crl_check_all", "-CAfile", root_pem, "-untrusted",
                   write_pem(tmp_path / "issuing.pem", issuing), "-CRLfile", both,
                   write_pem(tmp_path / "leaf.pem", leaves[0]), check=False)  # fmt: skip
    parties = [
        party(s, "front_end", leaf.certificate, leaf.key, [issuing.certificate])
        for s, leaf in zip(SERVERS, leaves, strict=True)
    ]
    made = prove(parties, root_pem, [root_crl, issuing_crl], None)
    return [h.ok for h in made], said


def test_the_proof_refuses_parties_whose_issuing_ca_is_revoked(tmp_path: Path) -> None:
    accepted, said = _prove(tmp_path, revoke_issuing=True)
    assert "certificate revoked" in said, said
    assert accepted and not any(accepted)


def test_the_proof_accepts_parties_of_an_issuing_ca_in_good_standing(tmp_path: Path) -> None:
    accepted, said = _prove(tmp_path, revoke_issuing=False)
    assert said.strip().endswith(": OK"), said
    assert accepted and all(accepted)
