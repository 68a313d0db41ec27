"""The planner: a topology in, a `CertificatePlan` out, by applying the rule table."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from lyncpki.keyspec import KeySpec
from lyncpki.planning.advice import (
    certificate_warnings,
    no_subject,
    plan_warnings,
    public_validity,
)
from lyncpki.planning.context import Context, Facts
from lyncpki.planning.model import (
    CertificatePlan,
    Eku,
    PlannedCertificate,
    PlanWarning,
)
from lyncpki.planning.public_validity import public_max_days
from lyncpki.planning.rules import (
    CLIENT_AUTH_TEMPLATE,
    GLOBAL,
    REVERSE_PROXY,
    CertificateRule,
    Exportable,
    Scope,
    rules_for,
)
from lyncpki.planning.sources import CONDITIONS, NAME_SOURCES, WILDCARDABLE
from lyncpki.topology import load_topology
from lyncpki.topology.model import CertificateOptions, Issuer, Layout, Topology
from lyncpki.topology.names import is_within, parent_domain

FRIENDLY = {
    "default": "Lync Default",
    "web-internal": "Lync Web Services Internal",
    "web-external": "Lync Web Services External",
    "edge-external": "Lync Edge External",
    "edge-internal": "Lync Edge Internal",
    "av-authentication": "Lync A/V Authentication",
    "office-web-apps": "Office Web Apps",
    "reverse-proxy": "Reverse Proxy",
    "oauth": "Lync OAuth Token Issuer",
}


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """Choices the command line may override over the topology's defaults."""

    layout: Layout | None = None
    # the day the certificates would be issued: a public CA's validity depends on it
    # (planning.public_validity); None is today
    on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Application:
    """One rule applied once: to a server, a pool, a site's reverse proxy or the deployment."""

    rule: CertificateRule
    ctx: Context
    target: str
    servers: tuple[str, ...]
    options: CertificateOptions  # the pool's, the reverse proxy's or the OAuth certificate's


class _Planner:
    def __init__(self, topology: Topology, options: PlanOptions) -> None:
        self.topology = topology
        self.facts = Facts(topology)
        self.options = options
        self.warnings: list[PlanWarning] = []

    def names(self, rule: CertificateRule, ctx: Context) -> tuple[str, list[str], list[str]]:
        """The subject, the SANs (subject first, deduplicated) and the rules that added them."""
        subjects = NAME_SOURCES[rule.subject](ctx)
        subject = subjects[0] if subjects else ""
        sans: dict[str, None] = dict.fromkeys([subject] if subject else [])
        rules: dict[str, None] = {rule.id: None}
        wild = self.topology.wildcards and rule.wildcard_ok
        for name_rule in rule.sans:
            found = NAME_SOURCES[name_rule.source](ctx)
            if not found:
                continue
            if wild and name_rule.source in WILDCARDABLE:
                found = tuple(self.wildcard(n) for n in found)
                rules["R-GEN-08"] = None
            sans.update(dict.fromkeys(found))
            rules[name_rule.rule] = None
        return subject, list(sans), list(rules)

    def wildcard(self, name: str) -> str:
        """`*.<parent>` for a name under a SIP domain (meet.contoso.com: *.contoso.com); the
        name itself when its parent is no SIP domain's: a simple URL on the SIP domain itself
        (https://contoso.com/meet) would give *.com, which matches nothing of ours and no CA
        issues, and *.contoso.com does not match contoso.com."""
        parent = parent_domain(name)
        if "." in parent and any(is_within(parent, d) for d in self.topology.sip_domains):
            return f"*.{parent}"
        return name

    def key(self, rule: CertificateRule, options: CertificateOptions) -> tuple[KeySpec, str | None]:
        """The certificate's own key option; else `defaults.key`, unless the rule requires
        another key (KeyRequirement): then the required one, with a note saying why. A key set
        in the certificate's options is kept (plan.key-requirement judges it)."""
        key = options.key or self.topology.defaults.key
        need = rule.key
        if options.key is not None or need is None or need.allows(key):
            return key, None
        planned = need.planned
        return planned, f"key {planned.name}, not the default {key.name}: {need.demand}"

    def certificate(self, app: Application) -> PlannedCertificate | None:
        rule, ctx, target, servers, options = (
            app.rule,
            app.ctx,
            app.target,
            app.servers,
            app.options,
        )
        subject, sans, rules = self.names(rule, ctx)
        if not subject:
            self.warnings.append(no_subject(rule, ctx.site.name, target))
            return None
        issuer = options.issuer or getattr(self.topology.certificate_authorities, rule.ca)
        eku = [Eku.SERVER_AUTH]
        template = options.template or rule.template
        if rule.client_auth_when and CONDITIONS[rule.client_auth_when](ctx):
            eku.append(Eku.CLIENT_AUTH)
            rules.append(rule.client_auth_rule)
            template = options.template or CLIENT_AUTH_TEMPLATE
        key, key_note = self.key(rule, options)
        exportable = rule.exportable is Exportable.ALWAYS or (
            rule.exportable is Exportable.WHEN_SHARED and len(servers) > 1
        )
        reason = (
            rule.exportable_reason
            if exportable or rule.exportable is Exportable.NEVER
            else "not needed: a single server holds it (R-GEN-12)"
        )
        usages = tuple(u.usage for u in rule.usages if u.when is None or CONDITIONS[u.when](ctx))
        notes = rule.notes + ((key_note,) if key_note else ())
        return PlannedCertificate(
            id=f"{target}/{rule.label}",
            site=ctx.site.name if rule.scope is not Scope.GLOBAL else GLOBAL,
            role=str(rule.applies_to),
            target=target,
            servers=servers,
            usages=usages,
            subject=subject,
            sans=tuple(sans),
            eku=tuple(eku),
            issuer=issuer,
            key=key,
            exportable=exportable,
            exportable_reason=reason,
            template=template,
            friendly_name=f"{FRIENDLY.get(rule.label, rule.label)} {target}",
            validity_days=self.validity_days(options, issuer),
            rules=tuple(rules),
            notes=notes,
        )

    def validity_days(self, options: CertificateOptions, issuer: Issuer) -> int:
        """The pool's choice, else the topology's default given explicitly; else the default
        (730 days), but for a public CA's certificate no longer than a public CA may issue on
        the day of issuance (what it would give anyway). A longer explicit choice is kept and
        warned about (plan.public-validity)."""
        if options.validity_days:
            return options.validity_days
        defaults = self.topology.defaults
        if issuer is Issuer.PUBLIC and "validity_days" not in defaults.model_fields_set:
            return min(defaults.validity_days, public_max_days(self.today))
        return defaults.validity_days

    def validity_field(self, options: CertificateOptions) -> str:
        """Where the topology sets the validity a certificate of `options` is planned with."""
        if options.validity_days:
            return "validity_days in its certificates options"
        return (
            "it comes from defaults.validity_days: remove that, and public certificates are "
            "planned as long as public CAs issue; or set validity_days in its certificates "
            "options"
        )

    @property
    def today(self) -> dt.date:
        return self.options.on or dt.date.today()

    def applications(self) -> Iterator[Application]:
        """Every rule application the topology calls for, in report order."""
        facts = self.facts
        for site in self.topology.sites:
            for pool in site.pools:
                members = tuple(pool.members)
                for rule in rules_for(pool.role):
                    if rule.scope is Scope.SERVER:
                        for server in members:
                            ctx = Context(facts, site, pool, server)
                            if rule.when is None or CONDITIONS[rule.when](ctx):
                                yield Application(rule, ctx, server, (server,), pool.certificates)
                    else:
                        ctx = Context(facts, site, pool)
                        if rule.when is None or CONDITIONS[rule.when](ctx):
                            yield Application(rule, ctx, pool.fqdn, members, pool.certificates)
            proxy = site.reverse_proxy
            for rule in rules_for(REVERSE_PROXY):
                ctx = Context(facts, site)
                if proxy is not None and (rule.when is None or CONDITIONS[rule.when](ctx)):
                    subject = NAME_SOURCES[rule.subject](ctx)
                    target = proxy.fqdn or (subject[0] if subject else f"reverse-proxy.{site.name}")
                    servers = tuple(proxy.servers) or ((proxy.fqdn,) if proxy.fqdn else ())
                    yield Application(rule, ctx, target, servers, proxy.certificates)
        for rule in rules_for(GLOBAL):
            ctx = Context(facts, self.topology.sites[0])
            oauth = self.topology.oauth.certificates
            yield Application(rule, ctx, GLOBAL, facts.oauth_servers, oauth)

    def layout_of(self, ctx: Context) -> Layout:
        chosen = ctx.pool.certificates.layout if ctx.pool else None
        return chosen or self.options.layout or self.topology.defaults.layout

    def plan(self, source: str | None) -> CertificatePlan:
        certificates: list[PlannedCertificate] = []
        # what each listed certificate was planned from: (rule, part) pairs, several where
        # `layout: combined` merged a server's Default and web services certificates
        parts: list[list[tuple[CertificateRule, PlannedCertificate]]] = []
        contexts: list[Context] = []
        options: list[CertificateOptions] = []
        merged_at: dict[tuple[str, str], int] = {}
        for app in self.applications():
            cert = self.certificate(app)
            if cert is None:
                continue
            rule, ctx, target = app.rule, app.ctx, app.target
            group = rule.merge_group
            if group and self.layout_of(ctx) is Layout.COMBINED:
                key = (target, group)
                if key in merged_at:
                    index = merged_at[key]
                    certificates[index] = _merge(certificates[index], cert)
                    parts[index].append((rule, cert))
                    continue
                merged_at[key] = len(certificates)
            certificates.append(cert)
            parts.append([(rule, cert)])
            contexts.append(ctx)
            options.append(app.options)
        certificates = _site_qualified(certificates)
        # the checks that judge a whole certificate, once each certificate is whole (a merged
        # one over the public CA's SAN limit was passed part by part)
        for index, cert in enumerate(certificates):
            found = certificate_warnings(parts[index], cert, contexts[index])
            found += public_validity(cert, self.today, self.validity_field(options[index]))
            if found:
                certificates[index] = replace(cert, warnings=tuple(found))
        certificates = _unique_friendly_names(certificates)
        _check_unique_ids(certificates)
        warnings = [w for c in certificates for w in c.warnings]
        warnings += self.warnings + plan_warnings(self.topology, self.facts, certificates)
        layout = self.options.layout or self.topology.defaults.layout
        held = {s for c in certificates for s in (*c.servers, c.target)}
        unplanned = tuple(
            (member, str(pool.role))
            for site in self.topology.sites
            for pool in site.pools
            for member in pool.members
            if member not in held
        )
        return CertificatePlan(tuple(certificates), tuple(warnings), str(layout), source, unplanned)


def _merge(first: PlannedCertificate, other: PlannedCertificate) -> PlannedCertificate:
    """R-GEN-17: one certificate carrying the union of names, assigned to every usage."""
    return replace(
        first,
        usages=first.usages + tuple(u for u in other.usages if u not in first.usages),
        sans=first.sans + tuple(n for n in other.sans if n not in first.sans),
        rules=first.rules
        + tuple(r for r in other.rules if r not in first.rules)
        + (() if "R-GEN-17" in first.rules else ("R-GEN-17",)),
        friendly_name=f"Lync Default and Web Services {first.target}",
        notes=first.notes + tuple(n for n in other.notes if n not in first.notes),
    )


def _site_qualified(certificates: list[PlannedCertificate]) -> list[PlannedCertificate]:
    """Ids (and friendly names) that name their site where two sites' certificates would share
    one: two reverse proxies without an `fqdn` whose first published name is the same were
    both `webdir.contoso.com/reverse-proxy`. An id that is unique is kept as it is."""
    count = Counter(cert.id for cert in certificates)
    return [
        cert
        if count[cert.id] == 1
        else replace(
            cert,
            id=f"{cert.site}/{cert.id}",
            friendly_name=f"{cert.friendly_name} ({cert.site})",
        )
        for cert in certificates
    ]


def _check_unique_ids(certificates: list[PlannedCertificate]) -> None:
    """Every id names one certificate of the plan: the reports, `deploy` and `check` look
    certificates up by it."""
    repeated = sorted(i for i, n in Counter(c.id for c in certificates).items() if n > 1)
    if repeated:
        raise RuntimeError(
            f"the plan gives two certificates the same id ({', '.join(repeated)}): a bug of the "
            "planner, which must give each certificate an id of its own"
        )


def _unique_friendly_names(certificates: list[PlannedCertificate]) -> list[PlannedCertificate]:
    """R-GEN-15: friendly names are unique within each server's store."""
    used: dict[str, set[str]] = {}
    result = []
    for cert in certificates:
        name, n = cert.friendly_name, 1
        while any(name in used.get(s, ()) for s in cert.servers):
            n += 1
            name = f"{cert.friendly_name} ({n})"
        for server in cert.servers:
            used.setdefault(server, set()).add(name)
        result.append(cert if name == cert.friendly_name else replace(cert, friendly_name=name))
    return result


def plan(
    topology: Topology, options: PlanOptions | None = None, *, source: str | None = None
) -> CertificatePlan:
    """Every certificate `topology` needs, with its warnings."""
    return _Planner(topology, options or PlanOptions()).plan(source)


def plan_file(path: Path, options: PlanOptions | None = None) -> CertificatePlan:
    """The plan of the topology file `path` (the plan names the file as its source)."""
    return plan(load_topology(path), options, source=str(path))
