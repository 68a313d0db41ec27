"""How the wizard asks: a small protocol its pages use, and its questionary implementation.
A page never calls questionary itself, so the same pages run in a terminal or from a script."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rich.console import Console
from rich.text import Text

from lyncpki.reports.visible import visible

NEXT, BACK, CANCEL = "Next", "Back", "Cancel"


class Cancelled(Exception):
    """The administrator cancelled (Cancel, or Ctrl-C): nothing is done."""


class Prompter(Protocol):
    def title(self, page: str, text: str = "") -> None: ...

    def show(self, lines: Sequence[str]) -> None: ...

    def choose(self, message: str, choices: Sequence[str], default: str | None = None) -> str: ...

    def text(self, message: str, default: str = "", *, secret: bool = False) -> str: ...

    def confirm(self, message: str, default: bool) -> bool: ...

    def pick(self, message: str, choices: Sequence[str], checked: Sequence[str]) -> list[str]: ...

    def navigate(self, *, back: bool = True, next_label: str = NEXT) -> str: ...


def _answer(value: object) -> object:
    if value is None:  # questionary's answer to Ctrl-C
        raise Cancelled
    return value


class TerminalPrompter:
    """questionary prompts on the terminal; page titles and texts printed with rich."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def title(self, page: str, text: str = "") -> None:
        self.console.rule(Text(visible(page), style="bold"))
        if text:
            self.console.print(Text(visible(text)))

    def show(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.console.print(Text(visible(line)), soft_wrap=True)

    def choose(self, message: str, choices: Sequence[str], default: str | None = None) -> str:
        import questionary  # prompt_toolkit: loaded by the wizard alone (50 ms a command)

        answer = questionary.select(
            message, choices=list(choices), default=default, use_shortcuts=True
        ).ask()
        return str(_answer(answer))

    def text(self, message: str, default: str = "", *, secret: bool = False) -> str:
        import questionary

        ask = questionary.password if secret else questionary.text
        return str(_answer(ask(message, default=default).ask()))

    def confirm(self, message: str, default: bool) -> bool:
        yes, no = "Yes", "No"
        return self.choose(message, [yes, no], yes if default else no) == yes

    def pick(self, message: str, choices: Sequence[str], checked: Sequence[str]) -> list[str]:
        import questionary

        answer = questionary.checkbox(
            message, choices=[questionary.Choice(c, checked=c in checked) for c in choices]
        ).ask()
        return [str(a) for a in _answer(answer)]  # type: ignore[attr-defined]

    def navigate(self, *, back: bool = True, next_label: str = NEXT) -> str:
        choices = [next_label, *([BACK] if back else []), CANCEL]
        answer = self.choose("Go to", choices, next_label)
        if answer == CANCEL:
            raise Cancelled
        return NEXT if answer == next_label else BACK
