"""How the wizard asks: a small protocol its pages use, and its questionary implementation.
A page never calls questionary itself, so the same pages run in a terminal or from a script.
Esc at any question goes Back (`GoBack`), as the Back button would, except where Back is not
offered (after Executing Commands)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings
from rich.console import Console
from rich.text import Text

from lyncpki.reports.visible import visible

NEXT, BACK, CANCEL = "Next", "Back", "Cancel"


class Cancelled(Exception):
    """The administrator cancelled (Cancel, or Ctrl-C): nothing is done."""


class GoBack(Exception):
    """The administrator pressed Esc: back to the previous page, its answers kept."""


_ESCAPED = object()  # what a question answers when Esc left it


class Prompter(Protocol):
    def title(self, page: str, text: str = "") -> None: ...

    def show(self, lines: Sequence[str]) -> None: ...

    def choose(
        self,
        message: str,
        choices: Sequence[str],
        default: str | None = None,
        *,
        groups: Mapping[str, str] | None = None,  # each choice's group (a server's site)
    ) -> str: ...

    def text(self, message: str, default: str = "", *, secret: bool = False) -> str: ...

    def confirm(self, message: str, default: bool) -> bool: ...

    def pick(self, message: str, choices: Sequence[str], checked: Sequence[str]) -> list[str]: ...

    def navigate(self, *, back: bool = True, next_label: str = NEXT) -> str: ...


def _answer(value: object) -> object:
    if value is None:  # questionary's answer to Ctrl-C
        raise Cancelled
    if value is _ESCAPED:
        raise GoBack
    return value


def _escapable(question: Any, *, back: bool = True) -> Any:
    """`question` (questionary's) answering `_ESCAPED` to Esc; Esc does nothing unless `back`.
    prompt_toolkit tells a lone Esc from the start of an arrow key's sequence after a short
    wait (its ttimeoutlen, half a second)."""
    if not back:
        return question
    keys = KeyBindings()

    @keys.add("escape", eager=True)
    def _escape(event: Any) -> None:
        event.app.exit(result=_ESCAPED)

    application = question.application
    application.key_bindings = merge_key_bindings([application.key_bindings, keys])
    return question


def _searchable(choices: Sequence[str], groups: Mapping[str, str]) -> list[Any]:
    """questionary's Choices: each titled with its group beside it, so that typing a site's
    name keeps its servers; the groups together, in the order they first come."""
    import questionary

    grouped: dict[str, list[str]] = {}
    for choice in choices:
        grouped.setdefault(groups.get(choice, ""), []).append(choice)
    width = max(len(c) for c in choices)
    return [
        questionary.Choice(title=f"{choice:<{width}}  {visible(group)}".rstrip(), value=choice)
        for group, members in grouped.items()
        for choice in members
    ]


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

    def choose(
        self,
        message: str,
        choices: Sequence[str],
        default: str | None = None,
        *,
        groups: Mapping[str, str] | None = None,
    ) -> str:
        return self._choose(message, choices, default, groups=groups)

    def _choose(
        self,
        message: str,
        choices: Sequence[str],
        default: str | None,
        *,
        back: bool = True,
        groups: Mapping[str, str] | None = None,
    ) -> str:
        """A list with a shortcut key for each choice (1-9, 0, a-z) when it has that few; a
        longer one (the servers of a large topology) is chosen with the arrows, or by typing
        part of a choice or of its group to filter it (questionary refuses shortcuts for more
        choices than it has keys: the wizard crashed on a topology of 37 stores)."""
        import questionary  # prompt_toolkit: loaded by the wizard alone (50 ms a command)
        from questionary.prompts.common import InquirerControl

        if len(choices) <= len(InquirerControl.SHORTCUT_KEYS):
            question = questionary.select(
                message, choices=list(choices), default=default, use_shortcuts=True
            )
        else:
            question = questionary.select(
                message,
                choices=_searchable(choices, groups or {}),
                default=default,
                use_search_filter=True,
                use_jk_keys=False,  # j and k are letters of the filter
            )
        return str(_answer(_escapable(question, back=back).ask()))

    def text(self, message: str, default: str = "", *, secret: bool = False) -> str:
        import questionary

        ask = questionary.password if secret else questionary.text
        return str(_answer(_escapable(ask(message, default=default)).ask()))

    def confirm(self, message: str, default: bool) -> bool:
        yes, no = "Yes", "No"
        return self.choose(message, [yes, no], yes if default else no) == yes

    def pick(self, message: str, choices: Sequence[str], checked: Sequence[str]) -> list[str]:
        import questionary

        question = questionary.checkbox(
            message, choices=[questionary.Choice(c, checked=c in checked) for c in choices]
        )
        return [str(a) for a in _answer(_escapable(question).ask())]  # type: ignore[attr-defined]

    def navigate(self, *, back: bool = True, next_label: str = NEXT) -> str:
        choices = [next_label, *([BACK] if back else []), CANCEL]
        try:
            answer = self._choose(
                "Go to (Esc: Back)" if back else "Go to", choices, next_label, back=back
            )
        except GoBack:
            return BACK
        if answer == CANCEL:
            raise Cancelled
        return NEXT if answer == next_label else BACK
