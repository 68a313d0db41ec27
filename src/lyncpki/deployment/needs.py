"""What a deployment still needs, read from the stores as they are (the stores are the truth, so a
run killed midway is resumed by the next, and a second run on a complete home does nothing).

A planned certificate is kept when, on every server it belongs to, each of its usages has the
same certificate assigned that names every planned SAN, stays valid beyond the renewal horizon
and is not revoked by the CA the run issues from. Otherwise: its holder (the first server,
where the key is made) needs a new one — or resumes a request it left pending — and the other
servers of a pool get a copy of the holder's certificate and key (what `export`/`import` of a
.pfx does by hand)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from lyncpki.ca.templates import Template, TemplateSet
from lyncpki.checks.deployment import placements
from lyncpki.errors import LyncPkiError
from lyncpki.planning.model import CertificatePlan, Eku, PlannedCertificate, Usage
from lyncpki.planning.rules import request_template
from lyncpki.store import PendingRequest, PersonalCertificate, ServerStore, StoreError
from lyncpki.store.model import KeyProtection, StoreIndex
from lyncpki.topology.model import Issuer
from lyncpki.x509.issuers import signed_by
from lyncpki.x509.keys import spec_of
from lyncpki.x509.requests import certificate_dns_names

ISSUE, RENEW, RESUME, COPY, ADOPT = "issue", "renew", "resume", "copy", "adopt"
# Where the certificates the plan gives to a public CA come from: the home's CA (a lab), or
# the public CA itself through requests the administrator sends (deploy --public-ca offline).
PUBLIC_LAB, PUBLIC_OFFLINE = "lab", "offline"
PUBLIC_SOURCES = (PUBLIC_LAB, PUBLIC_OFFLINE)

# Why a certificate was revoked ("revoked on ... (keyCompromise)"), or None when it was not:
# asked of the CA the run issues from.
Revoked = Callable[[x509.Certificate], str | None]


def _never_revoked(cert: x509.Certificate) -> str | None:
    return None


@dataclass(frozen=True)
class Need:
    planned: PlannedCertificate
    holder: str  # the store where the key is (or will be) made
    copies: tuple[str, ...]  # the other stores that get the holder's certificate and key
    action: str  # issue | renew | resume | copy | adopt
    reason: str
    thumbprint: str | None = None  # copy, adopt: the holder's certificate
    pending: PendingRequest | None = None  # resume: the request the holder keeps

    @property
    def stores(self) -> tuple[str, ...]:
        return (self.holder, *self.copies) if self.action != COPY else self.copies


@dataclass(frozen=True)
class Assessment:
    needs: tuple[Need, ...]
    kept: tuple[tuple[PlannedCertificate, str], ...]  # (planned, thumbprint) that stay


@dataclass(frozen=True)
class _Criteria:
    """What a certificate already in a store is judged against, for one assessment: now, the
    renewal horizon, the CA this run issues from (`issuers`, empty when not known) and where
    public certificates come from."""

    now: dt.datetime
    horizon: dt.datetime
    issuers: Sequence[x509.Certificate] = ()
    public: str = PUBLIC_LAB
    revoked: Revoked = _never_revoked
    secret: bytes | None = None  # the stores' passphrase: each key checked against its cert
    templates: TemplateSet | None = None  # the CA's: the validity a certificate is given
    client_usages: frozenset[Usage] = frozenset()  # whose certificates must be clients too


def _issued_by_ours(
    cert: x509.Certificate, planned: PlannedCertificate, criteria: _Criteria
) -> bool:
    """Whether a certificate may stay as issued by the CA this deployment uses now. A home
    whose CA was made again keeps certificates of the old one, which no peer trusts any more:
    a certificate the internal CA must issue has to verify against the issuers; one planned
    for a public CA only when it does not name this CA as its issuer unless it verifies (the
    lab's, made by an older CA of the home, goes; a public CA's certificate imported by the
    administrator stays) — and, when the public CA is asked (offline), only when it is not the
    home CA's at all. Runs that know no CA (no issuers) judge nothing."""
    issuers = criteria.issuers
    if not issuers:
        return True
    ours = any(signed_by(cert, issuer) for issuer in issuers)
    if planned.issuer is Issuer.INTERNAL:
        return ours
    names_ours = any(cert.issuer == issuer.subject for issuer in issuers)
    if criteria.public == PUBLIC_OFFLINE:
        return not ours and not names_ours
    return ours or not names_ours


def _not_ours(planned: PlannedCertificate, issuers: Sequence[x509.Certificate]) -> str:
    if planned.issuer is Issuer.INTERNAL:
        return f"not issued by this deployment's CA ({issuers[0].subject.rfc4514_string()})"
    return "issued by the home's CA, and the public CA is asked for it (--public-ca offline)"


def _fit(
    store: ServerStore, planned: PlannedCertificate, criteria: _Criteria
) -> tuple[str | None, str]:
    """The thumbprint assigned to every usage of `planned` in `store` when it still fits, else
    None and why not."""
    now = criteria.now
    if not store.exists():
        return None, "not deployed yet"
    try:
        index = store.load()
    except StoreError as error:
        return None, error.message
    current = {str(u): index.slots(str(u), now).current for u in planned.usages}
    if any(a is None for a in current.values()):
        missing = ", ".join(u for u, a in current.items() if a is None)
        return None, f"nothing assigned to {missing}"
    prints = {a.thumbprint for a in current.values() if a is not None}
    if len(prints) != 1:
        return None, "its usages hold different certificates"
    (thumbprint,) = prints
    elsewhere = _held_for_others(index, thumbprint, set(current), now)
    if elsewhere:  # a combined certificate after the layout went separate: its names are not
        # all this usage's (admin, lyncdiscoverinternal on the external web site)
        return None, f"also assigned to {', '.join(elsewhere)}, which the plan keeps apart"
    entry = index.certificate(thumbprint)
    if entry is None or not store.has_key(entry):
        return None, "its private key is missing"
    if planned.exportable and not entry.exportable:  # a pool grown from one server: copied,
        # it would be a non-exportable key on every member (key.not-exportable each run)
        return None, f"its key is not exportable, and it must be ({planned.exportable_reason})"
    try:
        cert = store.certificate(thumbprint)
    except StoreError as error:
        return None, error.message
    if cert.not_valid_after_utc <= criteria.horizon:
        return None, f"expires {cert.not_valid_after_utc:%Y-%m-%d}"
    if cert.not_valid_before_utc > now:
        return None, "not valid yet"
    if (differs := _differs(cert, planned, criteria)) is not None:
        return None, differs
    if not _issued_by_ours(cert, planned, criteria):
        return None, _not_ours(planned, criteria.issuers)
    revoked = criteria.revoked(cert)
    if revoked is not None:
        return None, revoked
    if not _key_is_its(store, entry, cert, criteria):  # last: it opens the key
        return None, "its private key is not the certificate's (replaced or damaged)"
    return thumbprint, "fits"


def _held_for_others(
    index: StoreIndex, thumbprint: str, usages: set[str], now: dt.datetime
) -> list[str]:
    """The usages outside `usages` that `thumbprint` is the current certificate of."""
    return sorted(
        usage
        for usage in index.assignments
        if usage not in usages
        and (held := index.slots(usage, now).current) is not None
        and held.thumbprint == thumbprint
    )


def _installed(store: ServerStore, planned: PlannedCertificate, criteria: _Criteria) -> str | None:
    """A certificate already installed in the holder's store that fits the plan but is not
    assigned (a run killed between import and assignment, or a public CA's answer imported):
    adopted, not issued again."""
    if not store.exists():
        return None
    index = store.load()
    planned_usages = {str(u) for u in planned.usages}
    for entry in reversed(index.personal):
        if (planned.exportable and not entry.exportable) or not store.has_key(entry):
            continue
        if _held_for_others(index, entry.thumbprint, planned_usages, criteria.now):
            continue
        try:
            cert = store.certificate(entry.thumbprint)
        except StoreError:
            continue
        if (
            cert.not_valid_before_utc <= criteria.now
            and cert.not_valid_after_utc > criteria.horizon
            and _differs(cert, planned, criteria) is None
            and _issued_by_ours(cert, planned, criteria)
            and criteria.revoked(cert) is None
            and _key_is_its(store, entry, cert, criteria)
        ):
            return entry.thumbprint
    return None


def _granted(templates: TemplateSet | None, planned: PlannedCertificate) -> int | None:
    """The days the CA gives a certificate of `planned` (its request's template, as `decide`
    chooses it), or None when not known (a remote CA, an unknown template)."""
    if templates is None:
        return None
    name = request_template(planned.template, Eku.CLIENT_AUTH in planned.eku)
    try:
        return granted_days(templates.get(name), planned.validity_days)
    except LyncPkiError:
        return None


def granted_days(template: Template, planned_days: int) -> int:
    """The days a certificate asked for `planned_days` under `template` is given: the plan's
    within the template's; the template's when it needs approval (no validity is asked)."""
    if template.approval:
        return template.validity_days
    return min(planned_days, template.validity_days)


def _key_is_its(
    store: ServerStore, entry: PersonalCertificate, cert: x509.Certificate, criteria: _Criteria
) -> bool:
    """Whether the store's key of `entry` is `cert`'s, when the stores' passphrase is known (a
    key file replaced by another key: the proof's TLS refused it, naming no server)."""
    if criteria.secret is None or entry.key_id is None:
        return True
    return store.holds_key_of(entry.key_id, cert, criteria.secret)


def _differs(
    cert: x509.Certificate, planned: PlannedCertificate, criteria: _Criteria
) -> str | None:
    """How a certificate differs from what the plan gives now, or None: the subject, a SAN
    missing, an EKU missing (Client Authentication once public IM is on, or where deploy's
    proof makes the server a client: `_not_a_client`); for the internal CA,
    which reissues at no cost, also names the plan no longer has (a SIP domain dropped),
    another key (the topology's key changed) and a longer validity than the CA gives the plan's
    (known with the CA's `templates`). A public CA's certificate the administrator bought may
    carry more names, or another key, and stays."""
    if (subject := _cn(cert)) != planned.subject:
        return f"its subject is {subject or 'empty'}, the plan's {planned.subject}"
    names = certificate_dns_names(cert)
    if missing_names := set(planned.sans) - names:
        return f"lacks {', '.join(sorted(missing_names))}"
    if missing_ekus := [e for e in planned.eku if not _has_eku(cert, e.oid)]:
        return f"lacks the {', '.join(e.label for e in missing_ekus)} EKU"
    if planned.issuer is not Issuer.INTERNAL:
        return None
    if (client := _not_a_client(cert, planned, criteria)) is not None:
        return client
    if extra := names - set(planned.sans):
        return f"carries {', '.join(sorted(extra))}, which the plan no longer has"
    days = _granted(criteria.templates, planned)
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    if days is not None and lifetime > dt.timedelta(days=days + 1):  # the CA backdates 5 min
        return f"it is valid for {lifetime.days} days, the plan's {planned.validity_days}"
    key = spec_of(cert.public_key())
    if key != planned.key:
        return f"its key is {key.name if key else 'of another type'}, the plan's {planned.key.name}"
    return None


def _not_a_client(
    cert: x509.Certificate, planned: PlannedCertificate, criteria: _Criteria
) -> str | None:
    """Why a certificate (of the internal CA) that must also authenticate its server as a client
    (`criteria.client_usages`: deploy's live proof, whose OpenSSL peers refuse a client
    certificate without Client Authentication) cannot, or None. Lync itself does not ask for
    that EKU (R-GEN-02): the Certificate Wizard's WebServer template leaves it out."""
    if not criteria.client_usages & set(planned.usages) or _has_eku(cert, Eku.CLIENT_AUTH.oid):
        return None
    return (
        "lacks the Client Authentication EKU, which the live proof's OpenSSL peers require of "
        "a server's certificate as a client (issued with the WebServer template, the "
        "Certificate Wizard's default; deploy --no-live keeps it)"
    )


def _has_eku(cert: x509.Certificate, oid: str) -> bool:
    """Whether the certificate may be used for `oid` (no EKU extension: for every use)."""
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    except ValueError:  # unreadable: not what the plan asks
        return False
    return any(usage.dotted_string == oid for usage in usages)


def _cn(cert: x509.Certificate) -> str:
    values = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(values[0].value).lower() if values else ""


def _pending(store: ServerStore, planned: PlannedCertificate) -> PendingRequest | None:
    """A request the holder made for this certificate and never completed."""
    if not store.exists():
        return None
    usages = [str(u) for u in planned.usages]
    for request in reversed(store.load().pending):
        if planned.exportable and not request.exportable:
            continue  # its key would be made again exportable: a new request
        if not set(planned.sans) <= set(request.sans):
            continue  # the plan grew (a SIP domain more): its answer would lack names
        if list(request.usages) == usages and request.subject == planned.subject:
            return request
    return None


def asks_public_ca(need: Need, public: str) -> bool:
    """Whether `need` is met by a request to the public CA rather than by an issuance: a
    certificate planned for a public CA, to be issued or renewed or resumed, when deploy runs
    with --public-ca offline."""
    return (
        public == PUBLIC_OFFLINE
        and need.planned.issuer is Issuer.PUBLIC
        and need.action in (ISSUE, RENEW, RESUME)
    )


def _stores_of(plan: CertificatePlan) -> dict[str, list[str]]:
    stores: dict[str, list[str]] = {}
    for planned, name in placements(plan):
        stores.setdefault(planned.id, []).append(name)
    return stores


def protections(plan: CertificatePlan, home: Path) -> list[KeyProtection]:
    """The passphrase check of each store of the plan that holds keys: what assess(), given
    the passphrase, checks it against before it opens a key there (a scrypt per store, each
    with its own salt; deploy derives them ahead, `--jobs` at a time: store.protection's
    matches_each)."""
    found = []
    for name in sorted({name for _, name in placements(plan)}):
        store = ServerStore(home, name)
        if not store.exists():
            continue
        try:
            protection = store.load().protection
        except StoreError:  # assess() says what is wrong with it
            continue
        if protection is not None:
            found.append(protection)
    return found


def assess(
    plan: CertificatePlan,
    home: Path,
    now: dt.datetime,
    *,
    renew_within: dt.timedelta = dt.timedelta(days=30),
    only: Iterable[str] | None = None,
    issuers: Sequence[x509.Certificate] = (),
    public: str = PUBLIC_LAB,
    revoked: Revoked | None = None,
    secret: bytes | None = None,
    templates: TemplateSet | None = None,
    client_usages: frozenset[Usage] = frozenset(),
) -> Assessment:
    """Every need of the deployment, and what stays as it is. `issuers`: the certificates of
    the CA this run issues from (a certificate of the internal CA not issued by them is
    renewed); empty when not known. `public`: where the certificates planned for a public CA
    come from (PUBLIC_LAB: the home's CA may issue them; PUBLIC_OFFLINE: only the public CA's
    are kept). `revoked`: why a certificate was revoked by that CA (it is renewed), else None.
    `secret`: the stores' passphrase, to check that each key is its certificate's (a run has
    it; a dry run may not). `templates`: the home CA's, to know the validity it gives.
    `client_usages`: the usages whose certificates must carry Client Authentication too (the
    live proof's)."""
    criteria = _Criteria(
        now,
        now + renew_within,
        issuers,
        public,
        revoked or _never_revoked,
        secret,
        templates,
        client_usages,
    )
    copies = _Criteria(now, now + renew_within, secret=secret)  # issuer judged by the holder
    wanted = set(only) if only is not None else None
    needs: list[Need] = []
    kept: list[tuple[PlannedCertificate, str]] = []
    stores_of = _stores_of(plan)
    for planned in plan.certificates:
        names = stores_of[planned.id]
        if wanted is not None and not wanted & set(names):
            continue
        holder, others = names[0], tuple(names[1:])
        holder_store = ServerStore(home, holder)
        held, why = _fit(holder_store, planned, criteria)
        if held is None:
            pending = _pending(holder_store, planned)
            adopted = _installed(holder_store, planned, criteria)
            if adopted is not None:
                needs.append(
                    Need(
                        planned,
                        holder,
                        others,
                        ADOPT,
                        "installed, not assigned",
                        thumbprint=adopted,
                    )
                )
            elif pending is not None:
                needs.append(
                    Need(
                        planned,
                        holder,
                        others,
                        RESUME,
                        "a request was left pending",
                        pending=pending,
                    )
                )
            else:
                action = (
                    ISSUE if why in ("not deployed yet",) or why.startswith("nothing") else (RENEW)
                )
                needs.append(Need(planned, holder, others, action, why))
            continue
        lacking = []
        for name in others:
            # the holder's certificate passed the issuer check: a copy must be that one
            copy, _ = _fit(ServerStore(home, name), planned, copies)
            if copy != held:
                lacking.append(name)
        if lacking:
            needs.append(
                Need(
                    planned, holder, tuple(lacking), COPY, "pool member without it", thumbprint=held
                )
            )
        else:
            kept.append((planned, held))
    return Assessment(tuple(needs), tuple(kept))
