"""The wizard's pages in the order of the Deployment Wizard's Certificate Wizard (seed 002,
REQUIREMENTS.md 5.1), each a function that asks through a Prompter, writes its answers into
the WizardState and names the next page. Nothing is done before "Executing Commands": a
cancel (or Ctrl-C) before it leaves everything as it was.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from lyncpki.atomic import write_atomic
from lyncpki.ca.client import CaClient
from lyncpki.ca.home import CaHome
from lyncpki.ca_url import has_credentials, redact_url
from lyncpki.checks.export_chain import export_chain
from lyncpki.deployment.assignment import assign_checked
from lyncpki.enrollment.exporting import export_pfx, exportable_entry, replaceable_pfx
from lyncpki.enrollment.importing import import_file, is_pkcs12_file, read_bundle
from lyncpki.enrollment.requesting import (
    RequestKept,
    check_request_file,
    prepare,
    request_files,
    submit_online,
    write_offline,
)
from lyncpki.errors import LyncPkiError
from lyncpki.passphrase import ask_twice
from lyncpki.store import resolve_store_passphrase
from lyncpki.store.listing import certificate_rows
from lyncpki.store.protection import stores_protected
from lyncpki.wizard.prompter import BACK, CANCEL, NEXT, Cancelled, GoBack, Prompter
from lyncpki.wizard.state import ALL_IN_ONE, WizardState
from lyncpki.x509.bundles import pfx_password_problem

Page = Callable[[WizardState, Prompter], str | None]
TASKS = ("Request", "Assign", "Import", "Export", "Close")
START = "wizard"
# What a page answers to go back to a page of the administrator's choice (the summary, when the
# answers cannot make a request: the problem may be on any page before it).
REVISE = "revise"
# The request pages' titles (also what the summary offers to go back to).
TITLES = {
    "request": "Certificate Request",
    "delayed_or_immediate": "Delayed or Immediate Requests",
    "request_file": "Certificate Request File",
    "choose_ca": "Choose a Certification Authority (CA)",
    "ca_account": "Certification Authority Account",
    "template": "Specify Alternate Certificate Template",
    "name_security": "Name and Security Settings",
    "organization": "Organization Information",
    "geography": "Geographical Information",
    "subject_names": "Subject Name / Subject Alternative Names",
    "sip_domains": "SIP Domain Setting on Subject Alternate Names (SANs)",
    "additional_sans": "Configure Additional Subject Alternate Names",
}


def _nav(ui: Prompter, following: str, *, back: bool = True) -> str:
    return following if ui.navigate(back=back) == NEXT else BACK


# ------------------------------------------------------------------------------ the wizard
def wizard(state: WizardState, ui: Prompter) -> str | None:
    """Certificate Wizard: each usage of the server with its status; the tasks."""
    ui.title("Certificate Wizard", f"Server {state.server}")
    now = state.store.clock.now()
    rows = certificate_rows(state.store, now) if state.store.exists() else []
    assigned = {r.usage: r for r in rows if r.state == "assigned"}
    for target in state.targets():
        for usage in target.usages:
            row = assigned.get(str(usage))
            status = f"Assigned ({row.thumbprint})" if row else "Not assigned"
            ui.show([f"  {usage:<26} {status}"])
    task = ui.choose("Task", TASKS, "Request")
    state.task = task
    return {
        "Request": "request",
        "Assign": "assignment",
        "Import": "import_file",
        "Export": "export_choose",
    }.get(task)


# ------------------------------------------------------------------------------ request
def request(state: WizardState, ui: Prompter) -> str | None:
    ui.title(TITLES["request"], "Which planned certificate to request")
    labels = [t.label for t in state.targets()]
    choices = labels + ([ALL_IN_ONE] if len(labels) > 1 else [])
    state.request = ui.choose("Certificate", choices, state.request or labels[0])
    return _nav(ui, "delayed_or_immediate")


def delayed_or_immediate(state: WizardState, ui: Prompter) -> str | None:
    ui.title(TITLES["delayed_or_immediate"])
    now_label = "Send the request immediately to an online certification authority"
    later_label = "Prepare the request now, but send it later (offline certificate request)"
    chosen = ui.choose(
        "Request", [now_label, later_label], now_label if state.immediate else later_label
    )
    state.immediate = chosen == now_label
    return _nav(ui, "choose_ca" if state.immediate else "request_file")


def _asked(ui: Prompter, message: str, default: str, problem: Callable[[str], str | None]) -> str:
    """An answer, asked again on its own page while `problem` finds one in it: a bad CA URL or
    file name was taken and failed pages later, at Executing, losing every answer."""
    while True:
        answer = ui.text(message, default)
        found = problem(answer)
        if found is None:
            return answer
        ui.show([f"  {found}"])
        default = answer


def _url_problem(text: str) -> str | None:
    url = urlsplit(text.strip())
    if url.scheme not in ("http", "https") or not url.hostname:
        return f"'{text}' is not a CA URL: give http(s)://HOST[:PORT], e.g. http://ca.contoso.net"
    if has_credentials(text):  # kept in the store and shown: the account is the next page's
        return (
            f"'{redact_url(text)}' holds an account and password (ACCOUNT:PASSWORD@): give the "
            "URL without them, and the account on the next page (alternate credentials)"
        )
    return None


def _plain_problem(text: str) -> str | None:
    """A subject field or friendly name with a control character or a direction override
    (U+202E): refused before the request is made, not by the CA at Executing."""
    if not text.isprintable():
        shown = text.encode("unicode_escape").decode("ascii")
        return f"'{shown}' holds a control or other non-printable character: type plain text"
    return None


def _country_problem(text: str) -> str | None:
    text = text.strip()
    if text and (len(text) != 2 or not text.isalpha()):
        return f"'{text}' is not a two-letter country code: e.g. US, SE (or leave it empty)"
    return None


def request_file(state: WizardState, ui: Prompter) -> str | None:
    ui.title(TITLES["request_file"], "Where to save the request for your CA")
    default = state.output or f"{state.server}-{state.target().label.replace(',', '+')}.req"

    def problem(answer: str) -> str | None:
        try:
            check_request_file(Path(answer), state.store)
        except LyncPkiError as error:
            return f"{error.message} ({error.fix})" if error.fix else error.message
        return None

    state.output = _asked(ui, "File name", default, problem)
    return _nav(ui, "template")


def detected_cas(state: WizardState) -> list[str]:
    """CAs known in this environment: the home's own CA service."""
    home = CaHome(state.home)
    return [home.read_config().base_url] if home.exists() else []


def choose_ca(state: WizardState, ui: Prompter) -> str | None:
    ui.title(TITLES["choose_ca"])
    found = detected_cas(state)
    other = "Specify another certification authority"
    choices = [*found, other]
    default = state.ca_url if state.ca_url in found else (found[0] if found else other)
    chosen = ui.choose("CA", choices, default)
    state.ca_url = (
        _asked(ui, "CA URL", state.ca_url or "http://", _url_problem) if chosen == other else chosen
    )
    if state.ca_url.startswith("https:"):  # a private root signs most CA services' TLS
        home_root = CaHome(state.home).cert_file("root")
        state.ca_trust = _asked(
            ui,
            "Root certificate of the service's HTTPS certificate (PEM; empty: the system's roots)",
            state.ca_trust or (str(home_root) if home_root.is_file() else ""),
            _trust_problem,
        )
    else:
        state.ca_trust = ""
    return _nav(ui, "ca_account")


def _trust_problem(text: str) -> str | None:
    if text and not Path(text).is_file():
        return f"'{text}' is not a file: give the root's PEM file, or leave it empty"
    return None


def ca_account(state: WizardState, ui: Prompter) -> str | None:
    ui.title(TITLES["ca_account"])
    state.alternate_credentials = ui.confirm(
        "Specify alternate credentials for the CA?", state.alternate_credentials
    )
    if state.alternate_credentials:
        state.account = _asked(ui, "User name", state.account, _account_problem)
        state.password = ui.text("Password", state.password, secret=True)
    else:  # Lync's wizard signs in as the user; a lyncpki CA service takes CA accounts only
        ui.show(
            [
                "  Without a CA account the CA service refuses an immediate request (it "
                "enrolls CA accounts only: lyncpki ca account list on the CA)."
            ]
        )
    return _nav(ui, "template")


def _account_problem(text: str) -> str | None:
    if not text.strip():
        return "give the CA account's name (lyncpki ca account list on the CA lists them)"
    return None


def template(state: WizardState, ui: Prompter) -> str | None:
    ui.title(TITLES["template"], "Default: the Web Server template")
    state.alternate_template = ui.confirm(
        "Use an alternative certificate template?", state.alternate_template
    )
    if state.alternate_template:
        state.template = ui.text("Template name", state.template or state.target().template)
    return _nav(ui, "name_security")


KEY_CHOICES = ("rsa2048", "rsa4096", "ec-p256", "ec-p384")  # rsa1024: only when planned


def name_security(state: WizardState, ui: Prompter) -> str | None:
    ui.title(TITLES["name_security"])
    target = state.target()
    state.friendly_name = _asked(
        ui, "Friendly name", state.friendly_name or target.friendly_name, _plain_problem
    )
    # the key the plan gives this certificate first (an EC key, or RSA 1024 where the
    # topology asks for it: `lyncpki request` would make that one), then the usual ones
    planned = target.key.name
    keys = list(dict.fromkeys([planned, *KEY_CHOICES]))
    state.key = ui.choose(
        "Bit length (key type and size)", keys, state.key if state.key in keys else planned
    )
    exportable = target.exportable if state.exportable is None else state.exportable
    state.exportable = ui.confirm("Mark the certificate's private key as exportable?", exportable)
    return _nav(ui, "organization")


def organization(state: WizardState, ui: Prompter) -> str | None:
    ui.title(TITLES["organization"], "Optional")
    org = state.topology.organization
    state.organization = _asked(
        ui, "Organization", state.organization or org.name or "", _plain_problem
    )
    state.unit = _asked(ui, "Organizational unit", state.unit or org.unit or "", _plain_problem)
    return _nav(ui, "geography")


def geography(state: WizardState, ui: Prompter) -> str | None:
    ui.title(TITLES["geography"], "Optional")
    org = state.topology.organization
    state.country = _asked(
        ui, "Country/Region (two letters)", state.country or org.country or "", _country_problem
    )
    state.state = _asked(ui, "State/Province", state.state or org.state or "", _plain_problem)
    state.city = _asked(ui, "City/Locality", state.city or org.city or "", _plain_problem)
    return _nav(ui, "subject_names")


def subject_names(state: WizardState, ui: Prompter) -> str | None:
    ui.title(TITLES["subject_names"], "Computed from the topology")
    target = state.target()
    ui.show([f"  Subject name: {target.subject}", "  Subject alternative names:"])
    ui.show([f"    {name}" for name in target.sans])
    return _nav(ui, "sip_domains")


def sip_domains(state: WizardState, ui: Prompter) -> str | None:
    ui.title(TITLES["sip_domains"])
    domains = list(state.topology.sip_domains)
    state.sip_domains = ui.pick("Add sip.<domain> for", domains, state.sip_domains)
    return _nav(ui, "additional_sans")


def additional_sans(state: WizardState, ui: Prompter) -> str | None:
    ui.title(TITLES["additional_sans"], "E.g. for SIP domains to come")
    state.additional_sans = ui.text("Additional SANs (comma-separated)", state.additional_sans)
    return _nav(ui, "summary")


def summary(state: WizardState, ui: Prompter) -> str | None:
    ui.title("Certificate Request Summary")
    where = f"Online CA: {state.ca_url}" if state.immediate else f"Request file: {state.output}"
    try:
        state.validate_request()
        spec = state.spec()
    except LyncPkiError as error:
        ui.show([f"  Cannot make this request: {error.message}", f"  fix: {error.fix or ''}"])
        return REVISE
    ui.show(
        [
            f"  Server: {state.server}",
            f"  Usages: {', '.join(spec.target.usages)}",
            f"  {where}",
            f"  Template: {spec.template}",
            f"  Friendly name: {spec.friendly_name}",
            f"  Key: {spec.key.name}, exportable: {'yes' if spec.exportable else 'no'}",
            f"  Subject: {spec.subject.name().rfc4514_string()}",
            f"  SANs: {', '.join(spec.sans)}",
            "  The same request from the command line:",
            f"    {state.command_line()}",
        ]
    )
    return _nav(ui, "executing")


def executing(state: WizardState, ui: Prompter) -> str | None:
    ui.title("Executing Commands")
    spec = state.spec()
    store = state.store
    secret = resolve_store_passphrase(  # chosen (no store of the home has one yet): twice
        state.home,
        prompt=lambda: ask_twice(
            lambda label: ui.text(label, secret=True),
            "Passphrase of the server stores' keys",
            confirm=not stores_protected(state.home),
        ),
    )
    state.log.append(f"> {state.command_line()}")
    if not state.immediate:
        with request_files(store):  # another request for this file meanwhile: refused
            check_request_file(Path(state.output), store)
            prepared = prepare(store, spec, secret, output=Path(state.output))
            outcome = write_offline(store, prepared, Path(state.output))
        state.outcome = f"request written to {outcome.output}"
    else:
        account = state.account if state.alternate_credentials else None
        verify: str | bool = state.ca_trust or True
        with CaClient(state.ca_url, account, state.password or None, verify=verify) as client:
            prepared = prepare(store, spec, secret, ca_url=state.ca_url, ca_account=account)
            result = submit_online(store, prepared, client)
        if result.certificate is not None:
            state.thumbprint = result.certificate.thumbprint
            state.usages = [str(u) for u in spec.target.usages]
            state.outcome = f"issued and installed, thumbprint {state.thumbprint}"
        else:
            state.outcome = f"pending at the CA, request id {result.ca_request_id}"
            who = f" --ca-account {account}" if account else ""
            state.next_step = (
                "Once a CA manager approves it, fetch and install the certificate: lyncpki "
                f"request --server {state.server} --retrieve {result.ca_request_id} --ca "
                f"{state.ca_url}{who} --assign"
            )
    state.log.append(state.outcome)
    ui.show([f"  {line}" for line in state.log])
    return _nav(ui, "status", back=False)


def status(state: WizardState, ui: Prompter) -> str | None:
    ui.title("Online Certificate Request Status" if state.immediate else "Certificate Request")
    ui.show([f"  {state.outcome}"])
    if not state.thumbprint:
        if not state.immediate:
            ui.show(["  Send the file to your CA, then run the wizard again: Import, Assign."])
        elif state.next_step:  # held for approval: what to do once it is decided
            ui.show([f"  {state.next_step}"])
        ui.navigate(back=False, next_label="Finish")
        return None
    state.assign_after = ui.confirm(
        "Assign the certificate to Lync Server certificate usages?", state.assign_after
    )
    return _nav(ui, "assign_summary" if state.assign_after else "assignment", back=False)


# ------------------------------------------------------------------------------ assignment
def assignment(state: WizardState, ui: Prompter) -> str | None:
    ui.title("Certificate Assignment", "Assign a certificate of the store to usages")
    return _nav(ui, "store")


def store_page(state: WizardState, ui: Prompter) -> str | None:
    ui.title("Certificate Store", "Pick the certificate")
    rows = [r for r in certificate_rows(state.store, state.store.clock.now()) if r.thumbprint]
    if not rows:
        ui.show(["  The store has no certificate yet: request or import one first."])
        return BACK
    labels = {f"{r.thumbprint}  {r.friendly_name}  ({r.state})": r for r in rows}
    default = next((k for k, r in labels.items() if r.thumbprint == state.thumbprint), None)
    chosen = labels[ui.choose("Certificate", list(labels), default)]
    state.thumbprint = chosen.thumbprint or ""
    ui.show(
        [
            f"  Subject: {chosen.subject}",
            f"  SANs: {', '.join(chosen.sans)}",
            f"  Issuer: {chosen.issuer}",
            f"  Expires: {chosen.not_after}",
        ]
    )
    usages = [str(u) for t in state.targets() for u in t.usages]
    state.usages = ticked_usages(ui, usages, state.usages or usages[:1])
    return _nav(ui, "assign_summary")


def ticked_usages(ui: Prompter, usages: list[str], ticked: list[str]) -> list[str]:
    """The usages ticked, asked again while none is (then "assigned" was said with nothing
    assigned)."""
    while not (chosen := ui.pick("Usages (Advanced Certificate Usages)", usages, ticked)):
        ui.show(["  Tick at least one usage (Space ticks it, Enter goes on)."])
        ticked = usages[:1]
    return chosen


def assign_summary(state: WizardState, ui: Prompter) -> str | None:
    ui.title("Certificate Assignment Summary")
    ui.show([f"  {state.thumbprint} -> {', '.join(state.usages)} on {state.server}"])
    return _nav(ui, "assign_executing")


def assign_executing(state: WizardState, ui: Prompter) -> str | None:
    ui.title("Executing Commands")
    result = assign_checked(state.store, state.usages, state.thumbprint, plan=state.plan)
    lines = [
        f"> lyncpki assign --home {shlex.quote(str(state.home))} --server {state.server} --type "
        f"{','.join(state.usages)} --thumbprint {state.thumbprint}"
    ]
    lines += [f"  {f.severity}: {f.id}: {f.message}" for f in result.findings]
    lines.append("  assigned" if result.assigned else "  refused (fix the errors above)")
    ui.show(lines)
    return _nav(ui, "done", back=False)


def done(state: WizardState, ui: Prompter) -> str | None:
    ui.title("Certificate Wizard")
    rows = certificate_rows(state.store, state.store.clock.now())
    assigned = {r.usage: r for r in rows if r.state == "assigned"}
    for usage in [str(u) for t in state.targets() for u in t.usages]:
        ui.show([f"  {usage:<26} {'Assigned' if usage in assigned else 'Not assigned'}"])
    ui.navigate(back=False, next_label="Close")
    return None


# ------------------------------------------------------------------------------ import
def import_page(state: WizardState, ui: Prompter) -> str | None:
    ui.title("Import Certificate", "A CA's answer (.cer, .p7b) or a .pfx with its key")
    while True:
        state.import_file = _asked(ui, "File", state.import_file, _import_problem)
        path = Path(state.import_file)
        if is_pkcs12_file(path):  # by its content too, as `import` knows it
            state.pfx_password = ui.text("Password", state.pfx_password, secret=True)
        try:  # read here: a wrong password or a damaged file is said on this page
            read_bundle(path, state.pfx_password or None)
        except LyncPkiError as error:
            ui.show([f"  {error.message}"] + ([f"  fix: {error.fix}"] if error.fix else []))
            continue
        return _nav(ui, "import_executing")


def _import_problem(text: str) -> str | None:
    """A file to import that cannot be, said on its page (it ended the wizard at Executing)."""
    path = Path(text.strip())
    if not text.strip():
        return "give the file to import: the CA's answer (.cer, .p7b) or a .pfx"
    if not path.exists():
        return f"'{text}' does not exist: give the path of the CA's answer or the .pfx"
    if not path.is_file():
        return f"'{text}' is a folder: give a file in it"
    return None


def import_executing(state: WizardState, ui: Prompter) -> str | None:
    ui.title("Executing Commands")
    pfx = is_pkcs12_file(Path(state.import_file))
    secret = (
        resolve_store_passphrase(
            state.home, prompt=lambda: ui.text("Passphrase of the server stores' keys", secret=True)
        )
        if pfx
        else None
    )
    result = import_file(
        state.store,
        Path(state.import_file),
        password=state.pfx_password or None,
        secret=secret,
        exportable=True if pfx else None,
    )
    if result.certificate:
        state.thumbprint = result.certificate.thumbprint
    ui.show([f"  {line}" for _, line in result.notes(state.server)])
    return _nav(ui, "assignment", back=False)


# ------------------------------------------------------------------------------ export
def export_choose(state: WizardState, ui: Prompter) -> str | None:
    ui.title("Export Certificate", "A certificate with its private key, as a .pfx")
    rows = [r for r in certificate_rows(state.store, state.store.clock.now()) if r.thumbprint]
    exportable = []
    for row in rows:  # said here, not at Executing after the passphrase and the password
        try:
            exportable_entry(state.store, row.thumbprint or "")
        except LyncPkiError as error:
            ui.show([f"  {row.thumbprint} {row.friendly_name}: {error.message}"])
            continue
        exportable.append(row)
    if not exportable:
        ui.show(["  The store has no certificate to export with its key."])
        return BACK
    labels = {f"{r.thumbprint}  {r.friendly_name}  ({r.usage or r.state})": r for r in exportable}
    state.thumbprint = labels[ui.choose("Certificate", list(labels))].thumbprint or ""
    state.export_file = export_file(ui, state.export_file or f"{state.server}.pfx")
    while problem := pfx_password_problem(
        password := ui.text("Password", state.pfx_password, secret=True)
    ):
        ui.show([f"  {problem[0].upper()}{problem[1:]}."])
        state.pfx_password = ""
    state.pfx_password = password
    state.legacy = ui.confirm("3DES/SHA-1 for Windows Server 2012 R2 and older?", state.legacy)
    return _nav(ui, "export_executing")


def export_file(ui: Prompter, default: str) -> str:
    """The .pfx to write, asked again on its page: a file of another kind is never replaced,
    an older .pfx only when the administrator says so (it may be the only copy of a key)."""
    while True:
        name = default = ui.text("File", default)
        try:
            replaceable_pfx(Path(name), "file", replace=True)  # its kind; replacing: asked
        except LyncPkiError as error:
            ui.show([f"  {error.message}"])
            continue
        if not Path(name).exists() or ui.confirm(f"{name} exists: replace it?", False):
            return name


def export_executing(state: WizardState, ui: Prompter) -> str | None:
    ui.title("Executing Commands")
    secret = resolve_store_passphrase(
        state.home, prompt=lambda: ui.text("Passphrase of the server stores' keys", secret=True)
    )
    target = Path(state.export_file)
    # a topology or a .cer given as the file: never replaced; an older .pfx: confirmed
    replaceable_pfx(target, "file", replace=True)
    chain = export_chain(state.store, state.thumbprint, state.store.clock.now())
    data = export_pfx(
        state.store,
        state.thumbprint,
        secret=secret,
        password=state.pfx_password,
        chain=chain.certificates,
        legacy=state.legacy,
    )
    write_atomic(target, data, mode=0o600)
    warning = chain.warning()
    ui.show(
        [f"  exported {state.thumbprint} with {len(chain.certificates)} CA certificate(s) to "
         f"{target} (0600)"]
        + ([f"  warning: {warning}"] if warning else [])
    )  # fmt: skip
    return _nav(ui, "done", back=False)


PAGES: dict[str, Page] = {
    "wizard": wizard,
    "request": request,
    "delayed_or_immediate": delayed_or_immediate,
    "request_file": request_file,
    "choose_ca": choose_ca,
    "ca_account": ca_account,
    "template": template,
    "name_security": name_security,
    "organization": organization,
    "geography": geography,
    "subject_names": subject_names,
    "sip_domains": sip_domains,
    "additional_sans": additional_sans,
    "summary": summary,
    "executing": executing,
    "status": status,
    "assignment": assignment,
    "store": store_page,
    "assign_summary": assign_summary,
    "assign_executing": assign_executing,
    "done": done,
    "import_file": import_page,
    "import_executing": import_executing,
    "export_choose": export_choose,
    "export_executing": export_executing,
}
# Pages after which there is no going Back: what they did is done.
POINTS_OF_NO_RETURN = frozenset(
    {"executing", "assign_executing", "import_executing", "export_executing"}
)


def run(state: WizardState, ui: Prompter, start: str = START) -> None:
    """Page after page; Back returns to the previous page with its answers kept."""
    history: list[str] = []
    page: str | None = start
    while page:
        try:
            following = PAGES[page](state, ui)
        except GoBack:  # Esc: as Back (nothing to go back to: the page again)
            page = history.pop() if history else page
            continue
        except LyncPkiError as error:
            if not history or isinstance(error, RequestKept):  # nothing to go back to, or a
                raise  # request kept pending: Next again would send another (another key)
            # a CA that is down, a wrong password, a key that cannot be exported: said here,
            # then Back with every answer kept (it ended the wizard, the answers lost)
            ui.show(
                [f"  failed: {error.message}"]
                + ([f"  fix: {error.fix}"] if error.fix else [])
                + ["  Back to the previous page: your answers are kept."]
            )
            page = history.pop()
            continue
        if following == BACK:
            page = history.pop() if history else page
            continue
        if following == REVISE:
            page = _revised(ui, history)
            continue
        if page in POINTS_OF_NO_RETURN:
            history.clear()
        else:
            history.append(page)
        page = following


def _revised(ui: Prompter, history: list[str]) -> str:
    """The page the administrator chooses to go back to, among the request pages visited
    (latest first, the default); the history is cut back to it, as Back would have."""
    visited = {TITLES[p]: p for p in reversed(history) if p in TITLES}
    if not visited:  # no page to fix it on (the summary reached first)
        raise Cancelled
    try:
        label = ui.choose("Go back to", [*visited, CANCEL], next(iter(visited)))
    except GoBack:
        label = next(iter(visited))
    if label == CANCEL:
        raise Cancelled
    chosen = visited[label]
    del history[len(history) - 1 - history[::-1].index(chosen) :]
    return chosen
