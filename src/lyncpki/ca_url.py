"""The URL of a CA service (`--ca`, the wizard's CA URL): never with an account and password in
it. httpx takes `http://ACCOUNT:PASSWORD@host` as basic credentials, and the URL is kept in the
store (a pending request's CA, a certificate's source), listed by `certs --json`, written into
the deploy reports and shown in every "cannot reach" message: the password went with it. The
account is --ca-account, its password --ca-password-file or $LYNCPKI_CA_PASSWORD."""

from __future__ import annotations

import re

from lyncpki.errors import LyncPkiError

CREDENTIALS_FIX = (
    "give the URL without ACCOUNT:PASSWORD@, the account as --ca-account NAME and its password "
    "in --ca-password-file FILE or $LYNCPKI_CA_PASSWORD"
)

# a URL inside a message: http(s)://USER:PW@...
_USER_INFO_IN_TEXT = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s@'\"]*@")


def has_credentials(url: str) -> bool:
    """Whether `url` holds user-info (ACCOUNT@ or ACCOUNT:PASSWORD@) — or any "@" at all: a CA
    service's base URL has none, and an "@" after an unescaped "/" or "#" in a password would
    otherwise hide it from a parser."""
    return "@" in url


def redact_url(url: str) -> str:
    """`url` with whatever stands before its last "@" after the scheme shown as ***."""
    if "@" not in url:
        return url
    scheme, sep, host = _parts(url)
    return f"{scheme}{sep}***@{host}"


def redact_text(text: str) -> str:
    """A message with the user-info of every URL in it shown as ***."""
    return _USER_INFO_IN_TEXT.sub(r"\1***@", text)


def without_credentials(url: str | None) -> str | None:
    """`url` without its user-info (a URL an earlier version kept with a password), for what is
    stored or shown."""
    if url is None or "@" not in url:
        return url
    scheme, sep, host = _parts(url)
    return f"{scheme}{sep}{host}"


def _parts(url: str) -> tuple[str, str, str]:
    """(scheme, "://", what follows the last "@"), or ("", "", that) for a URL without a
    scheme: its user-info is what lies between them."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    return scheme, sep, rest.rsplit("@", 1)[1]


def credentials_message(url: str, option: str = "--ca") -> str:
    return (
        f"{option} {redact_url(url)[:300]} holds an account and password (ACCOUNT:PASSWORD@): "
        "the URL is kept in the store and shown in output and reports, so it never carries a "
        "password"
    )


def check_ca_url(url: str, option: str = "--ca") -> str:
    """`url`, refused when it holds credentials (said without them) or is no http(s) URL."""
    if has_credentials(url):
        raise LyncPkiError(credentials_message(url, option), CREDENTIALS_FIX)
    scheme, sep, host = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not host.strip("/"):
        given = f"{option} " if option else ""  # no option: a URL given to the client itself
        raise LyncPkiError(
            f"{given}{url[:300]!r} is no http:// or https:// URL",
            f"give the CA service's base URL, e.g. {given}http://ca.contoso.net:8080 "
            "(https:// when it runs with --tls)",
        )
    return url
