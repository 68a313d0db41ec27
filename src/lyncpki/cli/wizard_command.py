"""`lyncpki wizard`: the Certificate Wizard in a terminal."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from lyncpki.checks.deployment import store_sites, stores
from lyncpki.cli.ca_context import HomeOption, home_of
from lyncpki.cli.output import EXIT_FINDINGS, guarded, stdout
from lyncpki.cli.store_context import TopologyOption, topology_path
from lyncpki.errors import LyncPkiError
from lyncpki.planning import plan
from lyncpki.store import server_name
from lyncpki.topology import load_topology
from lyncpki.wizard.pages import run
from lyncpki.wizard.prompter import Cancelled, GoBack, TerminalPrompter
from lyncpki.wizard.state import WizardState

HELP = """The Certificate Wizard of the Lync Deployment Wizard, in a terminal.

Request (immediate, to a CA service, or delayed, as a .req file), Assign, Import or Export a
server's certificates, page by page as the Deployment Wizard's "Step 3: Request, Install or
Assign Certificates" does: certificate, delayed or immediate, CA, CA account, template, name
and security (friendly name, bit length, exportable), organization, geography, the subject
and SANs from the topology, SIP domains, additional SANs, summary (with the equivalent
`lyncpki request` command line), executing, status, assignment. Back (or Esc, at any
question) on every page keeps the answers; a summary that cannot make the request offers the
pages to go back to. Cancel or Ctrl-C before "Executing Commands" changes nothing.
"""


def wizard_command(
    topology: Path | None = TopologyOption,
    server: str | None = typer.Option(
        None, "--server", "-s", help="The server (else asked).", metavar="FQDN"
    ),
    home: Path | None = HomeOption,
) -> None:
    _wizard(topology, server, home)


@guarded(None)
def _wizard(topology: Path | None, server: str | None, home: Path | None) -> None:
    if not sys.stdin.isatty():
        raise LyncPkiError(
            "the wizard needs a terminal",
            "run it in a terminal, or use the flags of lyncpki request / import / assign",
        )
    path = topology_path(home, topology, required=True)
    assert path is not None
    deployment = load_topology(path)  # read once: the plan and the wizard's defaults
    result = plan(deployment, source=str(path))
    state = WizardState(home_of(home).root, path, deployment, result)
    ui = TerminalPrompter(stdout)
    try:
        if server is None:
            names = stores(result)
            server = ui.choose("Server", names, names[0], groups=store_sites(result))
        state.server = server_name(server)
        run(state, ui)
    except (Cancelled, GoBack):  # Esc at the first question: nothing to go back to
        stdout.print("cancelled: nothing more was done", markup=False)
        raise typer.Exit(EXIT_FINDINGS) from None
