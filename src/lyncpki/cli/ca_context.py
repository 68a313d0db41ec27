"""What the `lyncpki ca ...` commands share: the home, the passphrase, opening the CA, the
common options and JSON conversion."""

from __future__ import annotations

import datetime as dt
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from lyncpki.atomic import check_outside, check_writable
from lyncpki.ca.home import DEFAULT_HOME, HOME_ENV, PASSPHRASE_ENV, CaHome, resolve_passphrase
from lyncpki.errors import LyncPkiError
from lyncpki.home_safety import refuse_unsafe_home
from lyncpki.passphrase import ask_twice
from lyncpki.store.layout import DEPLOY_LOCK, SERVERS_DIR

if TYPE_CHECKING:  # imported when a CA is opened: the commands that only name a home start
    from lyncpki.ca.authority import CertificateAuthority  # without SQLAlchemy


def _home_path(text: str) -> Path:
    """--home's value: an empty one is refused ("" is the current folder to pathlib: a CA's
    keys landed wherever the shell stood, from a script whose variable was unset)."""
    if not text.strip():
        raise typer.BadParameter("it is empty: give the home's folder (--home . for this one)")
    return Path(text)


HomeOption = typer.Option(
    None,
    "--home",
    help=f"lyncpki home (default: ${HOME_ENV}, else ./{DEFAULT_HOME}).",
    metavar="DIR",
    parser=_home_path,
)
JsonOption = typer.Option(False, "--json", help="Print the result as JSON.")
PassphraseFileOption = typer.Option(
    None,
    "--passphrase-file",
    help=f"File holding the CA key passphrase (else ${PASSPHRASE_ENV}, else the home's generated "
    "secret, else a prompt).",
    metavar="FILE",
)


def home_of(home: Path | None) -> CaHome:
    """The home given (--home, else $LYNCPKI_HOME, else ./lyncpki-data); a file there is refused
    (every command then failed on a path below it, with a fix about that path)."""
    variable = os.environ.get(HOME_ENV)
    if home is None and variable is not None and not variable.strip():
        # "" is the current folder to pathlib: a CA's keys landed wherever the shell stood
        raise LyncPkiError(
            f"${HOME_ENV} is empty",
            f"give the home's folder (--home DIR; --home . for this folder), or unset "
            f"${HOME_ENV} for ./{DEFAULT_HOME}",
        )
    given = CaHome(home or Path(variable or DEFAULT_HOME))
    if not str(given.root).isprintable():  # a line break pasted in: every message split by it
        raise LyncPkiError(
            f"the home {str(given.root)!r} holds a control character (a line break?)",
            f"give the home's folder name without it (--home DIR, or ${HOME_ENV})",
        )
    if given.root.exists() and not given.root.is_dir():
        raise LyncPkiError(
            f"the home {given.root} is a file, not a folder",
            "give the folder that holds the CA and the servers' stores (--home DIR, or "
            f"${HOME_ENV})",
        )
    refuse_unsafe_home(given.root)
    return given


def check_output(out: Path, home: Path | None, option: str, example: str = "NAME.pem") -> None:
    """Refuse, before the work, an output file that cannot be written (a folder, a device, a
    missing folder) or that lands inside what the home keeps: its CA, stores, secrets,
    published files, topology or last check (`check -o HOME/ca/ca.sqlite` wrote a table over
    the CA's database)."""
    check_outside_home(out, home, option, example)  # first: it says what the place is
    check_writable(out, option, example)


def check_outside_home(
    out: Path, home: Path | None, option: str, example: str, *, topology: bool = True
) -> None:
    """Refuse an output inside what the home keeps (see check_output); `topology=False`: but
    the home's topology file (`topology init --force` writes one)."""
    from lyncpki.checks.home_check import HOME_TOPOLOGY, LAST_CHECK  # the checks, when asked

    root = home_of(home)
    places = [
        ("the CA's folder", root.ca_dir),
        ("the servers' stores", root.root / SERVERS_DIR),
        ("the home's secrets", root.secrets),
        ("the CA's published CRLs and certificates", root.publish),
        ("the home's last check", root.root / LAST_CHECK),
    ]
    if topology:
        places.append(("the home's topology", root.root / HOME_TOPOLOGY))
    check_outside(out, places, option, "output", example)


def home_around(out: Path) -> Path | None:
    """The lyncpki home `out` would land in (a folder of it holding a CA's config, servers'
    stores or a deploy lock), for a command that has no --home (`plan -o`), or None."""
    folder = Path(os.path.realpath(out)).parent
    for candidate in (folder, *folder.parents):
        if (
            (candidate / "ca" / "config.json").is_file()
            or (candidate / SERVERS_DIR).is_dir()
            or (candidate / DEPLOY_LOCK).exists()
        ):
            return candidate
    return None


def actor() -> str:
    try:
        return f"local:{getpass.getuser()}"
    except (KeyError, OSError):
        return "local"


def prompt_passphrase() -> str:
    """The passphrase of an existing CA, typed once (checked against its keys)."""
    if not sys.stdin.isatty():
        return ""
    return str(typer.prompt("CA key passphrase", hide_input=True))


def prompt_new_passphrase() -> str:
    """A new CA's passphrase, typed twice (a typo would lock its keys for good)."""
    if not sys.stdin.isatty():
        return ""
    return ask_twice(lambda text: getpass.getpass(f"{text}: "), "CA key passphrase")


def open_signing(home: Path | None, passphrase_file: Path | None) -> CertificateAuthority:
    ca_home = home_of(home)
    ca_home.read_config()  # a missing CA is reported before asking for a passphrase
    secret = resolve_passphrase(ca_home, passphrase_file=passphrase_file, prompt=prompt_passphrase)
    from lyncpki.ca.authority import CertificateAuthority

    return CertificateAuthority.open(ca_home, secret, actor=actor())


def open_read(home: Path | None) -> CertificateAuthority:
    """The CA for commands that only read (no passphrase asked)."""
    from lyncpki.ca.authority import CertificateAuthority

    return CertificateAuthority.open(home_of(home), None)


def jsonable(value: Any) -> Any:
    """`value` for JSON; times always with their offset (SQLite gives back the UTC times it
    stores without one)."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
