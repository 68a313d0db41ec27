"""The reliability suite's scoreboard: each test records what it tried (inputs, load, faults),
what failed and what data was lost; the table is printed at the end of the run and written to
test-output/reliability.json. CI runs the short form; `make reliability` the long one
(LYNCPKI_RELIABILITY=long: 100,000 fuzzed inputs and more, minutes of load, 200 kills)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

LONG = os.environ.get("LYNCPKI_RELIABILITY") == "long"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "reliability.json"


@dataclass
class Row:
    test: str
    tried: str  # inputs tried / load held / faults injected
    failures: int = 0
    lost: int = 0
    notes: str = ""


ROWS: dict[str, Row] = {}


class Scoreboard:
    def record(
        self, test: str, tried: str, failures: int = 0, lost: int = 0, notes: str = ""
    ) -> None:
        ROWS[test] = Row(test, tried, failures, lost, notes)

    def count(self, test: str, tried_unit: str, failed: bool = False) -> None:
        """One more input of a fuzz test."""
        row = ROWS.setdefault(test, Row(test, f"0 {tried_unit}"))
        number = int(row.tried.split()[0].replace(",", "")) + 1
        row.tried = f"{number:,} {tried_unit}"
        row.failures += int(failed)
