"""Whether a request may be issued under a template: every refusal with its reason and fix.

Proof of possession comes first: a request whose signature does not verify is refused before
anything else is read from it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtensionOID, NameOID, SignatureAlgorithmOID

from lyncpki.ca.templates import Template
from lyncpki.errors import LyncPkiError
from lyncpki.keyspec import KeySpec
from lyncpki.topology.names import fqdn_problem, is_within, normalize
from lyncpki.x509.forms import UNREADABLE
from lyncpki.x509.keys import describe, spec_of
from lyncpki.x509.requests import SUBJECT_LIMITS, ReadRequest, common_name

MAX_SUBJECT_ATTRIBUTES = 12  # CN, O, L, ST, C and a few OUs: an AD CS subject, not a list
SigningHash = hashes.SHA224 | hashes.SHA256 | hashes.SHA384 | hashes.SHA512
HASH_NAMES: dict[str, Callable[[], SigningHash]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
# A request's own signature (proof of possession) may use any SHA-2 digest.
REQUEST_HASHES = frozenset({"sha224", "sha256", "sha384", "sha512"})
# Extensions a request may carry; others (e.g. basicConstraints, nameConstraints) are refused.
ALLOWED_REQUEST_EXTENSIONS = {
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,
}


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str  # dotted, stable: policy.signature, policy.namespace, ...
    message: str
    fix: str


class RequestRefused(LyncPkiError):
    """A request the CA will not issue, with every reason."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        self.refusals = list(refusals)
        first = self.refusals[0]
        message = "; ".join(r.message for r in self.refusals)
        super().__init__(f"request refused: {message}", first.fix)

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.refusals]


@dataclass(frozen=True, slots=True)
class Approved:
    """What a request is allowed to become: the validated subject, SANs and key."""

    subject: x509.Name
    common_name: str | None
    dns_names: tuple[str, ...]  # the subject first (R-GEN-07), lowercase, deduplicated
    public_key: CertificatePublicKeyTypes
    key: KeySpec
    subject_text: str  # the subject as RFC 4514 text (what the database and listings show)


def _proof_of_possession(csr: x509.CertificateSigningRequest) -> Refusal | None:
    if csr.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
        return Refusal(
            "policy.pss",
            "the request is signed with RSASSA-PSS, which Lync Server does not support "
            "(sign-in and call-forwarding failures, R-GEN-04)",
            "make the request again with a PKCS#1 v1.5 signature (the default of certreq and "
            "openssl req; do not use -sigopt rsa_padding_mode:pss)",
        )
    try:
        algorithm = csr.signature_hash_algorithm
        weak = algorithm is not None and algorithm.name not in REQUEST_HASHES
        valid = not weak and csr.is_signature_valid
    except UnsupportedAlgorithm:
        weak, valid = True, False
    except ValueError:
        weak, valid = False, False
    if weak:
        return Refusal(
            "policy.hash",
            "the request is signed with an algorithm this CA cannot verify "
            f"({csr.signature_algorithm_oid.dotted_string}; SHA-1 and MD5 are not accepted), so "
            "it proves no possession of its key",
            "make the request again signed with SHA-256 (certreq: HashAlgorithm = sha256; "
            "openssl req: -sha256)",
        )
    if not valid:
        return Refusal(
            "policy.signature",
            "the request's signature does not verify: it was altered after signing, or its "
            "key does not match (no proof of possession)",
            "make the request again from the server that holds the private key",
        )
    return None


def _key(
    csr: x509.CertificateSigningRequest, template: Template, ca_keys: Sequence[bytes]
) -> tuple[CertificatePublicKeyTypes | None, KeySpec | None, list[Refusal]]:
    try:
        public_key = csr.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return (
            None,
            None,
            [
                Refusal(
                    "policy.key-type",
                    "the request's public key is of a type Lync does not support "
                    "(RSASSA-PSS keys included)",
                    "use an RSA (2048) or EC P-256/P-384/P-521 key",
                )
            ],
        )
    spec = spec_of(public_key)
    refusals: list[Refusal] = []
    if spec is None:
        refusals.append(
            Refusal(
                "policy.key-type",
                f"{describe(public_key)} keys are not supported by Lync Server",
                "use an RSA (2048) or EC P-256/P-384/P-521 key",
            )
        )
    elif spec.name not in template.key_types:
        rsa_sizes = [KeySpec.parse(k).size for k in template.key_types if k.startswith("rsa")]
        smallest = min(rsa_sizes, default=None)
        if spec.algorithm == "rsa" and (spec.size < 1024 or (smallest and spec.size < smallest)):
            at_least = smallest or 2048
            refusals.append(
                Refusal(
                    "policy.key-size",
                    f"an RSA {spec.size}-bit key is too small for template {template.name}: it "
                    f"takes RSA keys of {at_least} bits or more (OpenSSL at security level 2 "
                    "and current AD CS templates refuse smaller ones; allowed: "
                    f"{', '.join(template.key_types)})",
                    f"make a new request with an RSA {at_least} key (--key rsa{at_least})"
                    + (
                        " or an EC key"
                        if any(k.startswith("ec") for k in template.key_types)
                        else ""
                    ),
                )
            )
        else:
            refusals.append(
                Refusal(
                    "policy.key-type",
                    f"a {spec.algorithm.upper()} {spec.size}-bit key is not allowed by template "
                    f"{template.name} (allowed: {', '.join(template.key_types)})",
                    f"make a new request with an allowed key, e.g. --key {template.key_types[0]}",
                )
            )
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    der = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if der in ca_keys:
        refusals.append(
            Refusal(
                "policy.ca-key",
                "the request reuses the public key of this CA",
                "make the request with a new key pair of the server's own",
            )
        )
    return public_key, spec, refusals


def _subject(subject: x509.Name, template: Template) -> list[Refusal]:
    refusals = []
    count = sum(1 for _ in subject)
    if count > MAX_SUBJECT_ATTRIBUTES:
        return [
            Refusal(
                "policy.subject-size",
                f"the subject has {count} attributes (at most {MAX_SUBJECT_ATTRIBUTES}: CN, O, "
                "OU, L, ST, C)",
                "request it again with the subject Lync needs: CN and, optionally, O, OU, L, "
                "ST and C",
            )
        ]
    names = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if len(names) > 1:  # only the first would be held to the namespace and FQDN rules
        listed = ", ".join(f"'{a.value!s}'" for a in names[:4])
        refusals.append(
            Refusal(
                "policy.subject-cn",
                f"the subject has {len(names)} common names ({listed}); a certificate's subject "
                "is one name, the server's or pool's FQDN (R-GEN-06)",
                "make the request again with one CN; list the other names as DNS SANs",
            )
        )
    for attribute in subject:
        limit = SUBJECT_LIMITS.get(attribute.oid)
        value = attribute.value if isinstance(attribute.value, str) else ""
        if limit is None:
            known = attribute.oid._name  # pyca's name of the OID, or its dotted form
            label = (
                attribute.oid.dotted_string
                if known == attribute.oid.dotted_string or known == "Unknown OID"
                else f"{known} ({attribute.oid.dotted_string})"
            )
            refusals.append(
                Refusal(
                    "policy.subject-attribute",
                    f"subject attribute {label} is not allowed",
                    "keep to CN, O, OU, L, ST and C",
                )
            )
        elif not value.isprintable():
            refusals.append(
                Refusal(
                    "policy.subject-text",
                    f"subject {attribute.rfc4514_attribute_name} holds control or other "
                    "non-printable characters (an escape sequence, a line break, a direction "
                    "override): they would reach every report and terminal that shows it",
                    "request it again with plain text in the subject",
                )
            )
        elif len(value) > limit:
            refusals.append(
                Refusal(
                    "policy.subject-size",
                    f"subject {attribute.rfc4514_attribute_name} is {len(value)} characters "
                    f"(at most {limit})",
                    "shorten it",
                )
            )
    return refusals


def _extensions(csr: x509.CertificateSigningRequest, template: Template) -> list[Refusal]:
    try:
        extensions = list(csr.extensions)
    except UNREADABLE as error:
        return [
            Refusal(
                "policy.extension",
                f"the request's extensions are malformed ({error})",
                "make the request again",
            )
        ]
    refusals = []
    for extension in extensions:
        if extension.oid == ExtensionOID.BASIC_CONSTRAINTS:
            if (
                isinstance(extension.value, x509.BasicConstraints)
                and extension.value.ca
                and (not template.is_ca)
            ):
                refusals.append(
                    Refusal(
                        "policy.ca-request",
                        "the request asks to be a CA (basicConstraints CA:TRUE)",
                        "remove the CA request: a Lync server certificate is never a CA (a "
                        "subordinate CA is issued under template SubCA: --template SubCA)",
                    )
                )
        elif extension.critical and extension.oid not in ALLOWED_REQUEST_EXTENSIONS:
            refusals.append(
                Refusal(
                    "policy.extension",
                    f"the request carries a critical extension {extension.oid.dotted_string} "
                    "that this CA does not honour",
                    "remove it from the request",
                )
            )
    return refusals


def _names(
    csr: x509.CertificateSigningRequest,
    subject: x509.Name,
    template: Template,
    namespaces: Sequence[str],
) -> tuple[str | None, list[str], list[Refusal]]:
    refusals: list[Refusal] = []
    cn = written = common_name(subject)  # `written` as the request has it, for messages
    names: list[str] = []
    try:
        san = csr.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except (x509.ExtensionNotFound, ValueError, x509.DuplicateExtension):
        san = None
    if isinstance(san, x509.SubjectAlternativeName):
        for general_name in san:
            if isinstance(general_name, x509.DNSName):
                names.append(normalize(general_name.value))
            else:
                kind = type(general_name).__name__.removesuffix("Name")
                shown = (
                    f"otherName {general_name.type_id.dotted_string}"
                    if isinstance(general_name, x509.OtherName)
                    else f"{kind} '{general_name.value}'"
                )
                refusals.append(
                    Refusal(
                        "policy.san-type",
                        f"SAN {shown} is not allowed: Lync certificates carry DNS names only",
                        "remove it; list DNS names only",
                    )
                )
    if cn is not None and template.is_ca:
        pass  # a CA's name is a name, not a DNS host (e.g. "Contoso Branch CA")
    elif cn is not None:
        if cn.strip().endswith("."):  # the subject is signed as asked: it would keep the dot
            refusals.append(
                Refusal(
                    "policy.subject-name",
                    f"subject CN '{cn}' ends with a dot: the subject is issued as requested, "
                    "and would not be the name of its first SAN",
                    "make the request with the FQDN without the trailing dot",
                )
            )
        cn = normalize(cn)
        if problem := fqdn_problem(cn):
            refusals.append(
                Refusal(
                    "policy.subject-name",
                    f"subject CN '{written}' {problem}; the subject must be an explicit FQDN "
                    "(R-GEN-06)",
                    "use the server's or pool's FQDN as the subject (a subordinate CA, named "
                    "for itself, is issued under --template SubCA)",
                )
            )
    elif not template.is_ca and not names:
        refusals.append(
            Refusal(
                "policy.no-name",
                "the request names nothing: no subject CN and no DNS SAN",
                "make the request with the server's FQDN as subject",
            )
        )
    elif not template.is_ca:  # SANs only: issued with an empty subject, which Lync reads
        refusals.append(
            Refusal(
                "policy.subject-cn",
                "the request's subject has no CN: a Lync certificate's subject is the server's "
                "or pool's FQDN (R-GEN-06), repeated as its first SAN",
                f"make the request again with subject CN={names[0]}",
            )
        )
    ordered = list(dict.fromkeys(([cn] if cn and not template.is_ca else []) + names))
    if len(ordered) > template.max_sans:
        refusals.append(
            Refusal(
                "policy.too-many-sans",
                f"{len(ordered)} SANs, more than template {template.name} "
                f"allows ({template.max_sans})"
                + (
                    " (the subject's CN is the first, as every certificate repeats it)"
                    if cn and not template.is_ca and cn not in names
                    else ""
                ),
                "split the names over several certificates",
            )
        )
    # The CA's namespaces bound every template; a template's own list narrows them (it
    # replaced them: a template listing evil.org issued for it, beyond `ca domains`)
    allowed, narrowed = tuple(namespaces), tuple(template.namespaces)
    for name in ordered:
        wildcard = name.startswith("*.")
        if problem := fqdn_problem(name, allow_wildcard=True):
            from_subject = name == cn and name not in names
            refusals.append(
                Refusal(
                    "policy.san-name",
                    f"subject CN '{written}' (the first SAN) {problem}"
                    if from_subject
                    else f"SAN '{name}' {problem}",
                    "use the server's or pool's FQDN as the subject (a subordinate CA, named "
                    "for itself, is issued under --template SubCA)"
                    if from_subject
                    else "list valid DNS names only",
                )
            )
            continue
        if wildcard and not template.allow_wildcards:
            refusals.append(
                Refusal(
                    "policy.wildcard",
                    f"wildcard '{name}' is not allowed by template {template.name}",
                    "list each name explicitly",
                )
            )
        if allowed and not any(is_within(name, domain) for domain in allowed):
            refusals.append(
                Refusal(
                    "policy.namespace",
                    f"'{name}' is outside this CA's namespace ({', '.join(allowed)})",
                    "request names under the deployment's domains only, or add the domain to "
                    "the CA (lyncpki ca domains --add DOMAIN)",
                )
            )
        elif narrowed and not any(is_within(name, domain) for domain in narrowed):
            refusals.append(
                Refusal(
                    "policy.namespace",
                    f"'{name}' is outside the names template {template.name} allows "
                    f"({', '.join(narrowed)}: its namespaces in templates.yaml)",
                    "request it with another template, or list the domain in the template's "
                    "namespaces (ca/templates.yaml)",
                )
            )
    return cn, ordered, refusals


def _signature_hash(csr: x509.CertificateSigningRequest) -> list[Refusal]:
    algorithm = csr.signature_hash_algorithm
    if algorithm is not None and algorithm.name not in REQUEST_HASHES:
        return [
            Refusal(
                "policy.hash",
                f"the request is signed with {algorithm.name}, which is not accepted",
                "make the request again with SHA-256",
            )
        ]
    return []


def evaluate(
    request: ReadRequest,
    template: Template,
    *,
    namespaces: Sequence[str],
    ca_public_keys: Sequence[bytes] = (),
) -> Approved:
    """Approve the request under `template` or raise RequestRefused with every reason."""
    csr, subject, subject_text = request.csr, request.subject, request.subject_text
    if refusal := _proof_of_possession(csr):
        raise RequestRefused([refusal])
    public_key, spec, refusals = _key(csr, template, ca_public_keys)
    refusals += _signature_hash(csr)
    refusals += _subject(subject, template)
    refusals += _extensions(csr, template)
    cn, names, name_refusals = _names(csr, subject, template, namespaces)
    refusals += name_refusals
    if refusals or public_key is None or spec is None:
        raise RequestRefused(refusals or [Refusal("policy.key-type", "unusable key", "new key")])
    return Approved(subject, cn, tuple(names), public_key, spec, subject_text)
