"""How the command line talks: one stdout console for results, stderr for errors, and the
single place where errors become messages and exit codes (never a traceback)."""

from __future__ import annotations

import errno
import inspect
import json
import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from lyncpki.errors import LyncPkiError
from lyncpki.reports.visible import visible
from lyncpki.topology import TopologyError

EXIT_OK = 0
EXIT_FINDINGS = 1  # the command worked and found problems (e.g. --strict warnings)
EXIT_INPUT = 2  # the input cannot be used
EXIT_INTERNAL = 70  # a bug of ours (EX_SOFTWARE)


class _DataConsole(Console):
    """A console for data that others wrote (subjects, file names, servers): no rich markup
    read in it ("[/x]" would be taken for a tag, or crash) unless a print asks for it with the
    data escaped, and no control character obeyed (see reports/visible.py). Text objects are
    made with visible() where they are made."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # the width as the terminal (or COLUMNS) says when printing, not as COLUMNS said when
        # this module was imported: rich fixes it at construction when COLUMNS is set, and a
        # command run in-process (tests, the wizard's own runs) kept the first one's width
        self._width = None

    @property
    def soft_wrap(self) -> bool:
        """Never folded when not printed on a terminal: a log or a pipe keeps each message (a
        long file name among them) on its own lines, whole, for grep and for people."""
        return self._soft_wrap or not self.is_terminal

    @soft_wrap.setter
    def soft_wrap(self, value: bool) -> None:
        self._soft_wrap = value

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(visible(text), **kwargs)


stdout = _DataConsole(highlight=False, soft_wrap=True, markup=False)
stderr = _DataConsole(stderr=True, highlight=False, markup=False)

P = ParamSpec("P")
R = TypeVar("R")


def emit_json(document: Any) -> None:
    """Print a JSON document for scripts (plain, no colors)."""
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


def error_document(error: LyncPkiError) -> dict[str, Any]:
    """A domain error as `--json` says it: {error, message, fix}."""
    document: dict[str, Any] = {"error": type(error).__name__, "message": error.message}
    if error.fix:
        document["fix"] = error.fix
    return document


def fail(error: LyncPkiError, *, as_json: bool = False) -> NoReturn:
    """Report a domain error and exit with EXIT_INPUT."""
    if as_json:
        document = error_document(error)
        if isinstance(error, TopologyError):
            document["message"] = f"{len(error.issues)} problem(s) in {error.source}"
            document["issues"] = [i.as_dict(error.source) for i in error.issues]
        emit_json(document)
    elif isinstance(error, TopologyError):
        count = len(error.issues)
        stderr.print(
            f"[bold red]error:[/] {escape(error.source)}: "
            f"{count} problem{'s' if count != 1 else ''} in the topology",
            markup=True,
        )
        for issue in error.issues:
            stderr.print(issue.located(error.source), markup=False)
    else:
        say_error(error)
    raise typer.Exit(EXIT_INPUT)


def say_error(error: LyncPkiError) -> None:
    """An error and its fix on stderr, as every command says them."""
    stderr.print(f"[bold red]error:[/] {escape(error.message)}", markup=True, soft_wrap=True)
    if error.fix:
        stderr.print(f"  fix: {error.fix}", markup=False, soft_wrap=True)


def tls_error(error: OSError) -> LyncPkiError:
    """An OpenSSL refusal met outside the checks that turn it into a finding."""
    reason = getattr(error, "reason", None) or error.strerror or str(error)
    return LyncPkiError(
        f"TLS refused a certificate or key: {reason}",
        "lyncpki check names the certificate or key that is wrong (a key that does not match "
        "its certificate: key.mismatch with --verify-keys)",
    )


def filesystem_error(error: OSError) -> LyncPkiError:
    """What the filesystem refused, as the administrator must hear it: which path, why."""
    if not error.filename:
        return LyncPkiError(
            f"the system refused: {error.strerror or error}",
            "check the files and folders given to this command (paths, permissions, contents)",
        )
    if error.errno == errno.ENAMETOOLONG:
        return LyncPkiError(
            f"cannot use {error.filename}: a name in it is longer than the filesystem takes "
            "(255 bytes a file or folder name)",
            "choose a shorter name",
        )
    return LyncPkiError(
        f"cannot use {error.filename}: {error.strerror or error}",
        "check that the path exists, is writable by you and that its disk has space, or "
        "give the command another path",
    )


def _database_failure(error: Exception) -> bool:
    """An error of the database (SQLAlchemy's DBAPIError and its kinds: the database could
    not do it, or refused a value), told by name: importing SQLAlchemy here would slow every
    command's start. Its text holds the SQL and, on engines made without hide_parameters, the
    values (a password hash): only the driver's first line is ever said (database_error)."""
    return any(
        kind.__name__ == "DBAPIError" and kind.__module__.startswith("sqlalchemy")
        for kind in type(error).__mro__
    )


def database_error(error: Exception) -> LyncPkiError:
    """What the database said, its first line only (never the SQL or its parameters)."""
    orig = getattr(error, "orig", None)
    said = str(orig).strip() if orig is not None else ""
    reason = said.splitlines()[0] if said else type(error).__name__
    if type(error).__name__ == "OperationalError":
        return LyncPkiError(
            f"the CA database could not do it: {reason}; nothing was changed",
            "check the free space where the database lives (the home's ca/ folder for SQLite) "
            "and that its server runs, then run the command again",
        )
    return LyncPkiError(
        f"the CA database refused the change: {reason}; nothing was changed",
        "check that the database's tables are the ones lyncpki made (a column changed or a "
        "table replaced by hand: restore the database from a backup); if they are, run again "
        "with LYNCPKI_DEBUG=1 and report it",
    )


def guarded(as_json_param: str | None = "as_json") -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn domain errors into messages and unexpected ones into a short report, not a trace."""

    def decorate(command: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(command)

        @wraps(command)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            as_json = False
            if as_json_param:  # the flag, whether passed by position or by name
                bound = signature.bind_partial(*args, **kwargs).arguments
                as_json = bool(bound.get(as_json_param))
            try:
                return command(*args, **kwargs)
            except LyncPkiError as error:
                fail(error, as_json=as_json)
            except (
                typer.Exit,
                typer.Abort,
                typer.BadParameter,
                KeyboardInterrupt,
                BrokenPipeError,
            ):
                raise  # typer prints a bad parameter as a usage error (exit 2)
            except OSError as error:  # the filesystem refused: read-only, not ours, full
                if type(error).__module__ == "ssl":  # ssl.SSLError is an OSError, not a file's
                    fail(tls_error(error), as_json=as_json)
                fail(filesystem_error(error), as_json=as_json)
            except Exception as error:  # a bug: say so plainly, trace only on request
                if os.environ.get("LYNCPKI_DEBUG"):
                    traceback.print_exc()
                if _database_failure(error):  # disk full, server down, a value refused
                    fail(database_error(error), as_json=as_json)
                if as_json:  # a script reads stdout: it still gets a JSON document
                    emit_json({
                        "error": "InternalError",
                        "message": f"{type(error).__name__}: {error}",
                        "fix": "this is a bug in lyncpki; run again with LYNCPKI_DEBUG=1 "
                        "for details and report it",
                    })  # fmt: skip
                stderr.print(
                    f"[bold red]internal error:[/] {type(error).__name__}: {escape(str(error))}\n"
                    "  this is a bug in lyncpki; run again with LYNCPKI_DEBUG=1 for details",
                    markup=True,
                )
                raise typer.Exit(EXIT_INTERNAL) from None

        return run

    return decorate
