"""Certificate templates: the CA's policy, as data (AD CS templates, the Lync way).

A template decides what a request may obtain: EKUs, key usage, validity, key types and sizes,
signature hashes, DNS namespace, wildcards, and whether a CA manager must approve. The built-in
set is below; a CA home may carry its own `templates.yaml` (written by `ca init`, editable).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from lyncpki.errors import LyncPkiError
from lyncpki.field_kinds import Kind, typed_fields, yaml_kind

EKU_NAMES: dict[str, ObjectIdentifier] = {
    "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
    "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "codeSigning": ExtendedKeyUsageOID.CODE_SIGNING,
    "OCSPSigning": ExtendedKeyUsageOID.OCSP_SIGNING,
}
KEY_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
)
ALL_KEYS = ("rsa1024", "rsa2048", "rsa4096", "ec-p256", "ec-p384", "ec-p521")
# What the built-in templates accept, and a template that lists no key types: RSA of 2048 bits
# or more and EC. Lync 2013 takes RSA 1024, but OpenSSL at security level 2 (the default of
# current distributions) refuses such a certificate ("EE certificate key too weak") and the AD CS
# templates of Windows Server 2012 and later ask 2048; a CA that wants 1024 lists rsa1024 in
# its templates.yaml.
STRONG_KEYS = ("rsa2048", "rsa4096", "ec-p256", "ec-p384", "ec-p521")
# SHA-1 is not offered: R-GEN-04 allows SHA-1 or SHA-2, and pyca/cryptography no longer signs
# certificates with SHA-1, so SHA-2 it is.
HASHES = ("sha256", "sha384", "sha512")


@dataclass(frozen=True, slots=True)
class Template:
    """One certificate template."""

    name: str  # the template *name* a request carries (R-GEN-14), e.g. WebServer
    display_name: str
    description: str
    eku: tuple[str, ...] = ("serverAuth",)
    key_usage: tuple[str, ...] = ("digital_signature", "key_encipherment")
    validity_days: int = 730
    key_types: tuple[str, ...] = STRONG_KEYS
    hashes: tuple[str, ...] = ("sha256", "sha384", "sha512")
    allow_wildcards: bool = True  # only as SANs, never as subject (R-GEN-06, R-GEN-08)
    approval: bool = False  # a CA manager must approve
    is_ca: bool = False
    path_length: int | None = None
    max_sans: int = 250
    namespaces: tuple[str, ...] = field(default=())  # narrows the CA's namespaces; empty: theirs
    # A template that grants authority (grants_authority) issues without approval only with
    # this set: templates.yaml of homes made before b2d154a say `approval: false` for
    # OCSPResponseSigning, and are held for approval without it (TemplateSet.held).
    allow_authority_without_approval: bool = False

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.grants_authority:  # meaningless there: not written out
            del data["allow_authority_without_approval"]
        return data

    @property
    def grants_authority(self) -> bool:
        """Whether its certificates vouch for others' on the CA's behalf: a CA certificate (it
        signs certificates and CRLs) or a delegated OCSP responder's (its answers are taken for
        the CA's: "good" for a certificate the CA revoked)."""
        return self.is_ca or "key_cert_sign" in self.key_usage or "OCSPSigning" in self.eku

    @property
    def lacks_approval(self) -> bool:
        """Grants authority without a CA manager's approval, and was not set to on purpose."""
        return (
            self.grants_authority
            and not self.approval
            and not self.allow_authority_without_approval
        )

    @classmethod
    def from_dict(cls, data: object, source: str) -> Template:
        """One template of a templates.yaml, each field of the type it must have: a YAML
        string where a list belongs, or "no" (quoted) where true/false belongs, is refused
        rather than read as something else."""
        if not isinstance(data, Mapping):
            raise LyncPkiError(
                f"{source}: a template is {yaml_kind(data)} {str(data)[:40]!r}, not a mapping",
                "write each template as fields under '- name: ...' (see lyncpki ca templates)",
            )
        name = data.get("name", "?")
        known = set(cls.__dataclass_fields__)
        unknown = {str(k) for k in data} - known
        if unknown:
            raise LyncPkiError(
                f"{source}: template {name} has unknown fields {', '.join(sorted(unknown))}",
                f"use only: {', '.join(sorted(known))}",
            )
        missing = [f for f in ("name", "display_name", "description") if f not in data]
        if missing:
            raise LyncPkiError(
                f"{source}: template {name} lacks {', '.join(missing)}",
                "give every template a name, a display_name and a description",
            )
        values, problems = typed_fields(data, _FIELD_KINDS)
        if problems:
            raise LyncPkiError(
                f"{source}: template {name}: {'; '.join(problems)}",
                "lists as [a, b], true/false unquoted, whole numbers unquoted "
                "(lyncpki ca templates --json shows each built-in template's fields)",
            )
        template = cls(**values)
        template.validate(source)
        return template

    def validate(self, source: str) -> None:
        problems = [f"unknown EKU {e}" for e in self.eku if e not in EKU_NAMES]
        problems += [f"unknown key usage {k}" for k in self.key_usage if k not in KEY_USAGES]
        problems += [f"unknown key type {k}" for k in self.key_types if k not in ALL_KEYS]
        problems += [
            f"hash {h} is not offered (SHA-1 signing is not supported)"
            if h == "sha1"
            else f"unknown hash {h}"
            for h in self.hashes
            if h not in HASHES
        ]
        unknown_names = bool(problems)  # their fix: the names known
        ranges: list[str] = []  # the fix of each problem below, in order
        if not self.hashes:
            problems.append("no signature hash")
            ranges.append(f"list at least one hash ({', '.join(HASHES)})")
        if not self.name.strip():
            problems.append("an empty name")
            ranges.append("give the template a name")
        if not 1 <= self.validity_days <= 36500:
            problems.append(f"validity_days {self.validity_days} out of range (1 to 36500)")
            ranges.append("set validity_days to a whole number from 1 to 36500")
        if not 0 <= self.max_sans <= MAX_SANS:
            problems.append(f"max_sans {self.max_sans} out of range (0 to {MAX_SANS})")
            ranges.append(f"set max_sans to a whole number from 0 to {MAX_SANS}")
        elif self.max_sans == 0 and not self.is_ca:  # every server certificate names itself
            problems.append("max_sans 0 on a template that is not is_ca: it could issue nothing")
            ranges.append(
                "set max_sans to 1 or more (a server certificate's subject is its first SAN)"
            )
        if self.path_length is not None and (self.path_length < 0 or not self.is_ca):
            problems.append(
                f"path_length {self.path_length} "
                + ("is negative" if self.path_length < 0 else "on a template that is not is_ca")
            )
            ranges.append("remove path_length, or give a CA template one of 0 or more")
        if problems:
            fixes = [f"EKUs: {', '.join(EKU_NAMES)}; key types: {', '.join(ALL_KEYS)}; "
                     f"hashes: {', '.join(HASHES)}"] if unknown_names else []  # fmt: skip
            raise LyncPkiError(
                f"{source}: template {self.name}: {'; '.join(problems)}",
                "; ".join(fixes + ranges),
            )

    @property
    def eku_oids(self) -> list[ObjectIdentifier]:
        return [EKU_NAMES[e] for e in self.eku]


MAX_SANS = 10_000  # far more than a Lync pool's names; a bound on what one request may carry

# The type each templates.yaml field must have
_FIELD_KINDS: dict[str, Kind] = {
    "name": "str",
    "display_name": "str",
    "description": "str",
    "eku": "list",
    "key_usage": "list",
    "validity_days": "int",
    "key_types": "list",
    "hashes": "list",
    "allow_wildcards": "bool",
    "approval": "bool",
    "is_ca": "bool",
    "path_length": "int-or-null",
    "max_sans": "int",
    "namespaces": "list",
    "allow_authority_without_approval": "bool",
}


OCSP_SIGNER_TEMPLATE = "OCSPResponseSigning"  # the delegated OCSP responder's (ca/ocsp.py)

BUILTIN: tuple[Template, ...] = (
    Template(
        name="WebServer",
        display_name="Web Server",
        description="Server Authentication: the Lync default template (R-GEN-14)",
    ),
    Template(
        name="LyncServer",
        display_name="Lync Server (MTLS)",
        description="Server and Client Authentication: MTLS, public IM with AOL (R-GEN-02)",
        eku=("serverAuth", "clientAuth"),
    ),
    Template(
        name="OAuthTokenSigning",
        display_name="OAuth Token Signing",
        description="The global OAuthTokenIssuer certificate: 2048 bits or more (R-OAUTH-01)",
        allow_wildcards=False,
    ),
    Template(
        name=OCSP_SIGNER_TEMPLATE,
        display_name="OCSP Response Signing",
        description="A delegated OCSP responder (manager approval: its answers are taken for "
        "the CA's; `ca serve` makes its own responder without this template)",
        eku=("OCSPSigning",),
        key_usage=("digital_signature",),
        validity_days=30,
        allow_wildcards=False,
        approval=True,
    ),
    Template(
        name="SubCA",
        display_name="Subordinate Certification Authority",
        description="A subordinate CA (manager approval)",
        eku=(),
        key_usage=("digital_signature", "key_cert_sign", "crl_sign"),
        validity_days=1825,
        allow_wildcards=False,
        approval=True,
        is_ca=True,
        path_length=0,
    ),
)


class TemplateSet:
    """The templates a CA offers, looked up by name (case-insensitive, as AD CS does).

    A template that grants authority (OCSP signing, CA certificates) without approval, and not
    set to on purpose (allow_authority_without_approval), is offered as needing a CA manager's
    approval: its name is in `held`, and the file that says otherwise is to be corrected
    (held_notice)."""

    def __init__(self, templates: Iterable[Template]) -> None:
        listed = list(templates)
        self.held = tuple(t.name for t in listed if t.lacks_approval)
        self._by_name = {
            t.name.lower(): replace(t, approval=True) if t.lacks_approval else t for t in listed
        }

    def __iter__(self) -> Iterator[Template]:
        return iter(self._by_name.values())

    def get(self, name: str) -> Template:
        template = self._by_name.get(name.strip().lower())
        if template is None:
            raise LyncPkiError(
                f"template '{name[:64]}' is not offered by this CA",
                f"use one of: {', '.join(t.name for t in self._by_name.values())} "
                "(lyncpki ca templates)",
            )
        return template

    def with_overrides(self, **changes: Any) -> TemplateSet:
        return TemplateSet(replace(t, **changes) for t in self._by_name.values())


DEFAULT_TEMPLATES = TemplateSet(BUILTIN)


def held_notice(templates: TemplateSet, source: str) -> tuple[str, str] | None:
    """What to tell the administrator of a templates.yaml whose templates grant authority
    without approval (as lyncpki wrote OCSPResponseSigning before 2026-12-01): the message and
    its fix. None when there is none."""
    if not templates.held:
        return None
    names = ", ".join(templates.held)
    one = len(templates.held) == 1
    their, them = ("its", "it") if one else ("their", "them")
    return (
        f"{source}: template{'' if one else 's'} {names} say{'s' if one else ''} approval: "
        f"false, but {their} certificates vouch for others on the CA's behalf (a delegated "
        "OCSP responder's answers are taken for the CA's, a CA certificate signs "
        f"certificates): every request for {them} now waits for a CA manager's approval",
        f"set approval: true for {names} in {source} to make the file say what the CA does; "
        "only if any requester is to get such a certificate at once, add "
        "allow_authority_without_approval: true to the template instead",
    )
