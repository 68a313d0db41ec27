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
        help="Overwrite an existing topology file: a .yaml, .yml or .json text (never a "
        "certificate, a request, a key, a .pfx, a database, nor a file of a home's CA, stores or "
        "secrets).",
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
    if file.exists():
        _refuse_unless_topology(file)
    write_atomic(file, text.encode("utf-8"))
    stdout.print(
        f"wrote {file}: replace the example names, then run: lyncpki plan {file}", markup=False
    )


TOPOLOGY_SUFFIXES = (".yaml", ".yml", ".json")


def _refuse_unless_topology(file: Path) -> None:
    """--force replaces a topology file, nothing else a mistyped name may point at: a
    certificate, a request, a report, a binary file."""
    what = None
    if file.suffix.lower() not in TOPOLOGY_SUFFIXES:
        what = f"its name does not end in {', '.join(TOPOLOGY_SUFFIXES)}"
    else:
        try:
            what = _not_topology_text(file.read_bytes()[:4096])
        except OSError as error:
            what = f"it cannot be read ({error.strerror})"
    if what is not None:
        raise LyncPkiError(
            f"{file} is no topology file ({what}): --force replaces only a topology",
            f"check the name; to start over, write the example elsewhere: "
            f"lyncpki topology init {file.with_name(file.stem + '-topology.yaml')}",
        )


def _not_topology_text(start: bytes) -> str | None:
    """Why a file beginning with `start` is no topology, or None when it may be one."""
    try:
        head = start.decode("utf-8").lstrip()
    except UnicodeDecodeError:
        return "it is not text"
    if "\0" in head:
        return "it is not text"
    if head.startswith("-----BEGIN"):
        return f"it holds {head.splitlines()[0].strip('-').removeprefix('BEGIN ')}"
    return None


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
