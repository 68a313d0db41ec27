"""DNS names as Lync accepts them (R-GEN-06): explicit ASCII FQDNs, wildcards only where allowed."""

from __future__ import annotations

import re

CN_MAX = 64  # RFC 5280 ub-common-name: a subject's CN; the FQDN itself may have 253
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
# A whole valid FQDN (letters, digits, inner hyphens; two labels or more; a non-numeric TLD):
# the fast path of fqdn_problem, which explains the problem only for a name that fails it.
_VALID = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?=[A-Za-z0-9-]*[A-Za-z-])[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
_URL = re.compile(
    r"^https?://(?P<host>[^/:?#]+)(?::\d+)?(?P<path>/[^?#]*)?(?:[?#].*)?$", re.IGNORECASE
)


def fqdn_problem(name: str, *, allow_wildcard: bool = False) -> str | None:
    """Why `name` is not a valid FQDN for a certificate, or None when it is. `name` is
    normalized (`normalize`: the root's trailing dot removed); a dot left at its end is an
    empty label.

    Accepts A-Z, a-z, 0-9 and hyphens in labels of at most 63 characters, at least two labels,
    at most 253 characters in all and a top-level label that is not all digits.
    """
    if len(name) <= 253 and _VALID.match(name):
        return None
    if not name:
        return "is empty"
    if any(ord(c) > 127 for c in name):
        return "contains non-ASCII characters (internationalised names are not supported by Lync)"
    if " " in name:
        return "contains a space"
    if len(name) > 253:
        return f"is {len(name)} characters long (at most 253)"
    odd = sorted({c for c in name if not (c.isalnum() or c in ".-*_")})  # _ * : said below
    if odd:
        return (
            f"contains {' '.join(repr(c) for c in odd)}: a DNS name holds only letters, digits, "
            "hyphens and dots"
        )
    labels = name.lower().split(".")
    if labels and labels[0] == "*":
        if not allow_wildcard:
            return "is a wildcard (a wildcard is not allowed here)"
        labels = labels[1:]
        if len(labels) < 2:
            return "is a wildcard on a top-level domain"
    if len(labels) < 2:
        return "is a short name, not a fully qualified domain name"
    for label in labels:
        if not label:
            return "has an empty label (two dots in a row, or a dot at an end)"
        if "*" in label:
            return "has a wildcard that is not the whole leftmost label"
        if "_" in label:
            return f"has an underscore in label '{label}' (only letters, digits and hyphens)"
        if len(label) > 63:
            return f"has a label of {len(label)} characters (at most 63)"
        if not _LABEL.match(label):
            return f"has an invalid label '{label}' (letters, digits, hyphens; no hyphen at an end)"
    if labels[-1].isdigit():
        return "ends in a numeric label (an IP address is not a DNS name)"
    return None


def normalize(name: str) -> str:
    """The canonical spelling of a DNS name: lowercase, without its trailing dot (one: a
    second is an empty label, which fqdn_problem reports)."""
    return name.strip().lower().removesuffix(".")


def host_of(value: str) -> str:
    """The host of a simple URL given as `https://meet.contoso.com/...` or as a bare FQDN."""
    match = _URL.match(value.strip())
    return normalize(match.group("host") if match else value)


def path_of(value: str) -> str:
    """The path of a simple URL (`https://lync.contoso.com/meet/fabrikam.com` ->
    `/meet/fabrikam.com`); "" for a bare FQDN or a URL without one."""
    match = _URL.match(value.strip())
    return match.group("path") or "" if match else ""


def is_within(name: str, domain: str) -> bool:
    """True when `name` equals `domain` or is one of its subdomains (wildcards included)."""
    name = normalize(name).removeprefix("*.")
    return name == domain or name.endswith("." + domain)


def parent_domain(name: str) -> str:
    """`meet.contoso.com` -> `contoso.com`."""
    return normalize(name).split(".", 1)[1]
