"""The `lyncpki` application: its commands and its entry point."""

from __future__ import annotations

import typer

from lyncpki import __version__
from lyncpki.cli import ca_command, serve_command, topology_command
from lyncpki.cli.plan_command import HELP as PLAN_HELP
from lyncpki.cli.plan_command import plan_command

app = typer.Typer(
    name="lyncpki",
    help="lyncpki runs the certificates of a Lync Server 2013 / Skype for Business deployment: "
    "plan every certificate from a topology file, and issue them from an embedded enterprise "
    "CA.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("plan", help=PLAN_HELP)(plan_command)
app.add_typer(topology_command.app, name="topology")
ca_command.app.command("serve")(serve_command.serve_command)
ca_command.app.add_typer(serve_command.account_app, name="account")
app.add_typer(ca_command.app, name="ca")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lyncpki {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """lyncpki: plan, issue, store, assign and check Lync Server certificates."""


def main() -> None:
    app()
