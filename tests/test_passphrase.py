"""One rule for every new secret: a CA's passphrase, a store's passphrase and a CA account's
password were each checked by their own code, and differed (twelve spaces or twelve times the
same letter were a valid CA passphrase, but not a valid account password)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from lyncpki.ca.accounts import check_new_password
from lyncpki.ca.home import check_new_passphrase
from lyncpki.errors import LyncPkiError
from lyncpki.passphrase import weakness
from lyncpki.store.server_store import ServerStore
from lyncpki.x509.requests import RequestSubject, build_request

WEAK = [
    " " * 12,
    "a" * 12,
    "abab" * 4,
    "short-pw",
    "  leading-blanks",
    "trailing-tab-pass\t",
    "line-break-at-end\n",
]
GOOD = ["correct horse battery", "Zq8-pw-Zq8-pw", "pässphrase-ünïcode"]


def _store_check(tmp_path: Path) -> Callable[[str], None]:
    def check(secret: str) -> None:
        store = ServerStore(tmp_path / "home", "fe01.contoso.net")
        key = ec.generate_private_key(ec.SECP256R1())
        csr = build_request(key, RequestSubject("x.contoso.net", ("x.contoso.net",)))
        store.add_pending(
            key, csr, secret=secret.encode(), usages=["Default"], subject="x.contoso.net",
            sans=[], key_name="ec-p256", template="WebServer", friendly_name="x",
            exportable=False,
        )  # fmt: skip

    return check


def _checks(tmp_path: Path) -> dict[str, Callable[[str], None]]:
    return {
        "CA passphrase": lambda s: check_new_passphrase(s.encode()),
        "CA account password": check_new_password,
        "store passphrase": _store_check(tmp_path),
    }


@pytest.mark.parametrize("secret", WEAK)
def test_every_check_refuses_what_the_rule_refuses(tmp_path: Path, secret: str) -> None:
    found = weakness(secret)
    assert found is not None
    for what, check in _checks(tmp_path).items():
        with pytest.raises(LyncPkiError) as refused:
            check(secret)
        assert found.problem in refused.value.message, what
        assert refused.value.fix.startswith(found.advice), what
        if secret.strip():  # never repeated back
            assert secret.strip() not in refused.value.message + refused.value.fix, what
    assert not (tmp_path / "home").exists()  # refused before the store's folders


@pytest.mark.parametrize("secret", GOOD)
def test_every_check_takes_what_the_rule_takes(tmp_path: Path, secret: str) -> None:
    assert weakness(secret) is None
    assert weakness(secret.encode()) is None
    for check in _checks(tmp_path).values():
        check(secret)
    assert (tmp_path / "home").is_dir()
