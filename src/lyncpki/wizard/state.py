"""What the wizard knows and has been told: the deployment, the server, and every answer (kept
when the administrator goes Back). The answers become the same WizardAnswers the
`lyncpki request` flags fill, and the summary shows that command line."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from lyncpki.enrollment.request_spec import RequestSpec, WizardAnswers, decide
from lyncpki.enrollment.selection import RequestTarget, parse_usages, targets
from lyncpki.errors import LyncPkiError
from lyncpki.keyspec import KeySpec
from lyncpki.planning import CertificatePlan
from lyncpki.store import ServerStore
from lyncpki.topology import Topology

ALL_IN_ONE = "all of them in one certificate"


@dataclass
class WizardState:
    home: Path
    topology_path: Path
    topology: Topology
    plan: CertificatePlan
    server: str = ""
    task: str = ""  # Request | Assign | Import | Export
    # --- request pages
    request: str = ""  # the usages label chosen on "Certificate Request"
    immediate: bool = True
    output: str = ""
    ca_url: str = ""
    ca_trust: str = ""  # the root of an HTTPS CA service's certificate (empty: the system's)
    alternate_credentials: bool = True  # a lyncpki CA service enrolls CA accounts only
    account: str = ""
    password: str = ""
    alternate_template: bool = False
    template: str = ""
    friendly_name: str = ""
    key: str = ""
    next_step: str = ""  # what to do after the wizard (a request held for approval)
    exportable: bool | None = None
    organization: str = ""
    unit: str = ""
    country: str = ""
    state: str = ""
    city: str = ""
    sip_domains: list[str] = field(default_factory=list)
    additional_sans: str = ""
    assign_after: bool = True
    # --- assignment, import, export pages
    thumbprint: str = ""
    usages: list[str] = field(default_factory=list)
    import_file: str = ""
    pfx_password: str = ""
    export_file: str = ""
    legacy: bool = False
    # --- what was done
    log: list[str] = field(default_factory=list)
    outcome: str = ""

    @property
    def store(self) -> ServerStore:
        return ServerStore(self.home, self.server)

    def targets(self) -> list[RequestTarget]:
        """One target per planned certificate of the server (the Certificate Request page)."""
        return targets(self.plan, self.server, [])

    def target(self) -> RequestTarget:
        found = self.targets()
        if self.request == ALL_IN_ONE:
            usages = [u for t in found for u in t.usages]
            return targets(self.plan, self.server, usages)[0]
        for candidate in found:
            if candidate.label == self.request:
                return candidate
        return found[0]

    def answers(self) -> WizardAnswers:
        return WizardAnswers(
            template=self.template if self.alternate_template and self.template else None,
            friendly_name=self.friendly_name or None,
            key=KeySpec.parse(self.key) if self.key else None,
            exportable=self.exportable,
            organization=self.organization or None,
            unit=self.unit or None,
            country=self.country or None,
            state=self.state or None,
            city=self.city or None,
            sip_domains=tuple(self.sip_domains),
            additional_sans=tuple(n.strip() for n in self.additional_sans.split(",") if n.strip()),
        )

    def spec(self) -> RequestSpec:
        return decide(self.target(), self.answers(), self.topology.organization)

    def usage_names(self) -> list[str]:
        return [str(u) for u in parse_usages(self.usages)]

    def command_line(self) -> str:
        """The `lyncpki request` command that makes the same request."""
        args = [
            "lyncpki",
            "request",
            "--home",
            str(self.home),
            "--topology",
            str(self.topology_path),
            "--server",
            self.server,
            "--type",
            ",".join(self.target().usages),
        ]
        if self.immediate:
            args += ["--ca", self.ca_url]
            if self.alternate_credentials and self.account:
                args += ["--ca-account", self.account]
            if self.ca_trust:
                args += ["--ca-trust", self.ca_trust]
        else:
            args += ["--offline", "--output", self.output]
        answers = self.answers()
        for flag, value in (
            ("--template", answers.template),
            ("--friendly-name", answers.friendly_name),
            ("--key", answers.key.name if answers.key else None),
            ("--org", answers.organization),
            ("--ou", answers.unit),
            ("--country", answers.country),
            ("--state", answers.state),
            ("--city", answers.city),
        ):
            if value:
                args += [flag, value]
        if answers.exportable is not None:
            args.append("--exportable" if answers.exportable else "--no-exportable")
        for domain in answers.sip_domains:
            args += ["--sip-domain", domain]
        for name in answers.additional_sans:
            args += ["--additional-san", name]
        if self.immediate and self.assign_after:
            args.append("--assign")
        return shlex.join(args)

    def validate_request(self) -> None:
        """The answers make a request (raises LyncPkiError with the field to fix)."""
        self.spec()
        if not self.immediate and not self.output:
            raise LyncPkiError("the request file needs a name", "type a path ending in .req")
