"""Reading the files an administrator names (a request, a bundle to import, a trusted root, a
password or passphrase file): a file that cannot be read is an error that says which file and
what to check, never a traceback."""

from __future__ import annotations

from pathlib import Path

from lyncpki.errors import LyncPkiError


def read_input(
    path: Path, fix: str, *, label: str | None = None, error: type[LyncPkiError] = LyncPkiError
) -> bytes:
    """The bytes of `path`; `error` ("cannot read <label or path>: why", `fix`) otherwise."""
    try:
        return path.read_bytes()
    except OSError as failure:
        raise error(f"cannot read {label or path}: {failure.strerror}", fix) from None


def read_secret(path: Path, fix: str, *, label: str | None = None) -> str:
    """A password or passphrase kept in a file: its first text, without the line end."""
    return read_input(path, fix, label=label).decode("utf-8").strip()
