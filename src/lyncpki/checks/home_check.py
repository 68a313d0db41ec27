"""The check of the deployment a lyncpki home holds: every store of the home judged against the
plan, with the home's own CA as "the internal CA", and the result kept as `last-check.json`,
which the deployment dashboard shows. `lyncpki check` and the console's "Check now" run it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509

from lyncpki.atomic import write_atomic
from lyncpki.ca.home import CaHome
from lyncpki.checks.certificate_rules import OCSP_UNREACHABLE
from lyncpki.checks.deployment import DeploymentCheck, check_deployment, stores
from lyncpki.checks.finding import Finding, ordered
from lyncpki.checks.report import CheckReport
from lyncpki.checks.revocation import RevocationSource
from lyncpki.clock import Clock
from lyncpki.errors import LyncPkiError
from lyncpki.planning import CertificatePlan, plan_file
from lyncpki.store import ServerStore, servers_in
from lyncpki.x509.forms import plain_reason
from lyncpki.x509.identifiers import thumbprint
from lyncpki.x509.keys import PrivateKey

LAST_CHECK = "last-check.json"
HOME_TOPOLOGY = "topology.yaml"  # the home's topology: deploy keeps a copy there
KEYS_NOT_OPENED = "private keys were not opened (add --verify-keys to compare them)"
REVOCATION_NOT_CHECKED = (
    "revocation was not checked (--offline: no CRL fetched, no OCSP asked); a revoked "
    "certificate passes such a check"
)


def home_ca(root: Path, which: str) -> list[x509.Certificate]:
    """The home CA's `root` or `issuing` certificate, when the home has a CA."""
    path = root / "ca" / f"{which}.crt"
    if not path.is_file():
        return []
    try:
        return [x509.load_pem_x509_certificate(path.read_bytes())]
    except (OSError, ValueError) as error:  # every judgement depends on it: said, not guessed
        raise LyncPkiError(
            f"the home CA's {which} certificate {path} cannot be read ({plain_reason(error)})",
            "restore it from a backup of the home (the same certificate is published, as DER, "
            f"under {CaHome(root).publish / 'aia'})",
        ) from None


def home_roots(root: Path) -> list[x509.Certificate]:
    """The roots of the CA(s) in the home: what makes a certificate "from the internal CA"."""
    return home_ca(root, "root")


# Findings of a CRL or an OCSP responder that could not be fetched (an OCSP responder that
# answered, "unknown" or unusable, is running: serving it is no advice).
def _unfetched(finding: Finding) -> bool:
    return finding.id == "cdp.unreachable" or (
        finding.id == "ocsp.problem" and OCSP_UNREACHABLE in finding.message
    )


def ca_service_note(root: Path, findings: Sequence[Finding]) -> str | None:
    """How to serve the home CA's CRLs and OCSP answers, when findings say they could not be
    fetched from the URLs under its base URL: `deploy` serves the CA only while it runs, so a
    `check` after it found every distribution point unreachable and only said "publish the CRL
    there"."""
    home = CaHome(root)
    if not home.exists():
        return None
    try:
        base = home.read_config().base_url
    except LyncPkiError:
        return None
    if not any(_unfetched(f) and f"{base}/" in f.message for f in findings):
        return None
    url = urlsplit(base)
    port = url.port or (443 if url.scheme == "https" else 80)
    host = "" if url.hostname in ("127.0.0.1", "localhost") else " --host 0.0.0.0"
    return (
        f"the CRLs and OCSP answers under {base} are this home's CA's, and they could not be "
        f"fetched: serve them (lyncpki ca serve --home {root} --port {port}{host}) and check "
        "again, or check with --offline"
    )


def left_stores_note(root: Path, result: CertificatePlan) -> str | None:
    """The stores in the home of servers the topology no longer has: their certificates for
    the deployment's names are valid until revoked, and nothing judges them any more."""
    gone = sorted(set(servers_in(root)) - set(result.store_names()))
    if not gone:
        return None
    return (
        f"{', '.join(gone)}: no longer in the topology, and "
        f"{'its store still holds' if len(gone) == 1 else 'their stores still hold'}"
        " certificates for names of this deployment, not checked: revoke those no longer "
        "used (lyncpki certs --server NAME --json gives their serials, then lyncpki ca revoke "
        "SERIAL)"
    )


def topology_file(root: Path) -> Path | None:
    """The topology of the home, when it has one."""
    path = root / HOME_TOPOLOGY
    return path if path.is_file() else None


def check_home(
    root: Path,
    result: CertificatePlan,
    *,
    now: dt.datetime,
    days: int = 30,
    revocation: RevocationSource | None = None,
    servers: frozenset[str] | None = None,
    open_key: Callable[[ServerStore, str], PrivateKey] | None = None,
) -> tuple[list[Finding], list[str]]:
    """The findings of every store of the plan (or of `servers`) in the home, and the stores
    checked, in the plan's order."""
    job = DeploymentCheck(
        plan=result,
        home=root,
        now=now,
        days=days,
        servers=servers,
        revocation=revocation,
        internal_roots=frozenset(thumbprint(c) for c in home_roots(root)),
        open_key=open_key,
    )
    checked = [name for name in stores(result) if servers is None or name in servers]
    return check_deployment(job), checked


def save_last_check(root: Path, report: CheckReport) -> None:
    """Keep the report where the dashboard reads it (atomically)."""
    write_atomic(root / LAST_CHECK, (json.dumps(report.as_dict(), indent=2) + "\n").encode())


def run_home_check(root: Path, clock: Clock) -> CheckReport:
    """Check the home's deployment as `lyncpki check --home` does (revocation fetched from the
    certificates' URLs, keys not opened), keep it as the last check and return it."""
    path = topology_file(root)
    if path is None:
        raise LyncPkiError(
            f"there is no topology in {root}",
            f"deploy one (lyncpki deploy TOPOLOGY --home {root}) or copy it to "
            f"{root / HOME_TOPOLOGY}",
        )
    result = plan_file(path)
    now = clock.now()
    revocation = RevocationSource()
    try:
        findings, checked = check_home(root, result, now=now, revocation=revocation)
    finally:
        revocation.close()
    report = CheckReport(
        findings=tuple(ordered(findings)),
        generated=now,
        checked=tuple(checked),
        topology=str(path),
        notes=(KEYS_NOT_OPENED,),
    )
    save_last_check(root, report)
    return report
