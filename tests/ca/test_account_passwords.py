"""One password rule for CA accounts wherever the password comes from: twelve spaces from the
environment were taken (and worked for HTTP basic), the same twelve from a file refused, and
`aaaaaaaaaaaa` made a manager."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab import lab_env, run_lyncpki
from lyncpki.ca.accounts import AccountError, check_new_password


@pytest.mark.parametrize(
    ("password", "words"),
    [
        (" " * 12, "begins or ends with a space"),
        ("  leading-space-pass", "begins or ends with a space"),
        ("trailing-space-pass\t", "begins or ends with a space"),
        ("a" * 12, "fewer than 5 different characters"),
        ("abab" * 4, "fewer than 5 different characters"),
        ("short-pw", "shorter than 12"),
    ],
)
def test_a_weak_or_ambiguous_password_is_refused(password: str, words: str) -> None:
    with pytest.raises(AccountError) as refused:
        check_new_password(password)
    assert words in refused.value.message and refused.value.fix


def test_a_good_password_passes() -> None:
    check_new_password("correct horse battery")


def test_the_same_password_is_refused_from_the_environment_and_from_a_file(tmp_path: Path) -> None:
    home = tmp_path / "h"
    init = run_lyncpki("ca", "init", "--home", home, "--domain", "contoso.net")
    assert init.returncode == 0, init.stderr
    spaces = tmp_path / "pw"
    spaces.write_text(" " * 12 + "\n")
    from_env = run_lyncpki(
        "ca", "account", "add", "a1", "--home", home,
        env=lab_env(LYNCPKI_ACCOUNT_PASSWORD=" " * 12),
    )  # fmt: skip
    from_file = run_lyncpki("ca", "account", "add", "a2", "--home", home, "--password-file", spaces)
    for process in (from_env, from_file):
        assert process.returncode == 2, process.stdout + process.stderr
        assert "Traceback" not in process.stderr
    listed = run_lyncpki("ca", "account", "list", "--home", home, "--json")
    assert listed.returncode == 0 and '"a1"' not in listed.stdout and '"a2"' not in listed.stdout
