"""Checking certificate files handed over (`check --cert FILE`): a CA's answer, a chain, a
.pfx. A file that is no certificate at all, or a truncated PEM, is a finding like any other."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from lyncpki.checks.certificate_rules import NETWORK_RULES, CertificateContext
from lyncpki.checks.engine import check_certificate
from lyncpki.checks.finding import Finding
from lyncpki.checks.revocation import RevocationSource
from lyncpki.errors import LyncPkiError
from lyncpki.inputs import read_input
from lyncpki.planning.model import PlannedCertificate, Severity
from lyncpki.store import is_ca_certificate
from lyncpki.x509.bundles import PKCS12_SUFFIXES, UNENCRYPTED_KEY_NOTE, load_bundle
from lyncpki.x509.identifiers import thumbprint

ANY_CERTIFICATE_FILE = (
    "give a certificate file: PEM or DER (.cer, .crt), PKCS#7 (.p7b) or PKCS#12 (.pfx with "
    "--password)"
)


def unreadable(path: Path, error: LyncPkiError, server: str | None = None) -> Finding:
    """The finding of a file that holds no usable certificate, listed under the server it was
    checked for or, checked alone, under the file itself (as its other findings would be); its
    fix is the refusal's own (export the .pfx with its key, ...) where the refusal has one."""
    return Finding(
        "input.unreadable",
        Severity.ERROR,
        server or str(path),
        None,
        str(path),
        error.message,
        error.fix or ANY_CERTIFICATE_FILE,
        "R-GEN-13",
    )


@dataclass(frozen=True)
class FileJudgement:
    """What `check --cert` judged in a file: the certificate (None when unreadable) and the
    findings; the certificate names the file's verdict for a script (thumbprint, subject)."""

    findings: list[Finding]
    certificate: x509.Certificate | None = None

    def identity(self, path: Path) -> dict[str, str]:
        cert = self.certificate
        if cert is None:
            return {"file": str(path)}
        return {
            "file": str(path),
            "thumbprint": thumbprint(cert),
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "not_after": cert.not_valid_after_utc.isoformat(),
        }


def check_file(path: Path, **options: Any) -> list[Finding]:
    """The findings of the end-entity certificate in `path` (see `judge_file`)."""
    return judge_file(path, **options).findings


def judge_file(
    path: Path,
    *,
    now: dt.datetime,
    roots: Sequence[x509.Certificate] = (),
    intermediates: Sequence[x509.Certificate] = (),
    days: int = 30,
    planned: PlannedCertificate | None = None,
    usage: str | None = None,
    server: str | None = None,
    password: str | None = None,
    revocation: RevocationSource | None = None,
    internal_roots: frozenset[str] = frozenset(),
) -> FileJudgement:
    """The end-entity certificate in `path` and its findings, its path built with the CA
    certificates the file carries up to one of `roots`."""
    try:
        data = read_input(path, "name a certificate file (.cer, .crt, .pem, .p7b, .pfx)")
    except LyncPkiError as error:
        return FileJudgement([unreadable(path, error, server)])
    try:
        bundle = load_bundle(
            data,
            str(path),
            password=password,
            pkcs12_hint=path.suffix.lower() in PKCS12_SUFFIXES,
            pem_keys=True,  # a key beside the certificates: the certificates are still judged
        )
    except LyncPkiError as error:
        return FileJudgement([unreadable(path, error, server)])
    leaves = [c for c in bundle.certificates if not is_ca_certificate(c)]
    leaf = leaves[0] if leaves else bundle.certificates[0]
    # the CA certificates the file carries help build the path, but a root inside the file
    # being judged is not trusted on its own word: only `roots` are (--trust, the home's CA)
    carried = [c for c in bundle.certificates if c is not leaf]
    ctx = CertificateContext(
        certificate=leaf,
        now=now,
        server=server,
        usage=usage,
        planned=planned,
        intermediates=(*carried, *intermediates),
        roots=tuple(roots),
        has_key=None if bundle.key is None else True,
        days=days,
        revocation=revocation,
        internal_roots=internal_roots,
    )
    skip = () if revocation is not None else tuple(NETWORK_RULES)
    findings = check_certificate(ctx, skip=skip)
    if UNENCRYPTED_KEY_NOTE in bundle.notes:
        findings.append(
            Finding(
                "input.key-in-clear",
                Severity.WARNING,
                server,
                usage,
                leaf.subject.rfc4514_string(),
                f"{path} also holds a private key that is not encrypted: anyone who can read "
                "the file can impersonate the server",
                "keep the key only in the server's store, or in a password-protected .pfx, and "
                "delete this copy",
                "R-GEN-12",
            )
        )
    # a file checked alone is named by the file where no server is given
    return FileJudgement([f if f.server else _located(f, path) for f in findings], leaf)


def _located(finding: Finding, path: Path) -> Finding:
    return Finding(
        finding.id,
        finding.severity,
        str(path),
        finding.usage,
        finding.subject,
        finding.message,
        finding.fix,
        finding.rule,
    )
