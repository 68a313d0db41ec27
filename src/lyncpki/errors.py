"""Domain exceptions: each carries a message a person can act on and, where known, a fix."""

from __future__ import annotations


class LyncPkiError(Exception):
    """Base of every error lyncpki reports to a user (never shown as a traceback)."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message if not self.fix else f"{self.message}\n  fix: {self.fix}"
