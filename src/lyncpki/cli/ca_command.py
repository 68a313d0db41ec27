"""`lyncpki ca ...`: the embedded enterprise CA from the command line."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path
from typing import Any

import typer
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from rich.markup import escape

from lyncpki.atomic import write_atomic
from lyncpki.ca.authority import (
    CREATION_LOCK,
    INVENTORY_STATES,
    CertificateAuthority,
    CrlInfo,
    IssueResult,
    asked_text,
    sans_list,
)
from lyncpki.ca.database import redact
from lyncpki.ca.home import (
    PASSPHRASE_ENV,
    CaHome,
    generate_passphrase,
    resolve_passphrase,
)
from lyncpki.ca.policy import RequestRefused
from lyncpki.ca.templates import ALL_KEYS, DEFAULT_TEMPLATES, OCSP_SIGNER_TEMPLATE, held_notice
from lyncpki.cli.ca_context import (
    HomeOption,
    JsonOption,
    PassphraseFileOption,
    actor,
    check_output,
    home_of,
    jsonable,
    open_read,
    open_signing,
    prompt_new_passphrase,
)
from lyncpki.cli.lazy_group import Lazy, lazy_group
from lyncpki.cli.output import emit_json, guarded, stderr, stdout
from lyncpki.errors import LyncPkiError
from lyncpki.file_lock import exclusive
from lyncpki.inputs import env_secret, read_input
from lyncpki.keyspec import KeySpec
from lyncpki.reports.records import Field, print_rows
from lyncpki.reports.visible import one_line
from lyncpki.topology.names import fqdn_problem, normalize
from lyncpki.x509.identifiers import serial_hex, serial_windows, thumbprint

app = typer.Typer(
    help="The embedded enterprise CA: a root and an issuing CA with templates as policy, "
    "issuance from PKCS#10 requests (PEM, DER or certreq .req), approval, revocation and "
    "full/delta CRLs. State lives in --home (default ./lyncpki-data or $LYNCPKI_HOME).",
    no_args_is_help=True,
    cls=lazy_group(
        {  # after the commands of this module; their modules imported when they run
            "serve": Lazy(
                "lyncpki.cli.serve_command",
                "serve_command",
                None,
                "Serve the CA over HTTP: enrollment, CRLs, CA certificates, OCSP and /health.",
            ),
            "account": Lazy(
                "lyncpki.cli.serve_command",
                "account_app",
                None,
                "CA accounts: who may enroll (requester) and approve, deny and revoke (manager, "
                "auditor) through the CA service. Passwords are stored as scrypt hashes.",
            ),
        }
    ),
)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else str(value)


def _certificate_summary(cert: x509.Certificate) -> dict[str, Any]:
    return {
        "serial": serial_hex(cert.serial_number),
        "serial_windows": serial_windows(cert.serial_number),
        "thumbprint": thumbprint(cert),
        "subject": cert.subject.rfc4514_string(),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
    }


def _topology_namespaces(topology: Path) -> list[str]:
    """The DNS namespaces the plan of `topology` needs signed. The planner is imported here
    only: the other `ca` commands run without it."""
    from lyncpki.planning import plan
    from lyncpki.planning.namespaces import namespaces
    from lyncpki.topology import load_topology

    topo = load_topology(topology)
    return list(namespaces(topo, plan(topo)))


# ------------------------------------------------------------------------------------- init
@app.command("init")
def init_command(
    home: Path | None = HomeOption,
    name: str = typer.Option(
        "lyncpki Issuing CA", "--name", help="Issuing CA common name.", metavar="NAME"
    ),
    root_name: str | None = typer.Option(
        None,
        "--root-name",
        help="Root CA common name (default: the name with Root).",
        metavar="NAME",
    ),
    organization: str | None = typer.Option(
        None, "--org", help="O= of both CA names.", metavar="ORG"
    ),
    root_key: str = typer.Option(
        "rsa4096", "--root-key", help="Root CA key: rsa4096 | rsa2048 | ec-p384", metavar="KEY"
    ),
    key: str = typer.Option(
        "rsa2048",
        "--key",
        help="Issuing CA key: rsa2048 | rsa4096 | ec-p256 | ec-p384",
        metavar="KEY",
    ),
    db: str | None = typer.Option(
        None,
        "--db",
        help="Database URL (default: SQLite in the home), one of this CA's own: a database "
        "that already holds a CA is refused; a relative SQLite path is kept absolute. "
        "PostgreSQL: postgresql+psycopg://USER@HOST:5432/DB",
        metavar="URL",
    ),
    base_url: str = typer.Option(
        "http://127.0.0.1:8080",
        "--base-url",
        help="Base of the CRL, AIA and OCSP URLs written into every certificate.",
        metavar="URL",
    ),
    domain: list[str] = typer.Option(
        [],
        "--domain",
        help="DNS namespace the CA may sign (repeat). Names outside are refused.",
        metavar="DOMAIN",
    ),
    topology: Path | None = typer.Option(
        None,
        "--topology",
        help="Take the namespaces from a topology's planned names.",
        metavar="FILE",
    ),
    any_domain: bool = typer.Option(
        False, "--any-domain", help="Sign any DNS name (no namespace policy; not recommended)."
    ),
    generate: bool = typer.Option(
        False,
        "--generate-passphrase",
        help="Demo/test homes: generate a random passphrase into <home>/secrets (0600).",
    ),
    passphrase_file: Path | None = PassphraseFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Create a two-tier PKI (root CA + issuing CA signed by it), its database and first CRLs.

    Refuses to overwrite an existing CA, and a database that already holds one (each CA has
    its own). The CA keys are stored encrypted (PKCS#8) with the passphrase (12 characters or
    more; typed twice at a prompt), files 0600. Every input is checked first: a refused init
    leaves nothing behind.
    """
    _init(
        home,
        name,
        root_name,
        organization,
        root_key,
        key,
        db,
        base_url,
        domain,
        topology,
        any_domain,
        generate,
        passphrase_file,
        as_json,
    )


@guarded()
def _init(
    home: Path | None,
    name: str,
    root_name: str | None,
    organization: str | None,
    root_key: str,
    key: str,
    db: str | None,
    base_url: str,
    domains: list[str],
    topology: Path | None,
    any_domain: bool,
    generate: bool,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    ca_home = home_of(home)
    if ca_home.exists():
        raise LyncPkiError(
            f"a CA already exists in {ca_home.root}",
            "use it, or choose another --home (a CA is never overwritten)",
        )
    _refuse_conflicts(domains, topology, any_domain, generate, passphrase_file)
    specs = {}
    for label, text, allowed in (
        ("--root-key", root_key, ROOT_KEYS),
        ("--key", key, ISSUING_KEYS),
    ):
        try:
            spec = KeySpec.parse(text)
        except ValueError as error:
            raise LyncPkiError(f"{label}: {error}", f"use one of {', '.join(allowed)}") from None
        if spec.name not in allowed:
            raise LyncPkiError(
                f"{label} {spec.name} is not offered for a CA key",
                f"use one of {', '.join(allowed)}",
            )
        specs[label] = spec
    names = [normalize(d) for d in domains]
    for name_ in names:
        if problem := fqdn_problem(name_):
            raise LyncPkiError(f"--domain '{name_}' {problem}", "give a DNS domain: contoso.com")
    if topology is not None:
        names += _topology_namespaces(topology)
    if not names and not any_domain:
        raise LyncPkiError(
            "the CA needs the DNS namespaces it may sign",
            "add --domain contoso.com (repeat for each), or --topology FILE; --any-domain "
            "disables the namespace policy (not recommended)",
        )
    # Every input is checked before anything is written: a refused init leaves nothing.
    secret = (
        None
        if generate
        else resolve_passphrase(
            ca_home, passphrase_file=passphrase_file, prompt=prompt_new_passphrase
        )
    )
    new = CertificateAuthority.check_new(
        ca_home,
        name=name,
        root_name=root_name,
        organization=organization,
        base_url=base_url,
        db_url=db,
        passphrase=secret,
    )
    existed = ca_home.root.exists()
    try:
        if secret is None:
            ca_home.make_dirs()
            secret = generate_passphrase(ca_home)
            stderr.print(
                f"[bold yellow]note:[/] generated a random CA passphrase in "
                f"{escape(str(ca_home.passphrase_file))} "
                "(0600). Demo and test homes only: anyone who can read it can sign.",
                markup=True,
            )
        ca = CertificateAuthority.create(
            ca_home,
            passphrase=secret,
            name=new.name,
            root_name=new.root_name,
            organization=new.organization,
            root_key=specs["--root-key"],
            key=specs["--key"],
            db_url=new.db_url,
            base_url=new.base_url,
            namespaces=tuple(dict.fromkeys(names)),
            actor=actor(),
        )
    except BaseException:
        if not existed:
            _remove_unmade_home(ca_home)
        raise
    result: dict[str, Any] = {
        "home": str(ca_home.root),
        "root": _certificate_summary(ca.root.certificate) | {"name": ca.config.root_name},
        "issuing": _certificate_summary(ca.issuer.certificate) | {"name": ca.config.name},
        "namespaces": list(ca.config.namespaces),
        "crl_url": ca.config.crl_url(ca.config.slug),
        "aia_url": ca.config.aia_url(ca.config.slug),
        "database": redact(ca.config.db_url),
    }
    if ca.config.base_url.startswith("https://"):  # kept (some sites publish only so), said
        warning = (
            f"the CRL and AIA URLs are HTTPS ({ca.config.base_url}): Windows and Edge servers "
            "fetch CRLs over HTTP (R-GEN-03, outbound TCP 80), and a CRL behind TLS makes "
            "revocation checking depend on the TLS certificate of the CRL server itself; "
            "use an http:// --base-url unless every relying party can fetch over HTTPS"
        )
        result["warnings"] = [warning]
        if not as_json:
            stderr.print(f"warning: {warning}", markup=False)
    if as_json:
        emit_json(result)
        return
    stdout.print(f"created CA in {ca_home.root}", markup=False)
    stdout.print(
        f"  root     {ca.config.root_name}  thumbprint {result['root']['thumbprint']}", markup=False
    )
    stdout.print(
        f"  issuing  {ca.config.name}  thumbprint {result['issuing']['thumbprint']}", markup=False
    )
    stdout.print(f"  namespaces {', '.join(ca.config.namespaces) or '(any)'}", markup=False)
    stdout.print(f"  CRL {result['crl_url']}  AIA {result['aia_url']}", markup=False)


ROOT_KEYS = ("rsa4096", "rsa2048", "ec-p384")
ISSUING_KEYS = ("rsa2048", "rsa4096", "ec-p256", "ec-p384")


def _refuse_conflicts(
    domains: list[str],
    topology: Path | None,
    any_domain: bool,
    generate: bool,
    passphrase_file: Path | None,
) -> None:
    """Options that contradict each other are refused, never one of them silently ignored."""
    if any_domain and (domains or topology is not None):
        raise LyncPkiError(
            "--any-domain contradicts --domain/--topology (it signs any name; they limit the "
            "names)",
            "give the namespaces (--domain or --topology), or --any-domain alone",
        )
    if generate and passphrase_file is not None:
        raise LyncPkiError(
            "--generate-passphrase contradicts --passphrase-file (which passphrase?)",
            "give one of them",
        )
    if generate and env_secret(PASSPHRASE_ENV):
        raise LyncPkiError(
            f"--generate-passphrase while {PASSPHRASE_ENV} is set: later commands would take "
            f"{PASSPHRASE_ENV}, not the generated passphrase, and fail to open the keys",
            f"unset {PASSPHRASE_ENV} to generate one, or drop --generate-passphrase to use it",
        )


def _remove_unmade_home(ca_home: CaHome) -> None:
    """After a failed init in a home it made: remove it, unless a CA is there (made by another
    init meanwhile). Under the creation lock, so that no creation is under way."""
    if not ca_home.root.is_dir():
        return
    try:
        with exclusive(ca_home.root / CREATION_LOCK):
            if not ca_home.exists():
                shutil.rmtree(ca_home.root, ignore_errors=True)
    except OSError:
        pass


# ------------------------------------------------------------------------------------ issue
# `ca issue` and `ca approve` write the certificate the same way
def _out_path(text: str) -> Path | None:
    """--out's value: `-` is standard output, as most tools read it (it wrote a file "-")."""
    return None if text == "-" else Path(text)


OutOption = typer.Option(
    None,
    "--out",
    "-o",
    help="Write the certificate (PEM) to FILE (-: standard output).",
    metavar="FILE",
    parser=_out_path,
)
ChainOption = typer.Option(
    False,
    "--chain",
    help="Append the CA certificates above it (PEM): the issuing CA and the root; the root "
    "alone for a subordinate CA.",
)


@app.command("issue")
def issue_command(
    csr_file: Path = typer.Argument(
        ..., help="PKCS#10 request: PEM, DER or certreq .req.", metavar="REQUEST_FILE"
    ),
    template: str | None = typer.Option(
        None,
        "--template",
        help="Template (default: the one the request names, else WebServer).",
        metavar="NAME",
    ),
    out: Path | None = OutOption,
    chain: bool = ChainOption,
    validity_days: int | None = typer.Option(
        None,
        "--validity-days",
        min=1,
        help="Shorter validity than the template's (a longer one is refused).",
        metavar="DAYS",
    ),
    hash_name: str | None = typer.Option(
        None,
        "--hash",
        help="Signature hash: sha256 (default), sha384 or sha512, when the template lists it "
        "(SHA-1 is not offered: current OpenSSL and pyca/cryptography refuse to sign with it).",
        metavar="HASH",
    ),
    home: Path | None = HomeOption,
    passphrase_file: Path | None = PassphraseFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Issue a certificate from a request, under a template's policy.

    The request's signature (proof of possession) is checked first; then key type and size,
    names (DNS only, within the CA's namespaces, wildcards per template), subject and
    extensions. Every refusal gives its reason. A template that needs approval leaves the
    request pending (lyncpki ca approve ID).
    """
    _issue(csr_file, template, out, chain, validity_days, hash_name, home, passphrase_file, as_json)


def _certificate_pem(ca: CertificateAuthority, cert: x509.Certificate, chain: bool) -> bytes:
    pem = cert.public_bytes(Encoding.PEM)
    if chain:
        pem += b"".join(c.public_bytes(Encoding.PEM) for c in ca.chain_for(cert))
    return pem


def _issued(
    ca: CertificateAuthority, result: IssueResult, out: Path | None, chain: bool, as_json: bool
) -> None:
    if result.status == "pending" or result.certificate is None:
        message = (
            f"request {result.request_id} is pending: template {result.template} needs a "
            f"CA manager's approval (lyncpki ca approve {result.request_id})"
        )
        if as_json:
            emit_json(
                {
                    "status": "pending",
                    "request_id": result.request_id,
                    "template": result.template,
                    "message": message,
                }
            )
        else:
            stdout.print(message, markup=False)
        return
    pem = _certificate_pem(ca, result.certificate, chain)
    if out is not None:
        try:
            write_atomic(out, pem)
        except LyncPkiError as error:  # checked before signing; changed since
            serial = serial_hex(result.certificate.serial_number)
            raise LyncPkiError(
                f"issued serial {serial} (request {result.request_id}), but {error.message}",
                f"the certificate is recorded: write it again with lyncpki ca show {serial} "
                "--pem > FILE",
            ) from None
    summary = {
        "status": "issued",
        "request_id": result.request_id,
        "template": result.template,
        **_certificate_summary(result.certificate),
    }
    signer = ca.root if ca.templates.get(result.template).is_ca else ca.issuer
    end = signer.certificate.not_valid_after_utc
    cut = result.certificate.not_valid_after_utc >= end  # the template asked for longer
    note = (
        f"valid only until {end:%Y-%m-%d %H:%M} UTC, when the CA certificate that signed it "
        "expires: renew the CA before then"
        if cut
        else None
    )
    if as_json:
        emit_json(
            summary
            | ({"file": str(out)} if out else {"pem": pem.decode()})
            | ({"note": note} if note else {})
        )
        return
    if note:
        stderr.print(f"note: {note}", markup=False)
    if out is not None:
        stdout.print(
            f"issued serial {summary['serial']} ({result.template}) -> {out}", markup=False
        )
    else:  # the PEM alone on standard output; the serial (to revoke it one day) beside it
        stderr.print(f"issued serial {summary['serial']} ({result.template})", markup=False)
        sys.stdout.write(pem.decode())


@guarded()
def _issue(
    csr_file: Path,
    template: str | None,
    out: Path | None,
    chain: bool,
    validity_days: int | None,
    hash_name: str | None,
    home: Path | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    data = read_input(csr_file, "check the request file's path")
    if out is not None:
        if out.resolve() == csr_file.resolve():  # the certificate replaced its request
            raise LyncPkiError(
                f"--out {out} is the request file itself: the certificate would replace it",
                f"write the certificate to a file of its own, e.g. --out {out.stem}.cer",
            )
        check_output(out, home, "--out")  # before signing: never a certificate issued and lost
    ca = open_signing(home, passphrase_file)
    try:
        result = ca.submit(
            data,
            requester=actor(),
            template=template,
            source=one_line(str(csr_file)),
            validity_days=validity_days,
            hash_name=hash_name,
        )
    except RequestRefused as refused:
        if as_json:
            emit_json(
                {
                    "error": "RequestRefused",
                    "message": refused.message,
                    "fix": "; ".join(dict.fromkeys(r.fix for r in refused.refusals if r.fix)),
                    "refusals": [
                        {"code": r.code, "message": r.message, "fix": r.fix}
                        for r in refused.refusals
                    ],
                }
            )
            raise typer.Exit(2) from None
        stderr.print(f"[bold red]refused:[/] {escape(one_line(str(csr_file)))}", markup=True)
        for refusal in refused.refusals:
            stderr.print(
                f"  {refusal.code}: {refusal.message}\n    fix: {refusal.fix}",
                markup=False,
                soft_wrap=True,
            )
        raise typer.Exit(2) from None
    _issued(ca, result, out, chain, as_json)


# -------------------------------------------------------------------------- pending/approve
@app.command("pending")
def pending_command(
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """List requests waiting for a CA manager's approval."""
    _pending(home, as_json)


def _sans_listed(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its SANs as a JSON list, as every --json gives them (`ca show` and `ca
    pending` gave the database's comma-joined text, `ca list` a list)."""
    return row | {"sans": sans_list(row.get("sans"))}


@guarded()
def _pending(home: Path | None, as_json: bool) -> None:
    rows = open_read(home).pending()
    if as_json:
        emit_json(jsonable([_sans_listed(r) for r in rows]))
        return
    if not rows:
        stdout.print("no pending requests")
        return
    fields = [
        Field("Id", whole=True),
        Field("Template", whole=True),
        Field("Subject"),
        Field("SANs"),
        Field("Key", whole=True),
        Field("Asked", whole=True),
        Field("Requester"),
        Field("Submitted", whole=True),
    ]
    print_rows(
        stdout,
        fields,
        [
            [
                str(row["id"]),
                row["template"],
                row["subject"],
                row["sans"].replace(",", "\n"),
                row["key"],
                asked_text(row) or "-",
                row["requester"],
                _when(row["submitted_at"]),
            ]
            for row in rows
        ],
    )


@app.command("approve")
def approve_command(
    request_id: int = typer.Argument(
        ..., help="Request id (lyncpki ca pending).", metavar="REQUEST_ID"
    ),
    out: Path | None = OutOption,
    chain: bool = ChainOption,
    home: Path | None = HomeOption,
    passphrase_file: Path | None = PassphraseFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Approve a pending request: its policy is checked again, then it is issued."""
    _approve(request_id, out, chain, home, passphrase_file, as_json)


@guarded()
def _approve(
    request_id: int,
    out: Path | None,
    chain: bool,
    home: Path | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    if out is not None:
        check_output(out, home, "--out")  # before signing: never a certificate issued and lost
    ca = open_signing(home, passphrase_file)
    _issued(ca, ca.approve(request_id, actor=actor()), out, chain, as_json)


@app.command("deny")
def deny_command(
    request_id: int = typer.Argument(
        ..., help="Request id (lyncpki ca pending).", metavar="REQUEST_ID"
    ),
    reason: str = typer.Option("", "--reason", help="Why (kept in the audit log).", metavar="TEXT"),
    home: Path | None = HomeOption,
    passphrase_file: Path | None = PassphraseFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Deny a pending request."""
    _deny(request_id, reason, home, passphrase_file, as_json)


@guarded()
def _deny(
    request_id: int, reason: str, home: Path | None, passphrase_file: Path | None, as_json: bool
) -> None:
    open_signing(home, passphrase_file).deny(request_id, actor=actor(), reason=reason)
    if as_json:
        emit_json({"request_id": request_id, "status": "denied"})
    else:
        stdout.print(f"request {request_id} denied", markup=False)


# --------------------------------------------------------------------------- revoke and CRL
@app.command("revoke")
def revoke_command(
    serial: str = typer.Argument(
        ..., help="Serial in hex (as openssl prints it) or d:DECIMAL.", metavar="SERIAL"
    ),
    reason: str = typer.Option(
        "unspecified",
        "--reason",
        help="keyCompromise | superseded | cessationOfOperation | affiliationChanged | "
        "cACompromise | certificateHold | privilegeWithdrawn | unspecified",
        metavar="REASON",
    ),
    home: Path | None = HomeOption,
    passphrase_file: Path | None = PassphraseFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Revoke a certificate; the next CRL lists it (`ca crl`, or `ca crl --delta`).

    Publish that CRL with `lyncpki ca crl` (full, with a delta) or `lyncpki ca crl --delta`;
    a subordinate CA, which the root signed, is on the root's CRL: `lyncpki ca crl --root`.
    The OCSP responder of `ca serve` says revoked at once."""
    _revoke(serial, reason, home, passphrase_file, as_json)


@guarded()
def _revoke(
    serial: str, reason: str, home: Path | None, passphrase_file: Path | None, as_json: bool
) -> None:
    ca = open_signing(home, passphrase_file)
    result = ca.revoke(serial, reason=reason, actor=actor())  # refusals audited
    note = None
    row, _ = ca.certificate(result["serial"])
    if result["issuing_ca"] and result["reason"] == "certificateHold":
        note = (
            "this was the issuing CA's own certificate, now on hold: it issues nothing, and "
            "once the root's CRL is published (lyncpki ca crl --root) every certificate it "
            "issued fails validation, until the hold is released (lyncpki ca unrevoke "
            f"{result['serial']}, then lyncpki ca crl --root)"
        )
    elif result["issuing_ca"]:
        note = (
            "this was the issuing CA's own certificate: once the root's CRL is published "
            "(lyncpki ca crl --root), every certificate it issued fails validation; this CA "
            "should issue nothing more: make a new one (lyncpki ca init in a new home) and "
            "reissue (lyncpki deploy)"
        )
    elif row["template"] == OCSP_SIGNER_TEMPLATE and row["requester"] == "lyncpki":
        note = (
            "this was the certificate of the OCSP responder: `ca serve` signs with a new key and "
            "certificate from its next answer (and makes them at its next start)"
        )
    if as_json:
        emit_json(jsonable(result | ({"note": note} if note else {})))
    else:
        command = "lyncpki ca crl" + (" --root" if result["ca"] == ca.config.root_slug else "")
        stdout.print(
            f"revoked {result['serial']} ({result['reason']}); publish it: {command}", markup=False
        )
        if note:
            stdout.print(note, markup=False)


@app.command("unrevoke")
def unrevoke_command(
    serial: str = typer.Argument(
        ...,
        help="Serial of a certificate on hold (revoked with certificateHold).",
        metavar="SERIAL",
    ),
    home: Path | None = HomeOption,
    passphrase_file: Path | None = PassphraseFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Release a certificate on hold [AD CS: Unrevoke Certificate]: valid again.

    Only a hold (ca revoke --reason certificateHold) is released; any other revocation is final
    (a hold may also be made final: ca revoke SERIAL --reason keyCompromise). The next full CRL
    leaves it out and the next delta CRL lists it as removeFromCRL (publish them: lyncpki ca
    crl); the OCSP responder of `ca serve` says good at once."""
    _unrevoke(serial, home, passphrase_file, as_json)


@guarded()
def _unrevoke(serial: str, home: Path | None, passphrase_file: Path | None, as_json: bool) -> None:
    ca = open_signing(home, passphrase_file)
    result = ca.release(serial, actor=actor())  # refusals audited
    if as_json:
        emit_json(jsonable(result))
        return
    command = "lyncpki ca crl" + (" --root" if result["ca"] == ca.config.root_slug else "")
    stdout.print(
        f"released {result['serial']} from hold: valid again; publish it: {command}",
        markup=False,
    )


@app.command("crl")
def crl_command(
    delta: bool = typer.Option(False, "--delta", help="A delta CRL (changes since the base)."),
    root: bool = typer.Option(False, "--root", help="The root CA's CRL instead."),
    home: Path | None = HomeOption,
    passphrase_file: Path | None = PassphraseFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Publish the next CRL (DER at the CDP path, PEM beside it), atomically.

    A full CRL of the issuing CA comes with a fresh delta CRL based on it (as AD CS
    publishes them), so the delta served never names an older base."""
    _crl(delta, root, home, passphrase_file, as_json)


def _crl_dict(info: CrlInfo) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ca": info.ca,
        "number": info.number,
        "delta": info.delta,
        "base_number": info.base_number,
        "this_update": info.this_update.isoformat(),
        "next_update": info.next_update.isoformat(),
        "entries": info.entries,
        "file": info.path,
        "written": info.written,
    }
    if not info.written:
        data["found_number"] = info.found_number
    if info.delta_crl is not None:
        data["delta_crl"] = _crl_dict(info.delta_crl)
    return data


def _crl_line(info: CrlInfo) -> str:
    kind = "delta CRL" if info.delta else "CRL"
    base = f" (base #{info.base_number})" if info.delta else ""
    if not info.written:
        return (
            f"{kind} #{info.number}{base} of {info.ca} signed and recorded, not written: "
            f"{info.path} already holds #{info.found_number}, a newer one (published meanwhile "
            "by another process)"
        )
    return (
        f"published {kind} #{info.number}{base} of {info.ca}: {info.entries} entries, "
        f"next update {_when(info.next_update)} -> {info.path}"
    )


@guarded()
def _crl(
    delta: bool, root: bool, home: Path | None, passphrase_file: Path | None, as_json: bool
) -> None:
    info = open_signing(home, passphrase_file).publish_crl(actor=actor(), delta=delta, root=root)
    if as_json:
        emit_json(_crl_dict(info))
        return
    for one in (info, info.delta_crl):
        if one is not None:
            stdout.print(_crl_line(one), markup=False)


# ----------------------------------------------------------------------------- list and show
@app.command("list")
def list_command(
    status: str = typer.Option(
        "all", "--status", help="valid | revoked | expired | all", metavar="STATUS"
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """List issued certificates."""
    _list(status, home, as_json)


@guarded()
def _list(status: str, home: Path | None, as_json: bool) -> None:
    if status not in INVENTORY_STATES:  # before the CA is opened
        raise LyncPkiError(f"unknown status '{status}'", "use valid, revoked, expired or all")
    rows = open_read(home).inventory(status)
    if as_json:  # the SANs as a list, as `certs --json` gives them
        emit_json(jsonable([_sans_listed(r) for r in rows]))
        return
    if not rows:
        stdout.print("no certificates")
        return
    fields = [
        Field("Serial", whole=True),
        Field("Subject"),
        Field("Template", whole=True),
        Field("Status", whole=True),
        Field("Expires", whole=True),
        Field("Thumbprint", whole=True),
    ]
    print_rows(
        stdout,
        fields,
        [
            [
                row["serial"],
                row["subject"],
                row["template"],
                row["status"],
                _when(row["not_after"]),
                row["thumbprint"],
            ]
            for row in rows
        ],
    )


@app.command("show")
def show_command(
    serial: str = typer.Argument(..., help="Serial in hex or d:DECIMAL.", metavar="SERIAL"),
    pem: bool = typer.Option(False, "--pem", help="Print the certificate as PEM."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Show one certificate: its record, serial in both forms and thumbprint."""
    _show(serial, pem, home, as_json)


@guarded()
def _show(serial: str, pem: bool, home: Path | None, as_json: bool) -> None:
    row, cert = open_read(home).certificate(serial)
    text = cert.public_bytes(Encoding.PEM).decode()
    if pem and not as_json:
        sys.stdout.write(text)
        return
    data = jsonable(row) | {"serial_windows": serial_windows(cert.serial_number)}
    if as_json:  # with --pem, the PEM inside the document
        emit_json(_sans_listed(data) | ({"pem": text} if pem else {}))
        return
    for key, value in data.items():
        stdout.print(f"{key:<18} {value}", markup=False)


# ----------------------------------------------------------------------- chain and templates
@app.command("chain")
def chain_command(
    format: str = typer.Option("pem", "--format", help="pem | p7b", metavar="pem|p7b"),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write to this file.", metavar="FILE"
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """The CA chain (issuing CA, then root): what every relying server must trust.

    p7b is the PKCS#7 bundle Windows imports (DER). --json: each certificate's subject,
    thumbprint, validity and PEM, and the file written."""
    _chain(format, out, home, as_json)


@guarded()
def _chain(fmt: str, out: Path | None, home: Path | None, as_json: bool) -> None:
    if out is not None:
        check_output(out, home, "--out")
    chain = open_read(home).chain()
    if fmt == "pem":
        data = b"".join(c.public_bytes(Encoding.PEM) for c in chain)
    elif fmt == "p7b":
        data = pkcs7.serialize_certificates(chain, Encoding.DER)
    else:
        raise LyncPkiError(f"unknown format '{fmt}'", "use pem or p7b")
    if out is not None:
        write_atomic(out, data)
    if as_json:
        emit_json(
            {
                "file": str(out) if out else None,
                "format": fmt,
                "certificates": [
                    {
                        "subject": c.subject.rfc4514_string(),
                        "thumbprint": thumbprint(c),
                        "not_after": c.not_valid_after_utc.isoformat(),
                        "pem": c.public_bytes(Encoding.PEM).decode(),
                    }
                    for c in chain
                ],
            }
        )
    elif out is not None:
        stdout.print(f"wrote {out} ({fmt}, {len(chain)} certificates)", markup=False)
    elif fmt == "p7b":
        raise LyncPkiError("a p7b bundle is binary and cannot be printed", "add --out FILE.p7b")
    else:
        sys.stdout.write(data.decode())


@app.command("domains")
def domains_command(
    add: list[str] = typer.Option(
        [], "--add", help="A DNS namespace the CA may sign from now on (repeat).", metavar="DOMAIN"
    ),
    remove: list[str] = typer.Option(
        [], "--remove", help="A namespace it no longer signs (repeat).", metavar="DOMAIN"
    ),
    topology: Path | None = typer.Option(
        None,
        "--topology",
        "-t",
        help="Add every namespace the topology's planned names need (a SIP domain added to "
        "the deployment).",
        metavar="FILE",
    ),
    home: Path | None = HomeOption,
    passphrase_file: Path | None = PassphraseFileOption,
    as_json: bool = JsonOption,
) -> None:
    """List or change the DNS namespaces the CA signs (its name policy).

    A request naming anything outside them is refused (policy.namespace): a SIP domain added to
    the deployment needs its namespace here before the CA signs sip.<domain>, lyncdiscover and
    its simple URLs. `lyncpki deploy` adds the namespaces of its topology itself. A change needs
    the CA passphrase, is audited, and a running `ca serve` applies it to the next request.
    """
    _domains(add, remove, topology, home, passphrase_file, as_json)


@guarded()
def _domains(
    add: list[str],
    remove: list[str],
    topology: Path | None,
    home: Path | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    added = [normalize(d) for d in add]
    if both := sorted(set(added) & {normalize(d) for d in remove}):  # which one was meant?
        raise LyncPkiError(
            f"{both[0]} is both added and removed",
            "give it once: --add to sign it, --remove to stop",
        )
    for name_ in [*added, *(normalize(d) for d in remove)]:
        if problem := fqdn_problem(name_):
            raise LyncPkiError(f"'{name_}' {problem}", "give a DNS domain: contoso.com")
    if topology is not None:
        added += _topology_namespaces(topology)
    changing = bool(added or remove)
    ca = open_signing(home, passphrase_file) if changing else open_read(home)
    if changing:  # applied to the namespaces as they are when changed (refusals audited)
        change = ca.change_namespaces(
            add=added, remove=[normalize(d) for d in remove], actor=actor()
        )
        before, after = change.before, change.after
    else:
        before = after = ca.config.namespaces
    if as_json:
        emit_json({"namespaces": list(after), "added": sorted(set(after) - set(before)),
                   "removed": sorted(set(before) - set(after))})  # fmt: skip
        return
    if not after:
        stdout.print("this CA signs any DNS name (no namespace policy)", markup=False)
        return
    for name_ in sorted(set(after) - set(before)):
        stdout.print(f"added {name_}", markup=False)
    for name_ in sorted(set(before) - set(after)):
        stdout.print(f"removed {name_}", markup=False)
    stdout.print(f"namespaces: {', '.join(after)}", markup=False)


@app.command("templates")
def templates_command(
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """The certificate templates (policy) this CA offers."""
    _templates(home, as_json)


@guarded()
def _templates(home: Path | None, as_json: bool) -> None:
    from lyncpki.ca.authority import load_templates

    ca_home = home_of(home)
    if ca_home.exists():
        offered = load_templates(ca_home)
        templates = list(offered)
        if notice := held_notice(offered, str(ca_home.templates_file)):
            stderr.print(f"warning: {notice[0]}\n  fix: {notice[1]}", markup=False)
    else:  # a mistyped --home showed the built-ins as if they were its CA's
        templates = list(DEFAULT_TEMPLATES)
        stderr.print(
            f"note: no CA in {ca_home.root}: these are the built-in templates a new CA offers "
            "(lyncpki ca init)",
            markup=False,
        )
    if as_json:
        emit_json([t.as_dict() for t in templates])
        return
    fields = [
        Field("Name", whole=True),
        Field("EKU"),
        Field("Key usage"),
        Field("Days", whole=True),
        Field("Keys"),
        Field("Hashes"),
        Field("Wildcards", whole=True),
        Field("Names"),
        Field("Approval", whole=True),
    ]
    print_rows(
        stdout,
        fields,
        [
            [
                t.name,
                ", ".join(t.eku) or "-",
                ", ".join(t.key_usage),
                str(t.validity_days),
                "any" if set(t.key_types) == set(ALL_KEYS) else ", ".join(t.key_types),
                ", ".join(t.hashes),
                "yes" if t.allow_wildcards else "no",
                ", ".join(t.namespaces) or "the CA's",
                "yes" if t.approval else "no",
            ]
            for t in templates
        ],
    )


@app.command("audit")
def audit_command(
    limit: int = typer.Option(
        50, "--limit", min=1, max=1_000_000, help="How many entries, newest first.", metavar="N"
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """The audit log: who did what, when, and the outcome (refusals included)."""
    _audit(limit, home, as_json)


@guarded()
def _audit(limit: int, home: Path | None, as_json: bool) -> None:
    rows = open_read(home).audit_log(limit)
    if as_json:
        emit_json(jsonable(rows))
        return
    fields = [
        Field("When", whole=True),
        Field("Actor", whole=True),
        Field("Action", whole=True),
        Field("Target"),
        Field("Outcome", whole=True),
        Field("Detail"),
    ]
    print_rows(
        stdout,
        fields,
        [
            [
                _when(row["at"]),
                row["actor"],
                row["action"],
                row["target"],
                row["outcome"],
                row["detail"],
            ]
            for row in rows
        ],
    )
