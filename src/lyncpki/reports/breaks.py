"""Lines of a table cell, broken only where a value may break.

Rich wraps a cell at spaces and folds a word a few characters at a time when the column is
narrower than the word: a thumbprint, a usage name or a DNS name comes out cut in two. Here a
value is first split into pieces that may each end a line (`pieces`: after each comma of a
list, after each space of a sentence); `wrap` fills lines with whole pieces. Only a piece
wider than the whole column is broken, at its spaces and at last a character at a time: the
table's layout (reports/certs_table.py) chooses columns wide enough for that never to happen.
Widths are terminal cells (`cell_len`), not characters.
"""

from __future__ import annotations

import re

from rich.cells import cell_len

AFTER_COMMA = re.compile(r"(?<!\\),\s*")  # a list; an RDN's escaped comma ("\,") holds
AFTER_SPACE = re.compile(r"\s+")
BETWEEN_WORDS = re.compile(r"(?<!\\),\s*|\s+")  # after a comma or a space


def pieces(text: str, after: re.Pattern[str]) -> list[str]:
    """`text` cut after each match of `after`, the match kept: ''.join(pieces) == text."""
    cuts = [match.end() for match in after.finditer(text) if match.end() < len(text)]
    starts = [0, *cuts]
    return [text[start:end] for start, end in zip(starts, [*cuts, len(text)], strict=True)]


def width_of(piece: str) -> int:
    """The cells a piece takes at the end of a line (its trailing spaces do not show)."""
    return cell_len(piece.rstrip())


def wrap(parts: list[str], width: int) -> list[str]:
    """Whole pieces on as few lines of at most `width` cells as they fit."""
    lines: list[str] = []
    line = ""
    for part in _fitting(parts, max(1, width)):
        if line and width_of(line + part) > width:
            lines.append(line.rstrip())
            line = ""
        line += part
    return [*lines, line.rstrip()]


def _fitting(parts: list[str], width: int) -> list[str]:
    """The pieces, each one wider than `width` broken at its spaces, then folded."""
    out: list[str] = []
    for part in parts:
        if width_of(part) <= width:
            out.append(part)
            continue
        for word in pieces(part, AFTER_SPACE):
            out += [word] if width_of(word) <= width else _fold(word, width)
    return out


def _fold(word: str, width: int) -> list[str]:
    chunks = [""]
    for char in word:
        if chunks[-1] and cell_len(chunks[-1] + char) > width:
            chunks.append("")
        chunks[-1] += char
    return chunks
