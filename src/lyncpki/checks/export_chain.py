"""Which CA certificates go into a .pfx beside an exported certificate: its validated path
(the issuing CA up to the root the store trusts), or, when the path does not validate, only
the CA certificates that name its issuer (and theirs) — never every CA the store trusts, which
the importing server would then trust too. `export` and the wizard's Export both use it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509

from lyncpki.checks.store_fit import store_context
from lyncpki.store import ServerStore
from lyncpki.x509.issuers import issuers_of, named_by


@dataclass(frozen=True)
class ExportChain:
    certificates: list[x509.Certificate]  # the issuing CA first
    problem: str | None = None  # why the path did not validate; None: validated
    outside: str | None = None  # the certificate itself out of its validity: "expired on ..."

    @property
    def validated(self) -> bool:
        return self.problem is None

    def warning(self) -> str | None:
        said = []
        if self.outside is not None:
            said.append(f"the certificate {self.outside}")
        if self.problem is not None:
            said.append(
                f"the certificate does not chain to a root this store trusts ({self.problem}): "
                f"exported with the {len(self.certificates)} CA certificate(s) that name its "
                "issuer"
            )
        return "; ".join(said) or None


def export_chain(store: ServerStore, thumbprint: str, now: dt.datetime) -> ExportChain:
    ctx = store_context(store, thumbprint, None, None, now)
    path = ctx.path  # judged inside the leaf's own validity: an expired or future leaf is
    # still exported with its path, not told that a CA certificate is out of its validity
    leaf = ctx.certificate
    outside = (
        f"expired on {leaf.not_valid_after_utc:%Y-%m-%d}"
        if leaf.not_valid_after_utc < now
        else f"is not valid before {leaf.not_valid_before_utc:%Y-%m-%d}"
        if leaf.not_valid_before_utc > now
        else None
    )
    if path.chain:
        return ExportChain(path.chain[1:], outside=outside)
    # the CA certificates that name its issuer (and theirs), by names only: shipped to be
    # judged where it lands, rather than every CA at hand
    line = issuers_of(leaf, (*ctx.intermediates, *ctx.roots), named_by)
    return ExportChain(line, path.problem or "no path", outside)
