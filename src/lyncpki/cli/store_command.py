"""`lyncpki import | assign | certs | remove | export`: a server's certificate store
[Import-, Set-, Get-, Remove-CsCertificate, and the MMC's PFX export]."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer

from lyncpki.atomic import write_atomic
from lyncpki.checks.export_chain import export_chain
from lyncpki.cli.assign_flow import assign_checked
from lyncpki.cli.ca_context import HomeOption, JsonOption, check_outside_home, home_of
from lyncpki.cli.output import EXIT_FINDINGS, emit_json, guarded, say_error, stderr, stdout
from lyncpki.cli.store_context import (
    PasswordOption,
    ServerOption,
    StorePassphraseOption,
    TopologyOption,
    open_store,
    parse_when,
    pfx_password,
    store_secret,
    topology_path,
)
from lyncpki.enrollment.exporting import export_pfx, replaceable_pfx
from lyncpki.enrollment.importing import import_file, is_pkcs12_file
from lyncpki.enrollment.selection import parse_usages
from lyncpki.errors import LyncPkiError
from lyncpki.reports.certs_table import print_certificates
from lyncpki.store import ServerStore, StoreError, servers_in, thumbprint_name
from lyncpki.store.listing import CertificateRow, certificate_rows

TypeOption = typer.Option(
    ...,
    "--type",
    help="Usage(s), comma-separated or repeated: Default, WebServicesInternal, "
    "WebServicesExternal, OAuthTokenIssuer, Internal, AccessEdgeExternal, DataEdgeExternal, "
    "AudioVideoAuthentication, ...",
    show_default=False,
    metavar="USAGES",
)


# ----------------------------------------------------------------------------------- import
def import_command(
    file: Path = typer.Argument(
        ...,
        help="The CA's answer (.cer/.crt PEM or DER, .p7b PKCS#7 with the chain), a .pfx/.p12 "
        "with its key, or CA certificates to trust.",
        show_default=False,
        metavar="FILE",
    ),
    server: str = ServerOption,
    password: str | None = PasswordOption,
    exportable: bool | None = typer.Option(
        None,
        "--exportable/--no-exportable",
        help="Mark an imported .pfx key exportable (default: exportable for a .pfx, as the "
        "pending request said for an answer).",
        show_default=False,
    ),
    friendly_name: str | None = typer.Option(
        None, "--friendly-name", help="Friendly name.", metavar="NAME"
    ),
    home: Path | None = HomeOption,
    passphrase_file: Path | None = StorePassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Install a certificate into a server's store [Import-CsCertificate].

    A CA's answer is matched to the private key of the request made on this server; a .pfx
    brings its own key (stored encrypted with the store's passphrase). The chain's CA
    certificates become trusted (roots and intermediates). A file holding only CA
    certificates (a root, a .p7b chain) just adds them to the trusted certificates.
    """
    _import(file, server, password, exportable, friendly_name, home, passphrase_file, as_json)


@guarded()
def _import(
    file: Path,
    server: str,
    password: str | None,
    exportable: bool | None,
    friendly_name: str | None,
    home: Path | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    store = open_store(home, server)
    pkcs12 = is_pkcs12_file(file)
    if pkcs12:
        password = pfx_password(password, purpose=".pfx file", to_open=True)
    secret = store_secret(home, passphrase_file) if pkcs12 else None
    if pkcs12 and exportable is None:
        exportable = True
    result = import_file(
        store,
        file,
        password=password,
        secret=secret,
        exportable=exportable,
        friendly_name=friendly_name,
    )
    document = {
        "server": store.server,
        "file": str(file),
        "form": result.form,
        "certificate": (
            {
                "thumbprint": result.certificate.thumbprint,
                "friendly_name": result.certificate.friendly_name,
                "exportable": result.certificate.exportable,
            }
            if result.certificate
            else None
        ),
        "answered_request": result.answered.id if result.answered else None,
        "already_installed": result.already,
        "left_out": list(result.left_out),
        "trusted": [t.as_dict() for t in result.trusted],
        "not_trusted": list(result.not_trusted),
        "not_installed": list(result.not_installed),
    }
    if as_json:
        emit_json(document)
        return
    for warning, line in result.notes(store.server):
        (stderr if warning else stdout).print(line, markup=False)


# ----------------------------------------------------------------------------------- assign
def assign_command(
    server: str = ServerOption,
    types: list[str] = TypeOption,
    thumbprint: str = typer.Option(
        ...,
        "--thumbprint",
        help="SHA-1 thumbprint of an installed certificate.",
        show_default=False,
        metavar="THUMBPRINT",
    ),
    topology: Path | None = TopologyOption,
    roll: bool = typer.Option(
        False,
        "--roll",
        help="Stage the certificate (A/V authentication, OAuth) until --effective-date.",
    ),
    effective_date: str | None = typer.Option(
        None,
        "--effective-date",
        help="With --roll: when it becomes current (2026-12-24T18:00, local time unless an "
        "offset is given).",
        metavar="WHEN",
    ),
    force: bool = typer.Option(False, "--force", help="Assign even when the checks find errors."),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Assign an installed certificate to usages [Set-CsCertificate].

    Before assigning, lyncpki checks that the certificate fits each usage: every planned SAN
    (with --topology), Server Authentication (and Client Authentication where planned), a
    chain to a root the server trusts, its private key in the store, valid now, a supported
    key and signature, a CRL distribution point. Errors refuse the assignment (exit 1) unless
    --force. --roll --effective-date stages it (R-CMD-SET), checking the lead time: 8 hours
    before the old A/V certificate expires, 24 hours for OAuth.
    """
    _assign(server, types, thumbprint, topology, roll, effective_date, force, home, as_json)


@guarded()
def _assign(
    server: str,
    types: list[str],
    thumbprint: str,
    topology: Path | None,
    roll: bool,
    effective_date: str | None,
    force: bool,
    home: Path | None,
    as_json: bool,
) -> None:
    if roll != (effective_date is not None):
        raise LyncPkiError(
            "--roll and --effective-date go together",
            "give both to stage a certificate, or neither to assign it at once",
        )
    store = open_store(home, server)
    _existing(store)
    effective = parse_when(effective_date) if effective_date else None
    result = assign_checked(
        store,
        types,
        thumbprint,
        plan_path=topology_path(home, topology, required=False),
        quiet=as_json,
        force=force,
        effective=effective,
    )
    if as_json:
        emit_json(result)
    if not result["assigned"]:
        raise typer.Exit(EXIT_FINDINGS)


def _existing(store: ServerStore) -> None:
    if not store.exists():
        raise StoreError(
            f"{store.server} has no store in this home yet",
            f"request or import a certificate first (lyncpki request --server {store.server})",
        )


# ------------------------------------------------------------------------------------ certs
def certs_command(
    server: str | None = typer.Option(
        None,
        "--server",
        "-s",
        help="One server (default: every store of the home).",
        metavar="FQDN",
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """List the certificates of the servers' stores [Get-CsCertificate, and more].

    Each row: server, Type (usage), state (assigned / staged / previous / unassigned /
    pending request), Thumbprint, Subject, SANs, Issuer, NotAfter, EffectiveDate. A store that
    cannot be read is reported after the others are listed, and the exit status is 1.
    """
    _certs(server, home, as_json)


@guarded()
def _certs(server: str | None, home: Path | None, as_json: bool) -> None:
    root = home_of(home).root  # a file given as the home is refused there
    if not root.is_dir():  # a mistyped --home listed nothing and passed for an empty home
        raise LyncPkiError(
            f"there is no lyncpki home at {root}",
            "give the home that deploy, request or import wrote (--home DIR, or $LYNCPKI_HOME)",
        )
    if server:
        store = open_store(home, server)
        _existing(store)
    rows: list[CertificateRow] = []
    unreadable: list[tuple[str, StoreError]] = []  # (server, why): the others still listed
    for name in [store.server] if server else servers_in(root, damaged=True):
        try:
            listed = open_store(home, name)
            if not listed.exists():  # its certs/ or keys/ are there: the index is lost
                raise StoreError(
                    f"the store of {name} has no index ({listed.paths.index} is "
                    + ("a folder)" if listed.paths.index.is_dir() else "missing)"),
                    "restore store.json from a backup; the certificates and keys beside it "
                    "are intact",
                )
            rows += certificate_rows(listed, listed.clock.now())
        except StoreError as error:
            unreadable.append((name, error))
    if as_json:
        emit_json({
            "home": str(root),
            "certificates": [r.as_dict() for r in rows],
            "unreadable": [
                {"server": name, "message": e.message, "fix": e.fix} for name, e in unreadable
            ],
        })  # fmt: skip
    elif rows:
        print_certificates(rows, stdout)
    elif not unreadable:
        where = f"the store of {server}" if server else str(root / "servers")
        stdout.print(f"no certificates in {where}", markup=False)
    for _, damaged in [] if as_json else unreadable:
        say_error(damaged)
    if unreadable:
        raise typer.Exit(EXIT_FINDINGS)


# ----------------------------------------------------------------------------------- remove
def remove_command(
    server: str = ServerOption,
    types: list[str] = TypeOption,
    previous: bool = typer.Option(
        False, "--previous", help="Remove the rolled-out (previous) certificate instead."
    ),
    home: Path | None = HomeOption,
    as_json: bool = JsonOption,
) -> None:
    """Un-assign a usage's certificate [Remove-CsCertificate]; it stays in the store."""
    _remove(server, types, previous, home, as_json)


@guarded()
def _remove(
    server: str, types: list[str], previous: bool, home: Path | None, as_json: bool
) -> None:
    store = open_store(home, server)
    _existing(store)
    removed: list[dict[str, Any]] = []
    usages = [str(u) for u in dict.fromkeys(parse_usages(types))]
    for usage, before in zip(
        usages, store.unassign_all(usages, previous=previous), strict=True
    ):  # all or none
        gone = before.previous if previous else before.current
        staged = None if previous else before.staged
        removed.append(
            {
                "type": usage,
                "thumbprint": gone.thumbprint if gone else None,
                "staged": staged.as_dict() if staged else None,  # goes with the usage
            }
        )
    if as_json:
        emit_json({"server": store.server, "previous": previous, "removed": removed})
        return
    for item in removed:
        what = [f"({item['thumbprint']})"] if item["thumbprint"] else []
        if item["staged"]:
            when = dt.datetime.fromisoformat(item["staged"]["effective"])
            what.append(
                f"{'and ' if what else ''}the staged {item['staged']['thumbprint']} (it was "
                f"to become current {when.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC)"
            )
        stdout.print(
            f"removed {'previous ' if previous else ''}{item['type']} {' '.join(what)} "
            f"on {store.server}",
            markup=False,
        )


# ----------------------------------------------------------------------------------- export
def export_command(
    server: str = ServerOption,
    pfx: Path = typer.Option(
        ..., "--pfx", help="The .pfx file to write.", show_default=False, metavar="FILE"
    ),
    usage: str | None = typer.Option(
        None, "--type", help="The usage whose current certificate to export.", metavar="USAGE"
    ),
    thumbprint: str | None = typer.Option(
        None, "--thumbprint", help="Or the certificate's thumbprint.", metavar="THUMBPRINT"
    ),
    password: str | None = PasswordOption,
    legacy: bool = typer.Option(
        False,
        "--legacy",
        help="3DES and SHA-1 encryption, for Windows Server 2012 R2 and older (default: "
        "AES-256 and SHA-256).",
    ),
    replace: bool = typer.Option(
        False,
        "--replace",
        help="Write over an existing .pfx (it may be the only copy of another key; a file of "
        "another kind is never replaced).",
    ),
    home: Path | None = HomeOption,
    passphrase_file: Path | None = StorePassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    """Export a certificate with its private key and chain as PKCS#12 (.pfx).

    For another server of an Edge pool, the OAuth certificate's Front Ends, or a reverse proxy.
    Only keys marked exportable can be exported (R-GEN-12)."""
    _export(
        server, pfx, usage, thumbprint, password, legacy, replace, home, passphrase_file, as_json
    )


@guarded()
def _export(
    server: str,
    pfx: Path,
    usage: str | None,
    thumbprint: str | None,
    password: str | None,
    legacy: bool,
    replace: bool,
    home: Path | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    if (usage is None) == (thumbprint is None):
        raise LyncPkiError(
            "give --type or --thumbprint" + ("" if usage is None else ", not both"),
            "e.g. --type AccessEdgeExternal, or --thumbprint of a certificate lyncpki certs lists",
        )
    replaceable_pfx(pfx, "--pfx", replace=replace)
    check_outside_home(pfx, home, "--pfx", "NAME.pfx")  # never into the CA's folder, a store...
    store = open_store(home, server)
    _existing(store)
    if usage is not None:
        chosen = parse_usages([usage])
        if len(chosen) != 1:
            raise LyncPkiError("give one --type to export", "e.g. --type Internal")
        slots = store.load().slots(str(chosen[0]), store.clock.now())
        if slots.current is None:
            raise StoreError(
                f"no certificate is assigned to {chosen[0]} on {store.server}",
                "give --thumbprint, or assign one first",
            )
        thumbprint = slots.current.thumbprint
    assert thumbprint is not None
    wanted = thumbprint_name(thumbprint)
    chain = export_chain(store, wanted, store.clock.now())
    secret = store_secret(home, passphrase_file)
    data = export_pfx(
        store,
        wanted,
        secret=secret,
        password=pfx_password(password, purpose=".pfx file"),
        chain=chain.certificates,
        legacy=legacy,
    )
    write_atomic(pfx, data, mode=0o600)
    document: dict[str, object] = {
        "server": store.server,
        "thumbprint": wanted,
        "pfx": str(pfx),
        "chain": len(chain.certificates),
        "chain_validated": chain.validated,
        "encryption": "3DES/SHA-1 (legacy)" if legacy else "AES-256/SHA-256",
    }
    warning = chain.warning()
    if warning:
        document["warning"] = warning
    if as_json:
        emit_json(document)
    else:
        if warning:
            stderr.print(f"warning: {warning}", markup=False, soft_wrap=True)
        stdout.print(
            f"exported {wanted} with its key and {len(chain.certificates)} CA certificate(s) "
            f"to {pfx} ({document['encryption']}, file mode 0600)",
            markup=False,
        )
