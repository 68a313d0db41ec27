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


# ------------------------------------------------------------------ Unicode forms
def test_a_passphrase_is_one_whatever_its_unicode_form(tmp_path: Path) -> None:
    """'pässwörd horse' typed as precomposed characters (NFC) at `ca init`, given decomposed
    (NFD, as some macOS tools write a file) to open the CA: "wrong passphrase". Both open it;
    openssl opens the key with the NFC form, the one keys are made with."""
    import os
    import subprocess
    import sys
    import unicodedata

    nfc = unicodedata.normalize("NFC", "pässwörd horse")
    nfd = unicodedata.normalize("NFD", "pässwörd horse")
    assert nfc != nfd
    home = tmp_path / "h"
    env = {**os.environ, "LYNCPKI_CA_PASSPHRASE": nfc}
    made = subprocess.run(
        [sys.executable, "-m", "lyncpki", "ca", "init", "--home", str(home), "--name", "N",
         "--domain", "contoso.net", "--root-key", "rsa2048"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    (tmp_path / "pass.txt").write_text(nfd + "\n", encoding="utf-8")
    env.pop("LYNCPKI_CA_PASSPHRASE")
    opened = subprocess.run(
        [sys.executable, "-m", "lyncpki", "ca", "crl", "--home", str(home),
         "--passphrase-file", str(tmp_path / "pass.txt")],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    key = home / "ca" / "issuing.key"
    for form, opens in ((nfc, True), (nfd, False)):
        process = subprocess.run(
            ["openssl", "pkey", "-in", str(key), "-noout", "-passin", "stdin"],
            input=form.encode() + b"\n", capture_output=True, check=False,
        )  # fmt: skip
        assert (process.returncode == 0) is opens, (form, process.stderr)


def test_a_key_made_with_a_decomposed_passphrase_still_opens() -> None:
    """Keys made before passphrases were normalised, from a decomposed one, open with it."""
    import unicodedata

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from lyncpki.x509.keys import decrypt_key

    nfd = unicodedata.normalize("NFD", "pässwörd horse").encode()
    key = ec.generate_private_key(ec.SECP256R1())
    old = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(nfd),
    )
    assert decrypt_key(old, nfd, what="an old key").public_key() == key.public_key()


def test_an_account_password_is_one_whatever_its_unicode_form() -> None:
    import unicodedata

    from lyncpki.ca.accounts import check_password, hash_password

    nfc = unicodedata.normalize("NFC", "Grüße-aus-Köln-42")
    nfd = unicodedata.normalize("NFD", nfc)
    stored = hash_password(nfc)
    assert check_password(nfd, stored) and check_password(nfc, stored)
    assert not check_password("Grusse-aus-Koln-42", stored)
    # a password set decomposed before passwords were normalised: its hash is of those bytes
    import base64
    import hashlib

    from lyncpki.ca.accounts import SCRYPT_N, SCRYPT_P, SCRYPT_R

    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(nfd.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    old = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${base64.b64encode(salt).decode()}$" + (
        base64.b64encode(digest).decode()
    )
    assert check_password(nfd, old)


def test_a_store_passphrase_is_one_whatever_its_unicode_form() -> None:
    import unicodedata

    from lyncpki.store.protection import matches, protect

    nfc = unicodedata.normalize("NFC", "Grüße-aus-Köln-42").encode()
    nfd = unicodedata.normalize("NFD", "Grüße-aus-Köln-42").encode()
    protection = protect(nfd)
    assert matches(protection, nfc) and matches(protection, nfd)
    assert not matches(protection, b"Grusse-aus-Koln-42")
