"""Help texts as the terminal should show them. The texts are written wrapped at the source's
line length; typer keeps those line breaks (in a command's own page after its first paragraph,
and in a group's list of commands), so on a terminal narrower than the source every line
broke twice. Each paragraph is given to typer as one line, and rich wraps it to the terminal."""

from __future__ import annotations

import inspect
from typing import Any

import typer


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


def flow_help(app: typer.Typer) -> None:
    """Every command's and group's help in `app`, its sub-groups included, flowed (in place,
    before typer builds the commands)."""
    for command in app.registered_commands:
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
