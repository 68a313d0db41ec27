"""Reading the files an administrator names (a request, a bundle to import, a trusted root, a
password or passphrase file): a file that cannot be read is an error that says which file and
what to check, never a traceback.

Reads are bounded: a certificate, a request or a bundle of them is kilobytes (a PKCS#7 of a
whole deployment's chain a few megabytes), a secret a line. A path to a disk image, a log or a
device such as /dev/zero is refused once the bound is passed, instead of filling the memory.
"""

from __future__ import annotations

import os
from pathlib import Path

from lyncpki.errors import LyncPkiError

MAX_INPUT_BYTES = 64 * 1024 * 1024
MAX_SECRET_BYTES = 64 * 1024


def read_input(
    path: Path,
    fix: str,
    *,
    label: str | None = None,
    error: type[LyncPkiError] = LyncPkiError,
    limit: int = MAX_INPUT_BYTES,
) -> bytes:
    """The bytes of `path`; `error` ("cannot read <label or path>: why", `fix`) otherwise."""
    try:
        with path.open("rb") as stream:
            data = stream.read(limit + 1)
    except OSError as failure:
        raise error(f"cannot read {label or path}: {failure.strerror}", fix) from None
    if len(data) > limit:
        raise error(
            f"{label or path} is larger than {_size(limit)}: not a certificate, request, bundle "
            "or secret file",
            fix,
        )
    return data


def read_secret(path: Path, fix: str, *, label: str | None = None, required: bool = False) -> str:
    """A password or passphrase kept in a file: its text, without the line end (nor blanks
    around it). `required`: an empty file is refused here, with `fix` (callers that tell an
    empty file from others in their own words leave it False)."""
    data = read_input(path, fix, label=label, limit=MAX_SECRET_BYTES)
    try:
        secret = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise LyncPkiError(
            f"{label or path} is not UTF-8 text (a secret file holds the password on one line)",
            fix,
        ) from None
    if "\n" in secret or "\r" in secret:  # the whole file was taken: a password no one types
        raise LyncPkiError(
            f"{label or path} holds more than one line (a secret file holds the password on "
            "one line)",
            fix,
        )
    if required and not secret:  # not "shorter than 12 characters": there is nothing in it
        raise LyncPkiError(
            f"{label or path} is empty (a secret file holds the password on one line)", fix
        )
    return secret


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"


def env_secret(name: str) -> str:
    """A password or passphrase given in the environment variable `name` ("" when unset). A
    value that is not UTF-8 text (the shell passed bytes Python cannot read as text) is refused
    by name, never half-used."""
    value = os.environ.get(name, "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise LyncPkiError(
            f"the value of {name} is not UTF-8 text",
            f"set {name} to the password as text (check the terminal's and the shell's encoding)",
        ) from None
    return value
