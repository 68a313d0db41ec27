"""`lyncpki topology init|validate`: start a topology file, and check one without planning."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import typer

from lyncpki.atomic import check_writable, write_atomic
from lyncpki.cli.ca_context import check_outside_home, home_around
from lyncpki.cli.output import emit_json, guarded, stdout
from lyncpki.errors import LyncPkiError
from lyncpki.topology import load_topology

app = typer.Typer(help="Write an example topology to edit, or validate one.", no_args_is_help=True)


def example_topology() -> str:
    """The commented example topology shipped with lyncpki."""
    return resources.files("lyncpki.topology").joinpath("example.yaml").read_text("utf-8")


@app.command("init")
def init_command(
    file: Path = typer.Argument(
        Path("topology.yaml"), help="Where to write the example ('-' prints it).", metavar="FILE"
    ),
    force: bool = typer.Option(
        False,
        "--force",
        help="Overwrite an existing topology file (never a key, a .pfx, a database, nor a file "
        "of a home's CA, stores or secrets).",
    ),
) -> None:
    """Write a commented example topology (Microsoft's Contoso names) for you to edit.

    Every example name left unedited is flagged by `lyncpki plan` (warning plan.default-name).
    """
    _init(file, force)


@guarded(None)
def _init(file: Path, force: bool) -> None:
    text = example_topology()
    if str(file) == "-":
        sys.stdout.write(text)
        return
    if file.is_dir():
        raise LyncPkiError(
            f"{file} is a folder", f"name a file inside it ({file / 'topology.yaml'})"
        )
    # --force replaces an earlier topology, never what a home keeps (its CA, stores, secrets,
    # published files) nor a private key, a .pfx or a database: checked before "exists"
    if (home := home_around(file)) is not None:
        check_outside_home(file, home, "FILE", "topology.yaml", topology=False)
    check_writable(file, "FILE", "topology.yaml")
    if file.exists() and not force:
        raise LyncPkiError(f"{file} already exists", "choose another name, or add --force")
    write_atomic(file, text.encode("utf-8"))
    stdout.print(
        f"wrote {file}: replace the example names, then run: lyncpki plan {file}", markup=False
    )


@app.command("validate")
def validate_command(
    file: Path = typer.Argument(..., help="Topology file (.yaml, .yml or .json).", metavar="FILE"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check a topology file without planning: every problem at once, with line and fix.

    Each problem names its file, line and column, and how to fix it. Exit status 0 when valid,
    2 when not."""
    _validate(file, as_json=as_json)


@guarded()
def _validate(file: Path, *, as_json: bool) -> None:
    topology = load_topology(file)
    pools = [pool for _, pool in topology.pools()]
    servers = sum(len(pool.members) for pool in pools)
    summary = {
        "valid": True,
        "file": str(file),
        "sip_domains": list(topology.sip_domains),
        "sites": len(topology.sites),
        "pools": len(pools),
        "servers": servers,
    }
    if as_json:
        emit_json(summary)
    else:
        stdout.print(
            f"{file}: valid — {len(topology.sites)} site(s), {len(pools)} pool(s), "
            f"{servers} server(s), SIP domains {', '.join(topology.sip_domains)}",
            markup=False,
        )
