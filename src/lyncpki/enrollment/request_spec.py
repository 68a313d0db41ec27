"""Every answer of the Certificate Wizard's request pages as one value (certbot's way: each
prompt has a flag, the wizard and the commands share this object), and the request it makes.

Pages: alternate template (7), friendly name, key, exportable (8), organization (9),
geography (10), SIP domains for `sip.<domain>` (12), additional SANs (13).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.x509.oid import NameOID

from lyncpki.enrollment.selection import RequestTarget
from lyncpki.errors import LyncPkiError
from lyncpki.keyspec import KeySpec
from lyncpki.planning.model import WILDCARD_USAGES, Eku
from lyncpki.planning.rules import request_template
from lyncpki.topology.model import Organization
from lyncpki.topology.names import fqdn_problem, normalize
from lyncpki.x509.requests import SUBJECT_LIMITS, RequestSubject


@dataclass(frozen=True, slots=True)
class WizardAnswers:
    """What the administrator chose; None/empty: what the plan says."""

    template: str | None = None
    friendly_name: str | None = None
    key: KeySpec | None = None
    exportable: bool | None = None
    organization: str | None = None
    unit: str | None = None
    country: str | None = None
    state: str | None = None
    city: str | None = None
    sip_domains: tuple[str, ...] = ()
    additional_sans: tuple[str, ...] = ()
    client_eku: bool = False


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """One request, decided: what goes into the PKCS#10 and into the pending entry."""

    target: RequestTarget
    subject: RequestSubject
    template: str
    key: KeySpec
    exportable: bool
    friendly_name: str
    client_auth: bool
    notes: tuple[str, ...] = field(default=())

    @property
    def sans(self) -> tuple[str, ...]:
        return self.subject.dns_names


def _names(label: str, values: tuple[str, ...], *, wildcard: bool) -> list[str]:
    names = []
    for value in values:
        name = normalize(value)
        if problem := fqdn_problem(name, allow_wildcard=wildcard):
            raise LyncPkiError(
                f"{label} '{value[:80]}' {problem}", "give a DNS name such as contoso.com"
            )
        names.append(name)
    return names


def decide(
    target: RequestTarget, answers: WizardAnswers, organization: Organization | None = None
) -> RequestSpec:
    """The request for `target` with the wizard's answers over the plan's defaults."""
    org = organization or Organization()
    sans = list(target.sans)
    sans += [f"sip.{d}" for d in _names("--sip-domain", answers.sip_domains, wildcard=False)]
    extra = _names("--additional-san", answers.additional_sans, wildcard=True)
    refused = [n for n in extra if "*" in n and not set(target.usages) <= WILDCARD_USAGES]
    if refused:
        raise LyncPkiError(
            f"--additional-san {refused[0]}: Lync refuses a wildcard on the "
            f"{target.label} certificate (R-GEN-08: only web services, reverse proxy and "
            "Office Web Apps certificates take one)",
            "give the explicit names instead",
        )
    sans += extra
    client_auth = answers.client_eku or Eku.CLIENT_AUTH in target.eku
    template = answers.template or request_template(target.template, client_auth)
    notes = []
    if template != (answers.template or target.template):
        notes.append(f"template {template}: Client Authentication is needed")
    country = answers.country or org.country
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise LyncPkiError(
            f"--country '{country[:20]}' is not a two-letter country code", "use e.g. US or SE"
        )
    if answers.friendly_name is not None and not answers.friendly_name.isprintable():
        raise LyncPkiError(
            "--friendly-name holds a control or other non-printable character (an escape "
            "sequence, a line break, a direction override): it would be kept in the store and "
            "in every .pfx, and reach every terminal that lists it",
            "type it again as plain text",
        )
    given = (  # the topology's organization is capped by its schema; these are the options
        ("--org", answers.organization or org.name, NameOID.ORGANIZATION_NAME),
        ("--ou", answers.unit or org.unit, NameOID.ORGANIZATIONAL_UNIT_NAME),
        ("--city", answers.city or org.city, NameOID.LOCALITY_NAME),
        ("--state", answers.state or org.state, NameOID.STATE_OR_PROVINCE_NAME),
    )
    for option, value, oid in given:  # refused before a key is made, not by the CA after
        if value is not None and not value.isprintable():  # the CA refuses it (policy)
            raise LyncPkiError(
                f"{option} holds a control or other non-printable character (a line break, a "
                "direction override such as U+202E): no CA issues it, and it would reach every "
                "report and terminal that shows the subject",
                "type it again as plain text",
            )
        if value is not None and len(value) > SUBJECT_LIMITS[oid]:
            raise LyncPkiError(
                f"{option} is {len(value)} characters (a certificate's subject takes at most "
                f"{SUBJECT_LIMITS[oid]})",
                "shorten it",
            )
    if len(target.subject) > SUBJECT_LIMITS[NameOID.COMMON_NAME]:
        raise LyncPkiError(
            f"the subject of the {target.label} certificate, {target.subject}, is "
            f"{len(target.subject)} characters: a certificate's CN takes at most "
            f"{SUBJECT_LIMITS[NameOID.COMMON_NAME]} (RFC 5280), and no CA can issue it",
            f"shorten {target.subject} in the topology to at most "
            f"{SUBJECT_LIMITS[NameOID.COMMON_NAME]} characters (lyncpki plan reports it as "
            "plan.subject-too-long)",
        )
    subject = RequestSubject(
        common_name=target.subject,
        dns_names=tuple(dict.fromkeys(sans)),
        organization=answers.organization or org.name,
        unit=answers.unit or org.unit,
        city=answers.city or org.city,
        state=answers.state or org.state,
        country=country.upper() if country else None,
    )
    return RequestSpec(
        target=target,
        subject=subject,
        template=template,
        key=answers.key or target.key,
        exportable=target.exportable if answers.exportable is None else answers.exportable,
        friendly_name=answers.friendly_name or target.friendly_name,
        client_auth=client_auth,
        notes=tuple(notes),
    )
