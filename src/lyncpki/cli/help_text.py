"""Help texts as the terminal should show them. The texts are written wrapped at the source's
line length; typer keeps those line breaks (in a command's own page after its first paragraph,
and in a group's list of commands), so on a terminal narrower than the source every line
broke twice. Each paragraph is given to typer as one line, and rich wraps it to the terminal."""

from __future__ import annotations

import inspect
from typing import Any

import typer
import typer.core


def flowed(text: str) -> str:
    """Each paragraph of `text` on one line; a paragraph whose lines are indented or bulleted
    (an example, a list) keeps its lines."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        p
        if any(line.startswith((" ", "- ", "* ", "\b")) for line in p.splitlines())
        else " ".join(line.strip() for line in p.splitlines())
        for p in paragraphs
    )


def _without_flag_types(params: list[Any]) -> list[Any]:
    """`params` with each flag's value type hidden: typer shows one for every option, so a flag
    read as if it took a value ("--json <bool>", "--help <bool>")."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class Command(typer.core.TyperCommand):
    """A command whose flags show no value type (values are named where they are declared)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _without_flag_types(super().get_params(ctx))


class Group(typer.core.TyperGroup):
    """A group whose flags show no value type."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _without_flag_types(super().get_params(ctx))


def flow_help(app: typer.Typer) -> None:
    """Every command's and group's help in `app`, its sub-groups included, flowed, and each
    built as a `Command` or `Group` (in place, before typer builds the commands)."""
    if app.info.cls in (None, typer.core.TyperGroup) or not isinstance(app.info.cls, type):
        app.info.cls = Group  # typer's default is a placeholder object
    for command in app.registered_commands:
        if command.cls in (None, typer.core.TyperCommand):  # typer's default
            command.cls = Command
        text = command.help or inspect.getdoc(command.callback)
        if text:
            command.help = flowed(text)
    for group in app.registered_groups:
        sub = group.typer_instance
        if sub is None:
            continue
        for info in (group, sub.info):
            if isinstance(info.help, str):  # else typer's placeholder: no help given there
                info.help = flowed(info.help)
        flow_help(sub)


# Below this many columns a command's `--help` uses click's plain layout: typer's rich panels
# shrink the option-name column until long names are cut ("--ca-password-fi…") and fold each
# option's help a few words a line; the plain layout wraps the help under the option. Groups
# keep the panels, whose command lists wrap where click's would cut each summary short.
PLAIN_HELP_BELOW = 100


def plain_help_for_commands(command: Any) -> None:
    """Click's plain help layout for every command (not group) under `command`."""
    subcommands = getattr(command, "commands", None)
    if subcommands is None:
        command.rich_markup_mode = None
        return
    for sub in subcommands.values():
        plain_help_for_commands(sub)
