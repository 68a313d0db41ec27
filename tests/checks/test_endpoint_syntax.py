"""`check --endpoint HOST:PORT[=SERVER[/USAGE]]`: an IPv6 address is taken in brackets only,
and a half-bracketed one ('[::1:5061') is refused, not read as a host named '::1'."""

from __future__ import annotations

import pytest

from lyncpki.checks.live import Endpoint
from lyncpki.errors import LyncPkiError


@pytest.mark.parametrize(
    ("text", "host", "port", "label"),
    [
        ("127.0.0.1:5061", "127.0.0.1", 5061, "127.0.0.1:5061"),
        ("sip.contoso.com:443", "sip.contoso.com", 443, "sip.contoso.com:443"),
        ("[::1]:5061", "::1", 5061, "[::1]:5061"),
        ("[2001:DB8::1]:443=fe01.contoso.net", "2001:db8::1", 443, "[2001:db8::1]:443"),
    ],
)
def test_an_endpoint_is_read(text: str, host: str, port: int, label: str) -> None:
    endpoint = Endpoint.parse(text)
    assert (endpoint.host, endpoint.port, endpoint.label) == (host, port, label)


@pytest.mark.parametrize(
    "text", ["[::1:5061", "::1:5061", "::1]:5061", "[nothost]:5061", "[]:5061", ":5061",
             "host:0", "host:65536", "host:port", "host", "a b:5061"],
)  # fmt: skip
def test_a_malformed_endpoint_is_refused(text: str) -> None:
    with pytest.raises(LyncPkiError) as refused:
        Endpoint.parse(text)
    assert refused.value.message == f"--endpoint '{text}' is not HOST:PORT[=SERVER[/USAGE]]"
    assert "[::1]:5061" in (refused.value.fix or "")


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("127.0.0.1:5061=fe01.contoso.net", "Default"),
        ("127.0.0.1:5061=fe01.contoso.net/default", "Default"),
        ("127.0.0.1:443=fe01.contoso.net/webservicesinternal", "WebServicesInternal"),
        ("127.0.0.1:443=fe01.contoso.net/WEBSERVICESEXTERNAL", "WebServicesExternal"),
        ("127.0.0.1:443=fe01.contoso.net/NoSuchUsage", "NoSuchUsage"),  # the CLI refuses it
    ],
)
def test_the_usage_is_read_in_any_case(text: str, usage: str) -> None:
    """`/default` was refused, "fe01 has no default certificate (it holds Default, ...)": the
    cmdlets' -Type names are read in any case, and so are the server names here."""
    assert Endpoint.parse(text).usage == usage
