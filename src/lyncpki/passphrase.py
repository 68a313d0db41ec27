"""Where passphrases come from, in one order everywhere: a file named on the command line, the
environment, a secret the home generated for a demo or a test (0600), a prompt; and the one rule
a new passphrase or password meets.

The CA's keys and every server store's keys use this order; each names its own variables and
files (`ca.home` for the CA, `store.secret` for the server stores). The rule (`weakness`) holds
for a CA's passphrase, a store's passphrase and a CA account's password alike.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lyncpki.errors import LyncPkiError
from lyncpki.inputs import env_secret, read_secret

MIN_PASSPHRASE = 12  # characters: a CA's keys, a store's keys (CA account passwords too)
MIN_DIFFERENT = 5  # different characters: twelve times the same key is no passphrase


@dataclass(frozen=True)
class Weakness:
    """Why a new passphrase is refused: `problem` completes "the <what> ..."; `advice` is the
    start of the fix."""

    problem: str
    advice: str


def forms(secret: bytes) -> list[bytes]:
    """The forms a passphrase is tried in: Unicode NFC first (what keys and passwords are made
    with: 'ä' typed as one character or as 'a' and a combining mark is one passphrase, which
    some macOS tools write decomposed), then as given (keys made before it was normalised)."""
    try:
        text = secret.decode("utf-8")
    except UnicodeDecodeError:
        return [secret]
    normal = unicodedata.normalize("NFC", text).encode("utf-8")
    return [normal] if normal == secret else [normal, secret]


def normalized(secret: bytes) -> bytes:
    """The form a new key or password is made with (Unicode NFC, see `forms`)."""
    return forms(secret)[0]


def weakness(secret: str | bytes) -> Weakness | None:
    """What makes `secret` unfit to protect keys or an account, or None. One rule wherever it
    comes from (a file, the environment, a prompt): MIN_PASSPHRASE characters or more, at least
    MIN_DIFFERENT different ones, and no blank at either end, since a passphrase file is read
    without them: a passphrase taken from the environment with a trailing space could never be
    given from a file."""
    text = secret.decode("utf-8", "replace") if isinstance(secret, bytes) else secret
    text = unicodedata.normalize("NFC", text)  # characters as typed, not code points
    if text != text.strip():
        return Weakness(
            "begins or ends with a space (or a tab, or a line break)",
            "choose one without: a passphrase or password file is read without them, so it "
            "could not be given from a file",
        )
    if len(text) < MIN_PASSPHRASE:
        return Weakness(
            f"is shorter than {MIN_PASSPHRASE} characters",
            f"use one of {MIN_PASSPHRASE} characters or more",
        )
    if len(set(text)) < MIN_DIFFERENT:
        return Weakness(
            f"has fewer than {MIN_DIFFERENT} different characters",
            "use a passphrase of several words, or a password manager's password",
        )
    return None


def ask_twice(ask: Callable[[str], str], label: str, *, confirm: bool = True) -> str:
    """A secret asked with `ask(label)` ("" when nothing was typed); asked a second time when it
    is being chosen (`confirm`), and refused when the two differ: a typo would otherwise become
    the passphrase of keys no one can open. One rule for every prompt that sets a passphrase
    (a CA's, a new store's, the wizard's)."""
    value = ask(label)
    if confirm and value and ask(f"{label} (again)") != value:
        raise LyncPkiError("the two entries differ", "type the same one twice")
    return value


def resolve(
    *,
    what: str,
    passphrase_file: Path | None,
    env_names: Sequence[str],
    generated: Sequence[Path],
    prompt: Callable[[], str] | None,
    fix: str,
) -> bytes:
    """The passphrase of `what` from the first source that has one."""
    if passphrase_file is not None:
        value = read_secret(
            passphrase_file,
            "check the path given to --passphrase-file",
            label=f"passphrase file {passphrase_file}",
        )
        if not value:  # never passed over for another source: the file named was meant
            raise LyncPkiError(
                f"passphrase file {passphrase_file} is empty",
                "write the passphrase into it (one line), or give another --passphrase-file",
            )
        return value.encode()
    for name in env_names:
        if value := env_secret(name):
            return value.encode()
    for path in generated:
        if path.exists():
            value = read_secret(path, f"restore {path} from a backup", label=str(path))
            if not value:
                raise LyncPkiError(
                    f"the generated passphrase file {path} is empty",
                    f"restore {path} from a backup",
                )
            return value.encode()
    if prompt is not None and (value := prompt()):
        return value.encode()
    raise LyncPkiError(f"no passphrase given for {what}", fix)
