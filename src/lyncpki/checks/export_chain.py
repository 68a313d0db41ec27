"""Which CA certificates go into a .pfx beside an exported certificate: its validated path
(the issuing CA up to the root the store trusts), or, when the path does not validate, only
the CA certificates that name its issuer (and theirs) — never every CA the store trusts, which
the importing server would then trust too. `export` and the wizard's Export both use it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509

from lyncpki.checks.chain import issuer_line, validate_chain
from lyncpki.checks.store_fit import store_context
from lyncpki.store import ServerStore


@dataclass(frozen=True)
class ExportChain:
    certificates: list[x509.Certificate]  # the issuing CA first
    problem: str | None = None  # why the path did not validate; None: validated

    @property
    def validated(self) -> bool:
        return self.problem is None

    def warning(self) -> str | None:
        if self.problem is None:
            return None
        return (
            f"the certificate does not chain to a root this store trusts ({self.problem}): "
            f"exported with the {len(self.certificates)} CA certificate(s) that name its issuer"
        )


def export_chain(store: ServerStore, thumbprint: str, now: dt.datetime) -> ExportChain:
    ctx = store_context(store, thumbprint, None, None, now)
    path = validate_chain(ctx.certificate, ctx.intermediates, ctx.roots, ctx.now)
    if path.chain:
        return ExportChain(path.chain[1:])
    line = issuer_line(ctx.certificate, (*ctx.intermediates, *ctx.roots))
    return ExportChain(line, path.problem or "no path")
