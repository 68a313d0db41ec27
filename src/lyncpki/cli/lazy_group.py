"""Command groups whose commands are imported when they are run (or listed by `--help`).

Each command module imports the part of lyncpki it drives: the CA and SQLAlchemy, the
planner and pydantic, the service and FastAPI. Imported all at once they cost 0.8 s before any
command starts; `lyncpki ca list` needs only the CA's. A group made by `lazy_group` names its
commands and the module attribute that defines each (a command function, or a `typer.Typer`
sub-group), and builds a command the first time click asks for it by name. Its own `--help`
lists each command by the summary given here, without importing any of them (1.1 s -> 0.2 s)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any, ClassVar

import typer
import typer.core
import typer.main

from lyncpki.cli.help_text import Group, flow_help, plain_help_for_commands


@dataclass(frozen=True)
class Lazy:
    """A command defined in `module`: the function or typer.Typer `attribute`, the help text
    `help` (a module attribute; a function's docstring when None), and the `summary` the
    group's `--help` lists it by: the first paragraph of that help, word for word (a test
    holds them together)."""

    module: str
    attribute: str
    help: str | None = None
    summary: str = ""


class _Listed(typer.core.TyperCommand):
    """A command as its group's `--help` lists it: a name and a summary, nothing imported."""


def click_class(name: str) -> type[Exception]:
    """click's exception class `name`, as the installed typer raises it (recent typer versions
    carry their own copy of click): found above typer.BadParameter, which typer exports."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == name)


USAGE_ERROR = click_class("UsageError")
_PYDANTIC_PREFIX = "Value error, "


class LazyGroup(Group):
    """A group whose `lazy` commands are built when first looked up."""

    lazy: ClassVar[dict[str, Lazy]] = {}
    plain_help: ClassVar[bool] = False  # set on LazyGroup by main(); every lazy group reads it
    _listing = False  # while this group's own help is written

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        eager = list(super().list_commands(ctx))
        return eager + [name for name in self.lazy if name not in eager]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            summary = self.lazy[cmd_name].summary
            if self._listing and summary:
                return _Listed(cmd_name, help=summary)
            self.add_command(self._build(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: Any) -> Any:
        """As click's, with a bad value's message in plain words: typer checks values with
        pydantic, whose messages begin "Value error, " ("Invalid value for '--layout': Value
        error, 'both' is not one of 'separate', 'combined'.")."""
        try:
            return super().invoke(ctx)
        except USAGE_ERROR as error:
            message = getattr(error, "message", "")
            if isinstance(message, str) and message.startswith(_PYDANTIC_PREFIX):
                error.message = message.removeprefix(_PYDANTIC_PREFIX)  # type: ignore[attr-defined]
            raise

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """As typer's, with "Did you mean ...?" drawn from every command (typer suggests from
        the commands built so far: none, before one is run)."""
        try:
            return super().resolve_command(ctx, args)
        except USAGE_ERROR as error:
            message: str = getattr(error, "message", "")
            if args and "Did you mean" not in message:
                matches = get_close_matches(args[0], self.list_commands(ctx))
                if matches:
                    names = ", ".join(repr(m) for m in matches)
                    error.message = f"{message.rstrip('.')}. Did you mean {names}?"  # type: ignore[attr-defined]
            raise

    def _build(self, name: str) -> Any:
        entry = self.lazy[name]
        module = importlib.import_module(entry.module)
        target = getattr(module, entry.attribute)
        if isinstance(target, typer.Typer):  # a sub-group, as add_typer() would make it
            flow_help(target)
            command: Any = typer.main.get_group(target)
        else:
            app = typer.Typer(add_completion=False)
            app.command(name, help=getattr(module, entry.help) if entry.help else None)(target)
            flow_help(app)
            command = typer.main.get_command(app)
        command.name = name
        if self.plain_help:
            plain_help_for_commands(command)
        return command


def lazy_group(commands: dict[str, Lazy]) -> type[LazyGroup]:
    """A LazyGroup class with `commands` (typer takes a group's class, not an instance)."""
    return type("LazyGroup", (LazyGroup,), {"lazy": dict(commands)})


def subcommands(command: Any) -> dict[str, Any]:
    """The commands of a group, each built (empty for a command): for walking the whole tree."""
    if not hasattr(command, "list_commands"):
        return {}
    return {name: command.get_command(None, name) for name in command.list_commands(None)}
