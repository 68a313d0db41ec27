"""Where passphrases come from, in one order everywhere: a file named on the command line, the
environment, a secret the home generated for a demo or a test (0600), a prompt.

The CA's keys and every server store's keys use this order; each names its own variables and
files (`ca.home` for the CA, `store.secret` for the server stores).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from lyncpki.errors import LyncPkiError
from lyncpki.inputs import env_secret, read_secret

MIN_PASSPHRASE = 12  # characters: a CA's keys, a store's keys (CA account passwords too)


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
