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


def test_an_account_name_too_long_is_said_to_be_too_long(tmp_path: Path) -> None:
    """A 200-character name was "not a valid account name" with the characters allowed as the
    fix, although every character was allowed; and the example printed two backslashes."""
    from lyncpki.ca import database as db
    from lyncpki.ca.accounts import Accounts, Role

    engine = db.connect(f"sqlite:///{tmp_path / 'ca.sqlite'}", create=True)
    accounts = Accounts(engine)
    with pytest.raises(AccountError) as refused:
        accounts.add("a" * 200, Role("requester"), "correct horse battery")
    assert "is 200 characters long, at most 128 are taken" in refused.value.message
    with pytest.raises(AccountError) as invalid:
        accounts.add("fe01 server", Role("requester"), "correct horse battery")
    assert "CONTOSO\\lyncadmin " in (invalid.value.fix or "")
    with pytest.raises(AccountError):  # "$" took a final line break: "ops\n" was listed as
        accounts.add("ops\n", Role("manager"), "correct horse battery")  # "ops", unremovable
    assert "\\\\" not in (invalid.value.fix or "")
    engine.dispose()


def test_templates_of_a_home_without_a_ca_say_they_are_the_built_ins(tmp_path: Path) -> None:
    listed = run_lyncpki("ca", "templates", "--home", tmp_path / "typo")
    assert listed.returncode == 0, listed.stderr
    assert "WebServer" in listed.stdout
    assert f"no CA in {tmp_path / 'typo'}" in listed.stderr and "built-in" in listed.stderr
