"""Problems found in a topology file, each with where it is and how to fix it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lyncpki.errors import LyncPkiError

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """`('sites', 0, 'pools', 2, 'fqdn')` -> `sites[0].pools[2].fqdn`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


@dataclass(frozen=True, slots=True)
class TopologyIssue:
    """One thing wrong in a topology file."""

    path: Path
    message: str
    fix: str
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based

    @property
    def field(self) -> str:
        return format_path(self.path)

    def located(self, source: str) -> str:
        where = source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.field}: {self.message}\n    fix: {self.fix}"

    def as_dict(self, source: str) -> dict[str, object]:
        return {
            "file": source,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "message": self.message,
            "fix": self.fix,
        }


class TopologyError(LyncPkiError):
    """A topology file that cannot be used, with every problem found in it (not just the first)."""

    def __init__(self, source: str, issues: Sequence[TopologyIssue]) -> None:
        self.source = source
        self.issues = sorted(issues, key=lambda i: (i.line or 0, i.column or 0, i.field))
        count = len(self.issues)
        header = f"{source}: {count} problem{'s' if count != 1 else ''} in the topology"
        super().__init__(
            header + "\n" + "\n".join(i.located(source) for i in self.issues),
            "correct each problem listed (file, line, field) and run `lyncpki topology validate` "
            "again",
        )
