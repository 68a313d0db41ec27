"""What the server-store commands (request, import, assign, certs, remove, export) share: the
store of a server, its passphrase, the plan of the topology, passwords and dates as typed."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import sys
from pathlib import Path

import typer

from lyncpki.checks import Finding
from lyncpki.checks.home_check import HOME_TOPOLOGY
from lyncpki.cli.ca_context import home_of
from lyncpki.cli.output import stdout
from lyncpki.errors import LyncPkiError
from lyncpki.inputs import env_secret, read_secret
from lyncpki.passphrase import ask_twice
from lyncpki.reports.findings_table import FIELDS, finding_cells
from lyncpki.reports.records import print_rows
from lyncpki.store import ServerStore, resolve_store_passphrase
from lyncpki.store.protection import STORE_PASSPHRASE_ENV, stores_protected

TOPOLOGY_ENV = "LYNCPKI_TOPOLOGY"
PFX_PASSWORD_ENV = "LYNCPKI_PFX_PASSWORD"
CA_PASSWORD_ENV = "LYNCPKI_CA_PASSWORD"

ServerOption = typer.Option(
    ...,
    "--server",
    "-s",
    help="The server's FQDN (its store is <home>/servers/<fqdn>); 'global' for the replicated "
    "OAuthTokenIssuer certificate.",
    show_default=False,
    metavar="FQDN",
)
TopologyOption = typer.Option(
    None,
    "--topology",
    "-t",
    help=f"Topology file (default: ${TOPOLOGY_ENV}, else <home>/topology.yaml when present).",
    metavar="FILE",
)
StorePassphraseOption = typer.Option(
    None,
    "--passphrase-file",
    help=f"File holding the passphrase of the store's private keys (else ${STORE_PASSPHRASE_ENV},"
    " else $LYNCPKI_CA_PASSPHRASE, else the home's generated secret, else a prompt).",
    metavar="FILE",
)
PasswordOption = typer.Option(
    None,
    "--password",
    help=f"Password of the .pfx (else ${PFX_PASSWORD_ENV}, else a prompt). A password on the "
    "command line is visible to other users of the machine: prefer the variable.",
    metavar="PASSWORD",
)


def open_store(home: Path | None, server: str) -> ServerStore:
    return ServerStore(home_of(home).root, server)


def _prompt(label: str, *, confirm: bool = False) -> str:
    """A secret typed at the terminal ("" without one); typed twice when it is being chosen
    (a typo would otherwise become the passphrase of keys no one can open)."""
    if not sys.stdin.isatty():
        return ""
    return ask_twice(lambda text: getpass.getpass(f"{text}: "), label, confirm=confirm)


def store_secret(home: Path | None, passphrase_file: Path | None) -> bytes:
    root = home_of(home).root
    return resolve_store_passphrase(
        root,
        passphrase_file=passphrase_file,
        prompt=lambda: _prompt(
            "Passphrase of the server stores' keys", confirm=not stores_protected(root)
        ),
    )


def pfx_password(given: str | None, *, purpose: str, to_open: bool = False) -> str:
    """The .pfx password: --password, $LYNCPKI_PFX_PASSWORD or a prompt. A file `to_open` may
    have none (openssl pkcs12 -passout pass:, or no encryption at all), as Windows' import
    accepts: it is tried without one, and a file that needs one is refused then. A .pfx
    written here always has one."""
    value = (
        given
        or env_secret(PFX_PASSWORD_ENV)
        or _prompt(f"Password of the {purpose}", confirm=not to_open)
    )
    if not value and not to_open:
        raise LyncPkiError(
            f"the {purpose} needs a password",
            f"give --password, or set {PFX_PASSWORD_ENV}",
        )
    return value


def ca_password(account: str | None, password_file: Path | None) -> str | None:
    """The CA account's password (the wizard's alternate credentials): a file, the environment
    ($LYNCPKI_CA_PASSWORD) or a prompt."""
    if account is None:
        return None
    if password_file is not None:
        return read_secret(password_file, "check --ca-password-file", required=True)
    value = env_secret(CA_PASSWORD_ENV) or _prompt(f"Password of CA account {account}")
    if not value:
        raise LyncPkiError(
            f"no password for CA account {account}",
            f"set {CA_PASSWORD_ENV}, or use --ca-password-file FILE",
        )
    return value


def topology_path(home: Path | None, given: Path | None, *, required: bool) -> Path | None:
    if given is not None:
        return given
    if env := os.environ.get(TOPOLOGY_ENV):
        return Path(env)
    default = home_of(home).root / HOME_TOPOLOGY
    if default.is_file():
        return default
    if required:
        raise LyncPkiError(
            "this needs the deployment's topology",
            f"give --topology FILE (or set {TOPOLOGY_ENV})",
        )
    return None


def parse_when(text: str) -> dt.datetime:
    """An effective date as typed: ISO 8601 date or date and time; without an offset it is the
    machine's local time (as Set-CsCertificate reads -EffectiveDate)."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise LyncPkiError(
            f"'{text[:60]}' is not a date",
            "write it as 2026-12-24 or 2026-12-24T18:00 (local time) or with an offset "
            "(2026-12-24T18:00+01:00)",
        ) from None
    if value.tzinfo is None:
        value = value.astimezone()
    return value.astimezone(dt.UTC)


def print_findings(findings: list[Finding]) -> None:
    print_rows(stdout, FIELDS, [finding_cells(f) for f in findings])
