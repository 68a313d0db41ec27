"""The `lyncpki` application: its commands and its entry point."""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path

import typer
import typer.main

from lyncpki import __version__, file_lock
from lyncpki.cli.help_text import PLAIN_HELP_BELOW, plain_help_for_commands
from lyncpki.cli.lazy_group import USAGE_ERROR, Lazy, LazyGroup, click_class, lazy_group
from lyncpki.cli.output import EXIT_INPUT, emit_json, stderr

_CLI = "lyncpki.cli."
COMMANDS = {  # in the order `lyncpki --help` lists them; each imported when it runs
    "plan": Lazy(
        _CLI + "plan_command",
        "plan_command",
        "HELP",
        "Plan every certificate a Lync Server 2013 deployment needs: the Certificates Report.",
    ),
    "topology": Lazy(
        _CLI + "topology_command",
        "app",
        None,
        "Write an example topology to edit, or validate one.",
    ),
    "ca": Lazy(
        _CLI + "ca_command",
        "app",
        None,
        "The embedded enterprise CA: a root and an issuing CA with templates as policy, issuance "
        "from PKCS#10 requests (PEM, DER or certreq .req), approval, revocation and full/delta "
        "CRLs. State lives in --home (default ./lyncpki-data or $LYNCPKI_HOME).",
    ),
    "request": Lazy(
        _CLI + "request_command",
        "request_command",
        "HELP",
        "Request certificates for a server from the plan [Request-CsCertificate].",
    ),
    "import": Lazy(
        _CLI + "store_command",
        "import_command",
        None,
        "Install a certificate into a server's store [Import-CsCertificate].",
    ),
    "assign": Lazy(
        _CLI + "store_command",
        "assign_command",
        None,
        "Assign an installed certificate to usages [Set-CsCertificate].",
    ),
    "certs": Lazy(
        _CLI + "store_command",
        "certs_command",
        None,
        "List the certificates of the servers' stores [Get-CsCertificate, and more].",
    ),
    "remove": Lazy(
        _CLI + "store_command",
        "remove_command",
        None,
        "Un-assign a usage's certificate [Remove-CsCertificate]; it stays in the store.",
    ),
    "export": Lazy(
        _CLI + "store_command",
        "export_command",
        None,
        "Export a certificate with its private key and chain as PKCS#12 (.pfx).",
    ),
    "check": Lazy(
        _CLI + "check_command",
        "check_command",
        "HELP",
        "Check that the certificates are right [Test-CsCertificateConfiguration, and far beyond].",
    ),
    "deploy": Lazy(
        _CLI + "deploy_command",
        "deploy_command",
        "HELP",
        "Deploy every certificate of a topology, check it, and prove it on the wire.",
    ),
    "wizard": Lazy(
        _CLI + "wizard_command",
        "wizard_command",
        "HELP",
        "The Certificate Wizard of the Lync Deployment Wizard, in a terminal.",
    ),
}

app = typer.Typer(
    name="lyncpki",
    help="lyncpki runs the certificates of a Lync Server 2013 / Skype for Business deployment: "
    "plan every certificate from a topology file, issue them from an embedded enterprise CA, "
    "and request, import, assign and export them in each server's store.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    cls=lazy_group(COMMANDS),
)


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


_CLICK_EXCEPTION = click_class("ClickException")


def _waiting(path: Path) -> None:
    stderr.print(
        f"waiting: another lyncpki command holds {path} (it goes on when that one ends; "
        "Ctrl-C stops this one)",
        markup=False,
    )


def main() -> None:
    # pyca/cryptography warns while decoding some malformed names; lyncpki reports what it
    # refuses in its own words, so the warning would only be noise on the terminal.
    warnings.filterwarnings("ignore", message="Attribute's length", category=UserWarning)
    # ... and on a serial number that is not positive: `serial.not-positive` says it
    warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive")
    file_lock.on_wait(_waiting)
    command = typer.main.get_command(app)
    if shutil.get_terminal_size().columns < PLAIN_HELP_BELOW:
        LazyGroup.plain_help = True  # and for each command as it is built
        plain_help_for_commands(command)
    args = sys.argv[1:]
    if "--json" not in (args[: args.index("--")] if "--" in args else args):
        command()
        return
    # a script asked for JSON: a usage error (an unknown option, a bad value) is JSON on stdout
    # too, as every other error of the command is, not a box on the terminal
    try:
        code = command.main(args=args, prog_name="lyncpki", standalone_mode=False)
    except USAGE_ERROR as error:
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
