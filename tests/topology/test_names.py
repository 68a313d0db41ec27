"""R-GEN-06 name rules: what is and is not an FQDN Lync accepts."""

from __future__ import annotations

import pytest

from lyncpki.topology.names import fqdn_problem, host_of, is_within, normalize

GOOD = ["pool01.contoso.net", "a.b", "x-1.y-2.example-lab.se", "A.B.C", "a" * 63 + ".se"]
BAD = {
    "": "empty",
    "pool01": "short name",
    "fe..contoso.net": "empty label",
    ".contoso.net": "empty label",
    "contoso.net.": "empty label",  # normalized names only: normalize removes the root's dot
    "fe_01.contoso.net": "underscore",
    "-fe.contoso.net": "invalid label",
    "fe-.contoso.net": "invalid label",
    "*.contoso.net": "wildcard",
    "fe.*.contoso.net": "wildcard",
    "10.0.0.1": "numeric",
    "bücher.de": "non-ASCII",
    "a b.se": "space",
    "a" * 64 + ".se": "63",
    ("a." * 127) + "se": "253",
    "=cmd|x": "contains '=' '|'",  # was "a short name": its characters are what is wrong
    "fe01.contoso.net/": "contains '/'",
    "fe01@contoso.net": "contains '@'",
}


@pytest.mark.parametrize("name", GOOD)
def test_accepts(name: str) -> None:
    assert fqdn_problem(name) is None


@pytest.mark.parametrize(("name", "reason"), BAD.items())
def test_refuses_with_reason(name: str, reason: str) -> None:
    problem = fqdn_problem(name)
    assert problem is not None and reason in problem


def test_wildcard_only_when_allowed_and_leftmost() -> None:
    assert fqdn_problem("*.contoso.com", allow_wildcard=True) is None
    assert fqdn_problem("*.com", allow_wildcard=True) is not None
    assert fqdn_problem("meet.*.com", allow_wildcard=True) is not None


def test_simple_url_host() -> None:
    assert host_of("https://Meet.Contoso.com/abc?x=1") == "meet.contoso.com"
    assert host_of("meet.contoso.com") == "meet.contoso.com"
    assert host_of("https://dialin.contoso.com:443") == "dialin.contoso.com"


def test_within_domain() -> None:
    assert is_within("meet.contoso.com", "contoso.com")
    assert is_within("contoso.com", "contoso.com")
    assert is_within("*.contoso.com", "contoso.com")
    assert not is_within("meet.notcontoso.com", "contoso.com")


def test_one_trailing_dot_is_the_root_and_a_second_an_empty_label() -> None:
    assert normalize("Pool.Contoso.NET.") == "pool.contoso.net"
    assert fqdn_problem(normalize("pool.contoso.net.")) is None
    problem = fqdn_problem(normalize("pool.contoso.net.."))
    assert problem is not None and "empty label" in problem
