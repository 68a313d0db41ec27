"""`lyncpki check`: every Lync certificate requirement, on the stores of the deployment, on
certificate files, and on the wire."""

from __future__ import annotations

import contextlib
import json
import secrets
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from enum import StrEnum
from io import StringIO
from pathlib import Path

import typer
from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
)
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from lyncpki.atomic import check_not_input, write_atomic
from lyncpki.checks.catalog import catalog
from lyncpki.checks.files import judge_file
from lyncpki.checks.finding import Finding, ordered
from lyncpki.checks.home_check import (
    HOME_TOPOLOGY,
    KEYS_NOT_OPENED,
    REVOCATION_NOT_CHECKED,
    ca_service_note,
    check_home,
    home_ca,
    home_roots,
    left_stores_note,
    save_last_check,
)
from lyncpki.checks.live import ClientIdentity, Endpoint, Handshake
from lyncpki.checks.probe import (
    DEFAULT_JOBS,
    DEFAULT_TIMEOUT,
    Probe,
    ProbeSettings,
    probe_all,
    resolving,
)
from lyncpki.checks.report import CheckReport
from lyncpki.checks.revocation import RevocationSource
from lyncpki.cli.ca_context import HomeOption, check_output, home_of
from lyncpki.cli.output import EXIT_FINDINGS, emit_json, guarded, stderr, stdout
from lyncpki.cli.report_format import report_format
from lyncpki.cli.store_context import (
    PFX_PASSWORD_ENV,
    PasswordOption,
    StorePassphraseOption,
    TopologyOption,
    pfx_password,
    store_secret,
    topology_path,
)
from lyncpki.clock import SYSTEM_CLOCK
from lyncpki.errors import LyncPkiError
from lyncpki.inputs import env_secret, read_input
from lyncpki.planning import CertificatePlan, Severity, plan_file
from lyncpki.reports.findings_table import print_findings
from lyncpki.reports.records import Field, print_rows
from lyncpki.store import ServerStore, StoreError, servers_in
from lyncpki.x509.bundles import load_bundle
from lyncpki.x509.identifiers import thumbprint

SIP_TLS_PORT = 5061


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    HTML = "html"


HELP = """Check that the certificates are right [Test-CsCertificateConfiguration, and far beyond].

For every certificate the topology plans, on each of its servers and for each usage, the
certificate assigned in the server's store is judged by every rule: assigned at all, subject
and each planned SAN, wildcards where Lync refuses them, EKUs, key type and size, RSASSA-PSS
and signature hash, validity and expiry within --days, CRL distribution point, the CRL fetched
from it (reachable, signed by the CA, not expired, not listing the certificate) and OCSP, the
chain to the server's trusted roots (cryptography.x509.verification), the private key (present,
exportable where needed), the Edge pool's shared certificates identical on every member, one
OAuthTokenIssuer everywhere. --list-rules lists every finding id.

--cert FILE judges certificate files (a broken file is a finding). --endpoint HOST:PORT[=SERVER]
and --live make real TLS 1.2 and 1.3 handshakes, for each planned name (SNI), and with
--client-pfx or --client SERVER mutual TLS with a client certificate. Endpoints are probed
--jobs at a time (8); one that does not answer within --timeout seconds (5) is reported
unreachable and its other handshakes are not tried.

Exit status: 0 no error finding, 1 error findings, 2 bad usage.
"""


def check_command(
    topology: Path | None = TopologyOption,
    server: list[str] = typer.Option(
        [],
        "--server",
        "-s",
        help="Check only these servers (repeat; default: all planned).",
        metavar="FQDN",
    ),
    cert: list[Path] = typer.Option(
        [], "--cert", help="Check a certificate file (repeat).", metavar="FILE"
    ),
    endpoint: list[str] = typer.Option(
        [],
        "--endpoint",
        help="HOST:PORT, HOST:PORT=SERVER or HOST:PORT=SERVER/USAGE: handshake with it "
        "(repeat); SERVER names the planned server whose names it must answer to (and USAGE its "
        "certificate, Default unless said).",
        metavar="HOST:PORT[=SERVER]",
    ),
    live: bool = typer.Option(
        False, "--live", help="Handshakes with every endpoint (default: each server's :5061)."
    ),
    client: str | None = typer.Option(
        None,
        "--client",
        help="Mutual TLS as this server: its assigned Default certificate (the peer must ask "
        "for it and accept it: mtls.not-requested, mtls.refused).",
        metavar="FQDN",
    ),
    client_pfx: Path | None = typer.Option(
        None,
        "--client-pfx",
        help="Mutual TLS with the certificate and key of this .pfx.",
        metavar="FILE",
    ),
    password: str | None = PasswordOption,
    trust: list[Path] = typer.Option(
        [],
        "--trust",
        help="Extra trusted root certificates for --cert and --endpoint (PEM).",
        metavar="FILE",
    ),
    jobs: int = typer.Option(
        DEFAULT_JOBS,
        "--jobs",
        "-j",
        min=1,
        max=256,
        help="Endpoints probed at once (--live).",
        metavar="N",
    ),
    timeout: float = typer.Option(
        DEFAULT_TIMEOUT,
        "--timeout",
        min=0.1,
        max=300.0,
        help="Seconds to wait for an endpoint to connect and to answer a handshake, and for "
        "each CRL or OCSP answer in all.",
        metavar="SECONDS",
    ),
    days: int = typer.Option(
        30,
        "--days",
        min=0,
        max=3650,
        help="Warn about certificates expiring this soon.",
        metavar="DAYS",
    ),
    offline: bool = typer.Option(
        False, "--offline", help="Fetch no CRL and ask no OCSP responder (no network)."
    ),
    verify_keys: bool = typer.Option(
        False, "--verify-keys", help="Open every private key and compare it with its certificate."
    ),
    fmt: Format | None = typer.Option(
        None,
        "--format",
        "-f",
        help="table, json or html (default: the suffix of --output, else table).",
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the report here.", metavar="FILE"
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print JSON: the report, or with --output what was written."
    ),
    list_rules: bool = typer.Option(False, "--list-rules", help="List every finding id."),
    home: Path | None = HomeOption,
    passphrase_file: Path | None = StorePassphraseOption,
) -> None:
    _check(
        topology,
        server,
        cert,
        endpoint,
        live,
        client,
        client_pfx,
        password,
        trust,
        jobs,
        timeout,
        days,
        offline,
        verify_keys,
        fmt,
        output,
        list_rules,
        home,
        passphrase_file,
        as_json or (fmt is Format.JSON and output is None),
    )


def _print_rules(as_json: bool) -> None:
    rules = catalog()
    if as_json:
        emit_json(
            [
                {
                    "id": r.id,
                    "severity": str(r.severity),
                    "requirement": r.requirement,
                    "scope": r.scope,
                    "title": r.title,
                }
                for r in rules
            ]
        )
        return
    fields = (
        Field("id", whole=True),
        Field("severity", whole=True),
        Field("requirement", whole=True),
        Field("scope"),
        Field("what it finds"),
    )
    print_rows(
        stdout, fields, [[r.id, str(r.severity), r.requirement, r.scope, r.title] for r in rules]
    )


@guarded()
def _check(
    topology: Path | None,
    servers: list[str],
    certs: list[Path],
    endpoints: list[str],
    live: bool,
    client: str | None,
    client_pfx: Path | None,
    password: str | None,
    trust: list[Path],
    jobs: int,
    timeout: float,
    days: int,
    offline: bool,
    verify_keys: bool,
    fmt: Format | None,
    output: Path | None,
    list_rules: bool,
    home: Path | None,
    passphrase_file: Path | None,
    as_json: bool,  # errors too are JSON documents on stdout
) -> None:
    if list_rules:
        if output is not None:
            raise LyncPkiError(
                "--list-rules prints the rules; it writes no report to --output",
                "leave --output out and redirect: lyncpki check --list-rules --json > rules.json",
            )
        _print_rules(as_json or fmt is Format.JSON)
        return
    if client is not None and client_pfx is not None:  # one would be dropped without a word
        raise LyncPkiError(
            "--client and --client-pfx each name the certificate to present",
            "give one of them",
        )
    if (client is not None or client_pfx is not None) and not (endpoints or live):
        raise LyncPkiError(
            f"{'--client' if client is not None else '--client-pfx'} is for the handshakes of "
            "--endpoint or --live, and none was asked for",
            "add --live (each server's :5061) or --endpoint HOST:PORT, or leave it out",
        )
    root = home_of(home).root
    now = SYSTEM_CLOCK.now()
    path = topology_path(home, topology, required=not (certs or endpoints))
    if output is not None:  # before the work: never a report written over what it judged
        example = {Format.JSON: "report.json", Format.TABLE: "report.txt"}.get(
            fmt or Format.HTML, "report.html"
        )  # the example in a refusal's fix, of the format asked for
        check_output(output, home, "--output", example)
        inputs = [("the topology file", path), ("--client-pfx", client_pfx)]
        inputs += [("a --cert file", c) for c in certs] + [("a --trust file", t) for t in trust]
        check_not_input(output, inputs, "--output")
    chosen = report_format(  # after what the output must never be: that is said first
        fmt, output, as_json, suffixes=SUFFIX_FORMATS, json=Format.JSON, table=Format.TABLE
    )
    if path is not None and not (certs or endpoints) and not root.is_dir():
        # a mistyped --home: every planned certificate "missing, request it"
        raise LyncPkiError(
            f"there is no lyncpki home at {root}",
            "give the home that deploy, request or import wrote (--home DIR, or "
            "$LYNCPKI_HOME); to judge certificate files or endpoints alone, give --cert or "
            "--endpoint",
        )
    plan = plan_file(path) if path else None
    if plan is not None:
        _known_servers(plan, servers)
    extra = _roots(trust)
    internal_roots = home_roots(root)
    roots = [c for c in extra if c.issuer == c.subject] + internal_roots
    known = [c for c in extra if c.issuer != c.subject] + home_ca(root, "issuing")
    internal = frozenset(thumbprint(c) for c in internal_roots)
    # --timeout bounds each CRL and OCSP fetch too, as long as an endpoint's handshake
    revocation = None if offline else RevocationSource(timeout=timeout)
    findings: list[Finding] = []
    checked: list[str] = []
    handshakes: list[Handshake] = []
    notes: list[str] = [REVOCATION_NOT_CHECKED] if offline else []
    certificates: list[dict[str, str]] = []
    try:
        # the deployment's stores: unless only files or endpoints were asked for
        if plan is not None and (servers or not (certs or endpoints)):
            wanted = frozenset(s.lower() for s in servers) if servers else None
            secret = store_secret(home, passphrase_file) if verify_keys else None
            found, stores = check_home(
                root,
                plan,
                now=now,
                days=days,
                revocation=revocation,
                servers=wanted,
                open_key=(lambda st, k: st.private_key(k, secret)) if secret else None,
            )
            findings += found
            checked += stores
            if not verify_keys:
                notes.append(KEYS_NOT_OPENED)
            left = left_stores_note(root, plan) if wanted is None else None
            if left:
                notes.append(left)
        for file in certs:
            checked.append(str(file))
            judged = judge_file(
                file,
                now=now,
                roots=roots,
                intermediates=known,
                days=days,
                password=password or env_secret(PFX_PASSWORD_ENV),  # as --help says
                revocation=revocation,
                internal_roots=internal,
            )
            findings += judged.findings
            certificates.append(judged.identity(file))
        targets = [Endpoint.parse(e) for e in endpoints]
        if plan is not None:
            _known_endpoints(plan, targets)
        if live and not targets and plan is not None:
            targets, unresolved = _default_endpoints(
                plan, servers, jobs, quiet=chosen is not Format.TABLE
            )
            findings += unresolved
        settings = ProbeSettings(
            now=now,
            days=days,
            roots=roots,
            intermediates=known,
            plan=plan,
            home=root,
            client=_identity(home, passphrase_file, client, client_pfx, password),
            revocation=revocation,
            timeout=timeout,
        )
        for probed in _probe_with_progress(
            targets, settings, jobs, quiet=chosen is not Format.TABLE
        ):
            checked.append(probed.endpoint.server or probed.endpoint.label)
            handshakes += probed.handshakes
            findings += probed.findings
    finally:
        if revocation is not None:
            revocation.close()
    serve = ca_service_note(root, findings)
    if serve is not None:
        notes.append(serve)
    report = CheckReport(
        findings=tuple(ordered(findings)),
        generated=now,
        checked=tuple(checked),
        handshakes=tuple(handshakes),
        topology=str(path) if path else None,
        offline=offline,
        days=days,
        notes=tuple(notes),
        certificates=tuple(certificates),
    )
    whole = (  # the dashboard's "last check": of the whole deployment the home holds only
        plan is not None
        and not (servers or certs or endpoints)
        and path is not None
        and path.resolve() == (root / HOME_TOPOLOGY).resolve()
    )
    if whole:  # its home exists: a missing one was refused before the work
        try:  # the dashboard shows the last check of the deployment
            save_last_check(root, report)
        except LyncPkiError as error:  # a read-only home (an auditor's account): still a verdict
            report = replace(
                report, notes=(*report.notes, f"not kept as the last check: {error.message}")
            )
    _render(report, chosen, output, as_json)
    if not report.passed:
        raise typer.Exit(EXIT_FINDINGS)


# --output's suffix names the format when --format is not given
SUFFIX_FORMATS = {
    ".html": Format.HTML, ".htm": Format.HTML, ".json": Format.JSON, ".txt": Format.TABLE
}  # fmt: skip


def _render(report: CheckReport, fmt: Format, output: Path | None, as_json: bool) -> None:
    if fmt is Format.TABLE and output is None:
        print_findings(report, stdout)
        return
    if fmt is Format.HTML:
        from lyncpki.reports.findings_html import render_findings_html  # Jinja2: HTML alone

        data = render_findings_html(report).encode()
    elif fmt is Format.JSON:
        data = (json.dumps(report.as_dict(), indent=2) + "\n").encode()
    else:
        buffer = StringIO()
        print_findings(report, Console(file=buffer, width=160, no_color=True))
        data = buffer.getvalue().encode()
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_atomic(output, data)
    if as_json:  # stdout stays a JSON document for the script that asked for one
        emit_json({
            "written": str(output), "format": str(fmt), "findings": len(report.findings),
            "errors": report.count(Severity.ERROR), "passed": report.passed,
        })  # fmt: skip
        return
    verdict = "passed" if report.passed else f"{report.count(Severity.ERROR)} error(s)"
    stdout.print(
        f"wrote {output} ({fmt}, {len(report.findings)} findings, {verdict})", markup=False
    )


def _roots(paths: list[Path]) -> list[x509.Certificate]:
    """The certificates of the --trust files, each refusal naming the option it came from."""
    fix = "give --trust the PEM file of a root CA to trust (its certificate, or a chain)"
    found: list[x509.Certificate] = []
    for path in paths:
        try:
            certificates = load_bundle(read_input(path, fix), str(path)).certificates
        except LyncPkiError as error:
            raise LyncPkiError(f"--trust: {error.message}", fix) from None
        if not certificates:
            raise LyncPkiError(f"--trust {path} holds no certificate", fix)
        found += certificates
    return found


def _known_servers(plan: CertificatePlan, servers: list[str]) -> None:
    """Refuse a --server the plan has no certificate for: a typo or a pool's name checked
    nothing and passed."""
    unknown = [s for s in servers if not plan.for_store(s.lower())]
    if unknown:
        raise LyncPkiError(
            "; ".join(plan.unknown_store(s) for s in unknown),
            "give servers of the topology (lyncpki plan lists them), or 'global' for the "
            "OAuthTokenIssuer certificate",
        )


def _known_endpoints(plan: CertificatePlan, targets: list[Endpoint]) -> None:
    """Refuse `--endpoint HOST:PORT=SERVER/USAGE` naming a server or usage the plan lacks: the
    handshake ran with no planned name to check and passed."""
    for target in targets:
        if target.server is None:
            continue
        if not plan.for_store(target.server):
            raise LyncPkiError(
                f"--endpoint {target.label}: {plan.unknown_store(target.server)}",
                "name a server of the topology after '=' (lyncpki plan lists them)",
            )
        if plan.for_usage(target.server, target.usage) is None:
            planned = sorted({u for c in plan.for_store(target.server) for u in c.usages})
            raise LyncPkiError(
                f"--endpoint {target.label}: {target.server} has no {target.usage} certificate "
                f"in the plan (it holds {', '.join(planned)})",
                f"name one of them after '/': {target.server}/{planned[0]}",
            )


def _default_endpoints(
    plan: CertificatePlan, servers: list[str], jobs: int, *, quiet: bool = True
) -> tuple[list[Endpoint], list[Finding]]:
    """Each planned server with a Default certificate, on the SIP TLS port, when its name
    resolves from here (a progress bar of the lookups unless `quiet`: a name the DNS does not
    know can take seconds, and a large topology's lookups took a minute before any bar)."""
    found, unresolved = [], []
    names = sorted({s for c in plan.certificates if "Default" in c.usages for s in c.servers})
    wanted = {s.lower() for s in servers}  # FQDNs in any case, as everywhere else
    names = [n for n in names if not wanted or n.lower() in wanted]
    with _progress("resolving", len(names), quiet=quiet) as advance:
        resolved = resolving(
            names, SIP_TLS_PORT, jobs=jobs, done=lambda name, _resolved: advance(name)
        )
    for name in names:
        if not resolved[name]:
            unresolved.append(
                Finding(
                    "tls.unresolved",
                    Severity.INFO,
                    name,
                    "Default",
                    name,
                    f"{name} does not resolve from here: no handshake was tried",
                    f"give --endpoint ADDRESS:PORT={name}",
                    "-",
                )
            )
            continue
        found.append(Endpoint(name, SIP_TLS_PORT, name))
    return found, unresolved


def _probe_with_progress(
    targets: list[Endpoint], settings: ProbeSettings, jobs: int, *, quiet: bool
) -> list[Probe]:
    """probe_all, with a progress bar on a terminal's stderr when there are several."""
    with _progress("handshakes", len(targets), quiet=quiet) as advance:
        return probe_all(
            targets, settings, jobs=jobs, done=lambda probed: advance(probed.endpoint.label)
        )


@contextlib.contextmanager
def _progress(label: str, total: int, *, quiet: bool) -> Iterator[Callable[[str], None]]:
    """A progress bar of `total` steps on a terminal's stderr, gone when done (none when
    `quiet`, or for fewer than two steps); what it gives advances it by one step, naming it."""
    columns = (
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=stderr, transient=True, disable=quiet or total < 2) as bar:
        task = bar.add_task("", total=total)
        yield lambda step: bar.update(task, advance=1, description=step)


def _identity(
    home: Path | None,
    passphrase_file: Path | None,
    client: str | None,
    client_pfx: Path | None,
    password: str | None,
) -> ClientIdentity | None:
    """The client certificate for mutual TLS, its key re-encrypted with a one-time password."""
    if client_pfx is not None:
        bundle = load_bundle(
            read_input(client_pfx, "give --client-pfx the .pfx of the certificate to present"),
            str(client_pfx),
            password=pfx_password(password, purpose="client .pfx", to_open=True),
            pkcs12_hint=True,
        )
        if bundle.key is None:
            raise LyncPkiError(f"{client_pfx} holds no private key", "export it with its key")
        key, chain, label = bundle.key, bundle.certificates, str(client_pfx)
    elif client is not None:
        store = ServerStore(home_of(home).root, client)
        if not store.exists():  # "assign one first" sent the administrator to the wrong fix
            known = servers_in(store.home)
            raise StoreError(
                f"--client {store.server}: the home has no store for that server",
                "give a server of the home"
                + (f" ({', '.join(known[:8])}{', ...' if len(known) > 8 else ''})" if known
                   else ": none has a store yet (lyncpki deploy, or request and import)"),
            )  # fmt: skip
        slots = store.load().slots("Default", store.clock.now())
        entry = store.load().certificate(slots.current.thumbprint) if slots.current else None
        if entry is None or entry.key_id is None:
            raise StoreError(
                f"{store.server} has no Default certificate with a key to present",
                "assign one first (lyncpki assign)",
            )
        key = store.private_key(entry.key_id, store_secret(home, passphrase_file))
        chain = [store.certificate(entry.thumbprint), *store.trusted_certificates()]
        label = f"{store.server} Default"
    else:
        return None
    once = secrets.token_urlsafe(24).encode()
    key_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(once))
    chain_pem = b"".join(c.public_bytes(Encoding.PEM) for c in chain)
    return ClientIdentity(label, chain_pem, key_pem, once)
