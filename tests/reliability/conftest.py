"""Fixtures of the reliability suite: its scoreboard, and the table printed at the end."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pytest
from scoreboard import LONG, OUTPUT, ROWS, Scoreboard


@pytest.fixture(scope="session")
def scoreboard() -> Scoreboard:
    return Scoreboard()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not ROWS:
        return
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps([asdict(r) for r in ROWS.values()], indent=2) + "\n")
    write = terminalreporter.write_line
    write("")
    write(f"reliability ({'long' if LONG else 'short'} form)")
    write(f"{'test':<44} {'tried / held / injected':<36} {'failures':>8} {'data lost':>9}")
    for row in ROWS.values():
        write(f"{row.test:<44} {row.tried:<36} {row.failures:>8} {row.lost:>9}  {row.notes}")
