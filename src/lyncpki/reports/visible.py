"""Values for a terminal: shown, never obeyed.

A subject, a SAN, a site name or a file name comes from a certificate, a request or a topology
that someone else may have written. Printed as it is, an ESC sequence in it recolours, moves or
clears the administrator's terminal, a carriage return overwrites what was printed before, and
a right-to-left override (U+202E) makes a name read backwards. Every character that is not
printable (except the line break) is shown as its escape instead: `\\x1b`, `\\u202e`.
"""

from __future__ import annotations


def visible(text: str) -> str:
    """`text` with each non-printable character but the line break shown as an escape."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == "\n" else _escape(ch) for ch in text)


def one_line(text: str) -> str:
    """`text` (a file name) with every non-printable character shown as an escape, the line
    break too: inside a message, a name's line break would start a line of its own that the
    name's author wrote."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def shown(value: object) -> object:
    """Jinja's `finalize` for HTML pages: every text a template prints made visible (a browser
    obeys a right-to-left override as a terminal obeys ESC); markup a filter made (a `Markup`),
    and values that are not text, as they are."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        # a CRLF line break is a line break (a pasted request shown again in its textarea)
        return visible(value.replace("\r\n", "\n"))
    return value


__all__ = ["one_line", "shown", "visible"]
