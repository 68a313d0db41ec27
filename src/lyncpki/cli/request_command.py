"""`lyncpki request`: Request-CsCertificate -New / -Retrieve / -Clear on a server's store."""

from __future__ import annotations

import difflib
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress

from lyncpki.ca.authority import load_templates
from lyncpki.ca.client import CaClient
from lyncpki.ca_url import check_ca_url, without_credentials
from lyncpki.cli.assign_flow import assign_checked
from lyncpki.cli.ca_context import HomeOption, JsonOption, home_of
from lyncpki.cli.output import (
    EXIT_FINDINGS,
    EXIT_INPUT,
    emit_json,
    error_document,
    guarded,
    stderr,
    stdout,
)
from lyncpki.cli.store_context import (
    ServerOption,
    StorePassphraseOption,
    TopologyOption,
    ca_password,
    open_store,
    store_secret,
    topology_path,
)
from lyncpki.enrollment.request_spec import RequestSpec, WizardAnswers, decide
from lyncpki.enrollment.requesting import (
    Outcome,
    check_request_file,
    pending_at_ca,
    prepare,
    request_files,
    retrieve,
    submit_online,
    write_offline,
)
from lyncpki.enrollment.selection import RequestTarget, parse_usages, targets
from lyncpki.errors import LyncPkiError
from lyncpki.keyspec import KeySpec
from lyncpki.planning import plan
from lyncpki.store import GLOBAL, ServerStore
from lyncpki.topology import Issuer, load_topology

HELP = """Request certificates for a server from the plan [Request-CsCertificate].

The subject and every SAN come from the topology's plan. Without --type, each certificate
planned for the server is requested on its own; with --type A,B one certificate is requested
for those usages together (the union of their names). The private key is made here and kept,
encrypted, in the server's store until the answer is imported.

Immediate (online): --ca URL [--ca-account NAME] sends the request to `lyncpki ca serve`; an
issued certificate is installed at once (and assigned with --assign); a request the CA holds
for approval stays pending: fetch it later with --retrieve ID.

Delayed (offline): --offline --output FILE.req writes the base64 PKCS#10 with the
NEW CERTIFICATE REQUEST armor that certreq, AD CS web enrollment and public CAs accept;
import the answer with `lyncpki import`.
"""


def _client(
    ca: str, account: str | None, password_file: Path | None, trust: Path | None
) -> CaClient:
    return CaClient(
        ca,
        account,
        ca_password(account, password_file),
        verify=str(trust) if trust else True,
    )


def _outcome_dict(server: str, outcome: Outcome) -> dict[str, Any]:
    result: dict[str, Any] = {
        "server": server,
        "status": outcome.status,
        "request_id": outcome.pending.id,
        "types": list(outcome.pending.usages),
        "subject": outcome.pending.subject,
        "sans": list(outcome.pending.sans),
        "key": outcome.pending.key,
        "template": outcome.pending.template,
        "exportable": outcome.pending.exportable,
    }
    if outcome.certificate:
        result["thumbprint"] = outcome.certificate.thumbprint
        result["friendly_name"] = outcome.certificate.friendly_name
    if outcome.ca_request_id is not None:
        result["ca_request_id"] = outcome.ca_request_id
    if outcome.output:
        result["output"] = str(outcome.output)
    return result


def _say(server: str, outcome: Outcome) -> None:
    what = f"{server} {','.join(outcome.pending.usages)}"
    if outcome.status == "installed" and outcome.certificate:
        stdout.print(
            f"{what}: issued and installed, thumbprint {outcome.certificate.thumbprint} "
            f"({outcome.certificate.friendly_name})",
            markup=False,
        )
    elif outcome.status == "pending":
        stdout.print(
            f"{what}: pending approval at the CA, request id {outcome.ca_request_id}; "
            f"fetch it later: lyncpki request --server {server} --retrieve "
            f"{outcome.ca_request_id}",
            markup=False,
        )
    else:
        stdout.print(
            f"{what}: request written to {outcome.output}; send it to your CA, then "
            f"lyncpki import --server {server} <answer file>",
            markup=False,
        )


def request_command(
    server: str = ServerOption,
    topology: Path | None = TopologyOption,
    types: list[str] = typer.Option(
        [],
        "--type",
        help="Usages, comma-separated or repeated: Default, WebServicesInternal, "
        "WebServicesExternal, OAuthTokenIssuer, Internal, AccessEdgeExternal, ... "
        "(default: every certificate planned for the server, each on its own).",
        metavar="USAGE",
    ),
    ca: str | None = typer.Option(
        None,
        "--ca",
        help="Immediate request: URL of the CA service (lyncpki ca serve), without "
        "ACCOUNT:PASSWORD@ (the account is --ca-account).",
        metavar="URL",
    ),
    ca_account: str | None = typer.Option(
        None,
        "--ca-account",
        help="CA account (the wizard's alternate credentials).",
        metavar="NAME",
    ),
    ca_password_file: Path | None = typer.Option(
        None,
        "--ca-password-file",
        help="File with the CA account's password (else $LYNCPKI_CA_PASSWORD, else a prompt).",
        metavar="FILE",
    ),
    ca_trust: Path | None = typer.Option(
        None,
        "--ca-trust",
        help="PEM root that signs the CA service's HTTPS certificate.",
        metavar="FILE",
    ),
    offline: bool = typer.Option(False, "--offline", help="Delayed request: write a .req file."),
    output: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="The .req file (offline); a folder when several certificates are requested.",
        metavar="PATH",
    ),
    template: str | None = typer.Option(
        None,
        "--template",
        help="Alternate certificate template (default: the plan's).",
        metavar="NAME",
    ),
    friendly_name: str | None = typer.Option(
        None,
        "--friendly-name",
        help="Friendly name (default: the plan's, made unique).",
        metavar="NAME",
    ),
    key: str | None = typer.Option(
        None,
        "--key",
        help="Key: rsa2048, rsa4096, rsa1024, ec-p256, ec-p384, ec-p521 (default: the plan's, "
        "rsa2048 unless the topology says otherwise).",
        metavar="KEY",
    ),
    exportable: bool | None = typer.Option(
        None,
        "--exportable/--no-exportable",
        help="Mark the private key exportable (default: as planned, R-GEN-12).",
        show_default=False,
    ),
    org: str | None = typer.Option(None, "--org", help="Organization (O).", metavar="ORG"),
    ou: str | None = typer.Option(None, "--ou", help="Organizational unit (OU).", metavar="OU"),
    country: str | None = typer.Option(
        None, "--country", help="Two-letter country (C).", metavar="CC"
    ),
    state: str | None = typer.Option(
        None, "--state", help="State or province (ST).", metavar="STATE"
    ),
    city: str | None = typer.Option(None, "--city", help="City or locality (L).", metavar="CITY"),
    sip_domain: list[str] = typer.Option(
        [], "--sip-domain", help="Add sip.<domain> as a SAN (repeat).", metavar="DOMAIN"
    ),
    additional_san: list[str] = typer.Option(
        [],
        "--additional-san",
        help="Add a SAN, e.g. for a future SIP domain (repeat).",
        metavar="NAME",
    ),
    client_eku: bool = typer.Option(
        False, "--client-eku", help="Ask for Client Authentication too (public IM, R-GEN-02)."
    ),
    assign: bool = typer.Option(
        False, "--assign", help="Assign an issued certificate to its usages at once (checked)."
    ),
    retrieve_id: int | None = typer.Option(
        None,
        "--retrieve",
        help="Fetch the pending online request with this CA request id.",
        metavar="REQUEST_ID",
    ),
    clear_id: int | None = typer.Option(
        None,
        "--clear",
        help="Forget the pending request with this local request id.",
        metavar="REQUEST_ID",
    ),
    home: Path | None = HomeOption,
    passphrase_file: Path | None = StorePassphraseOption,
    as_json: bool = JsonOption,
) -> None:
    _request(
        server,
        topology,
        types,
        ca,
        ca_account,
        ca_password_file,
        ca_trust,
        offline,
        output,
        WizardAnswers(
            template=template,
            friendly_name=friendly_name,
            key=_key(key),
            exportable=exportable,
            organization=org,
            unit=ou,
            country=country,
            state=state,
            city=city,
            sip_domains=tuple(sip_domain),
            additional_sans=tuple(additional_san),
            client_eku=client_eku,
        ),
        assign,
        retrieve_id,
        clear_id,
        home,
        passphrase_file,
        as_json,
    )


def _key(text: str | None) -> KeySpec | None:
    if text is None:
        return None
    try:
        return KeySpec.parse(text)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--key") from None


def _unknown_templates(home: Path | None, specs: list[RequestSpec]) -> None:
    """A note for a template the home's CA does not offer (a typo: WebServr), when the home has
    a CA: the request names it, and a CA without it refuses the request later."""
    ca_home = home_of(home)
    if not ca_home.exists():
        return
    offered = {t.name.lower(): t.name for t in load_templates(ca_home)}
    for spec in specs:
        if spec.template.lower() not in offered:
            close = difflib.get_close_matches(spec.template.lower(), list(offered), n=1)
            hint = f" (did you mean {offered[close[0]]}?)" if close else ""
            stderr.print(
                f"note: template {spec.template} is not offered by this home's CA{hint}: a CA "
                f"without it refuses the request (offered: {', '.join(offered.values())})",
                markup=False,
            )


def _shared_with(target: RequestTarget) -> str | None:
    """The pool member that requests a certificate every member shares (an Edge pool's), when
    `target` is on another member; else None."""
    if not target.planned or target.planned[0].target == GLOBAL:
        return None  # the OAuth certificate: requested once, in the global store itself
    servers = target.planned[0].servers
    if len(servers) > 1 and target.server != servers[0]:
        return servers[0]
    return None


def _outputs(output: Path | None, server: str, labels: list[str]) -> list[Path]:
    if output is None:
        return [Path(f"{server}-{label.replace(',', '+')}.req") for label in labels]
    if len(labels) == 1 and not output.is_dir():
        return [output]
    if not output.exists() and not output.suffix:  # a new folder for the requests
        try:
            output.mkdir(parents=True)
        except OSError as error:
            raise LyncPkiError(
                f"cannot create the folder {output}: {error.strerror}",
                "give a folder you can write in as --output",
            ) from None
    if not output.is_dir():
        raise LyncPkiError(
            f"{len(labels)} requests are made, and --output {output} is not a folder",
            "give a folder as --output (a new one is created), or one --type",
        )
    return [output / f"{server}-{label.replace(',', '+')}.req" for label in labels]


# What each way of running `request` reads besides the server, the home and the store
# passphrase: anything else given with it would be ignored (--clear with --ca forgot the
# pending request and its key, and never asked the CA).
_TAKES = {
    "--clear": set[str](),
    "--retrieve": {"--ca", "--ca-account", "--ca-password-file", "--ca-trust", "--assign",
                   "--topology"},
    "--offline": {"--output", "--type", "--topology",
                  "the request's options (--template, --key, --org, --additional-san ...)"},
    "--ca": {"--ca-account", "--ca-password-file", "--ca-trust", "--assign", "--type",
             "--topology",
             "the request's options (--template, --key, --org, --additional-san ...)"},
}  # fmt: skip


def _refuse_mixed(given: dict[str, bool]) -> None:
    """Refuse options the chosen way of running does not read (said, not ignored)."""
    for mode, takes in _TAKES.items():
        if not given[mode]:
            continue
        ignored = [name for name, on in given.items() if on and name != mode and name not in takes]
        if ignored:
            raise LyncPkiError(
                f"{mode} does not take {', '.join(ignored)}",
                f"run {mode} on its own"
                + (f" (with {', '.join(sorted(takes))} at most)" if takes else "")
                + ", and the other options in another run",
            )
        return


@guarded()
def _request(
    server: str,
    topology: Path | None,
    types: list[str],
    ca: str | None,
    ca_account: str | None,
    ca_password_file: Path | None,
    ca_trust: Path | None,
    offline: bool,
    output: Path | None,
    answers: WizardAnswers,
    assign: bool,
    retrieve_id: int | None,
    clear_id: int | None,
    home: Path | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    _refuse_mixed(
        {
            "--clear": clear_id is not None,
            "--retrieve": retrieve_id is not None,
            "--offline": offline,
            "--output": output is not None,
            "--type": bool(types),
            "--topology": topology is not None,
            "--ca": ca is not None,
            "--ca-account": ca_account is not None,
            "--ca-password-file": ca_password_file is not None,
            "--ca-trust": ca_trust is not None,
            "--assign": assign,
            "the request's options (--template, --key, --org, --additional-san ...)": answers
            != WizardAnswers(),
        }
    )
    if ca is not None:  # before any passphrase is asked
        check_ca_url(ca)
    store = open_store(home, server)
    if clear_id is not None:
        dropped = store.drop_pending(clear_id)
        if as_json:
            emit_json({"server": store.server, "cleared": dropped.as_dict()})
        else:
            stdout.print(f"cleared pending request {clear_id} on {store.server}", markup=False)
        return
    if retrieve_id is not None:
        _retrieve(store, retrieve_id, ca, ca_account, ca_password_file, ca_trust, assign, home,
                  topology, as_json)  # fmt: skip
        return
    if offline == (ca is not None):
        raise LyncPkiError(
            "choose an immediate request (--ca URL) or a delayed one (--offline)",
            "e.g. --ca http://127.0.0.1:8080 --ca-account fe01, or --offline --output fe01.req",
        )
    path = topology_path(home, topology, required=True)
    assert path is not None
    deployment = load_topology(path)  # read once: the plan and the organization
    chosen = targets(plan(deployment, source=str(path)), store.server, parse_usages(types))
    organization = deployment.organization
    specs = [decide(t, answers, organization) for t in chosen]
    secret = store_secret(home, passphrase_file)
    client = _client(ca, ca_account, ca_password_file, ca_trust) if ca else None
    files = _outputs(output, store.server, [s.target.label for s in specs]) if offline else []
    try:
        # one process at a time checks and writes .req files in this home (see request_files)
        with request_files(store) if offline else nullcontext():
            for file in files:  # before any key is made: a refusal leaves the store as it was
                check_request_file(file, store, keep=[path])
            if offline and not as_json:
                _unknown_templates(home, specs)
            outcomes, failure = _make(store, specs, secret, client, files, ca_account, as_json)
    finally:
        if client is not None:
            client.close()
    refused = _finish(store, outcomes, assign, plan_path=path, as_json=as_json, failure=failure)
    if failure is not None:
        if as_json:  # the document says it: one JSON document on stdout
            raise typer.Exit(EXIT_INPUT)
        raise failure
    if refused:
        raise typer.Exit(EXIT_FINDINGS)


def _make(
    store: ServerStore,
    specs: list[RequestSpec],
    secret: bytes,
    client: CaClient | None,
    files: list[Path],
    ca_account: str | None,
    as_json: bool,
) -> tuple[list[Outcome], LyncPkiError | None]:
    """Make each request: sent to `client`, else written to its file. A refusal after some
    were made ends the run with those reported (returned as the failure); the first raises."""
    outcomes: list[Outcome] = []
    with Progress(console=stderr, transient=True, disable=as_json or len(specs) < 2) as bar:
        task = bar.add_task(f"requesting for {store.server}", total=len(specs))
        for number, spec in enumerate(specs):
            if not as_json:
                _notes(spec, online=client is not None)
            try:
                prepared = prepare(
                    store,
                    spec,
                    secret,
                    ca_url=client.base_url if client is not None else None,
                    ca_account=ca_account,
                    output=None if client is not None else files[number],
                )
                if client is not None:
                    outcomes.append(submit_online(store, prepared, client))
                else:
                    outcomes.append(write_offline(store, prepared, files[number]))
            except LyncPkiError as error:
                if not outcomes:
                    raise
                return outcomes, error  # what was done before it is reported (and assigned)
            bar.advance(task)
    return outcomes, None


def _notes(spec: RequestSpec, *, online: bool) -> None:
    shared = _shared_with(spec.target)
    if shared:
        stderr.print(
            f"note: {spec.target.label} is one certificate for the whole pool "
            f"({', '.join(spec.target.planned[0].servers)}): request it once, on "
            f"{shared}, then export it with its key (lyncpki export --server {shared}"
            " ...) and import the .pfx here: a second request makes a second key"
            + (
                " (check: av.not-identical)"
                if "AudioVideoAuthentication" in spec.target.label
                else ""
            )
            + " and, from a public CA, a second purchase",
            markup=False,
        )
    if spec.target.issuer == Issuer.PUBLIC and online:
        stderr.print(
            f"note: {spec.target.label} is planned for a public CA (R-GEN-09); "
            "issuing it from this CA suits a lab, not production",
            markup=False,
        )


def _finish(
    store: ServerStore,
    outcomes: list[Outcome],
    assign: bool,
    *,
    plan_path: Path | None,
    as_json: bool,
    failure: LyncPkiError | None = None,
) -> bool:
    """Report the outcomes; with `assign`, assign what was installed. True when an assignment
    was refused for its findings. `failure`: what stopped the requests after these (in the
    JSON document; the caller raises it)."""
    documents = [_outcome_dict(store.server, o) for o in outcomes]
    refused = False
    for outcome, document in zip(outcomes, documents, strict=True):
        if not as_json:
            _say(store.server, outcome)
        if assign and outcome.certificate is not None:
            result = assign_checked(
                store,
                list(outcome.pending.usages),
                outcome.certificate.thumbprint,
                plan_path=plan_path,
                quiet=as_json,
            )
            document["assignment"] = result
            refused = refused or not result["assigned"]
    if as_json:
        report: dict[str, object] = {"server": store.server, "requests": documents}
        emit_json(report | (error_document(failure) if failure is not None else {}))
    return refused


def _retrieve(
    store: ServerStore,
    ca_request_id: int,
    ca: str | None,
    ca_account: str | None,
    ca_password_file: Path | None,
    ca_trust: Path | None,
    assign: bool,
    home: Path | None,
    topology: Path | None,
    as_json: bool,
) -> None:
    pending = pending_at_ca(store, ca_request_id)  # before asking for any password
    url = ca or without_credentials(pending.ca_url)  # an earlier version kept a password
    if url is None:  # never: a request the CA knows was sent to it, and its URL kept
        raise LyncPkiError(
            f"pending request {pending.id} on {store.server} names no CA service",
            "give the CA's URL: --ca URL",
        )
    account = ca_account or pending.ca_account
    with _client(url, account, ca_password_file, ca_trust) as client:
        outcome = retrieve(store, ca_request_id, client)
    # the topology given with --retrieve judges the assignment, as `assign -t` does (it was
    # passed over: a certificate missing planned SANs was assigned, exit 0)
    path = topology_path(home, topology, required=False)
    if _finish(store, [outcome], assign, plan_path=path, as_json=as_json):
        raise typer.Exit(EXIT_FINDINGS)
