"""The `lyncpki` application: its commands and its entry point."""

from __future__ import annotations

import shutil
import sys
import warnings

import typer
import typer.main

from lyncpki import __version__
from lyncpki.cli import (
    ca_command,
    check_command,
    deploy_command,
    request_command,
    serve_command,
    store_command,
    topology_command,
    wizard_command,
)
from lyncpki.cli.help_text import PLAIN_HELP_BELOW, flow_help, plain_help_for_commands
from lyncpki.cli.output import EXIT_INPUT, emit_json
from lyncpki.cli.plan_command import HELP as PLAN_HELP
from lyncpki.cli.plan_command import plan_command

app = typer.Typer(
    name="lyncpki",
    help="lyncpki runs the certificates of a Lync Server 2013 / Skype for Business deployment: "
    "plan every certificate from a topology file, issue them from an embedded enterprise CA, "
    "and request, import, assign and export them in each server's store.",
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
app.command("request", help=request_command.HELP)(request_command.request_command)
app.command("import")(store_command.import_command)
app.command("assign")(store_command.assign_command)
app.command("certs")(store_command.certs_command)
app.command("remove")(store_command.remove_command)
app.command("export")(store_command.export_command)
app.command("check", help=check_command.HELP)(check_command.check_command)
app.command("deploy", help=deploy_command.HELP)(deploy_command.deploy_command)
app.command("wizard", help=wizard_command.HELP)(wizard_command.wizard_command)
flow_help(app)  # each paragraph one line: rich wraps it to the terminal's width


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


def _base(name: str) -> type[Exception]:
    """click's exception class `name`, as the installed typer raises it (recent typer versions
    carry their own copy of click): found above typer.BadParameter, which typer exports."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == name)


_USAGE_ERROR = _base("UsageError")
_CLICK_EXCEPTION = _base("ClickException")


def main() -> None:
    # pyca/cryptography warns while decoding some malformed names; lyncpki reports what it
    # refuses in its own words, so the warning would only be noise on the terminal.
    warnings.filterwarnings("ignore", message="Attribute's length", category=UserWarning)
    command = typer.main.get_command(app)
    if shutil.get_terminal_size().columns < PLAIN_HELP_BELOW:
        plain_help_for_commands(command)
    args = sys.argv[1:]
    if "--json" not in (args[: args.index("--")] if "--" in args else args):
        command()
        return
    # a script asked for JSON: a usage error (an unknown option, a bad value) is JSON on stdout
    # too, as every other error of the command is, not a box on the terminal
    try:
        code = command.main(args=args, prog_name="lyncpki", standalone_mode=False)
    except _USAGE_ERROR as error:
        ctx = getattr(error, "ctx", None)
        where = ctx.command_path if ctx is not None else "lyncpki"
        emit_json(
            {
                "error": "UsageError",
                "message": error.format_message(),  # type: ignore[attr-defined]
                "fix": f"see {where} --help",
            }
        )
        sys.exit(EXIT_INPUT)
    except _CLICK_EXCEPTION as error:
        error.show()  # type: ignore[attr-defined]
        sys.exit(error.exit_code)  # type: ignore[attr-defined]
    except typer.Abort:
        print("Aborted!", file=sys.stderr)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
