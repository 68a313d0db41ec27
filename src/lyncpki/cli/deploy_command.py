"""`lyncpki deploy`: the whole deployment in one run, with a progress bar per phase."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections import Counter, defaultdict
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from lyncpki.atomic import write_atomic
from lyncpki.ca_url import check_ca_url
from lyncpki.checks.deployment import placements
from lyncpki.cli.ca_context import HomeOption, home_of
from lyncpki.cli.output import EXIT_FINDINGS, emit_json, guarded, stderr, stdout
from lyncpki.cli.store_context import CA_PASSWORD_ENV
from lyncpki.deployment.deploy import DeployOptions, DeployResult, deploy
from lyncpki.deployment.needs import PUBLIC_LAB, PUBLIC_SOURCES
from lyncpki.deployment.report import report_document
from lyncpki.deployment.runner import REQUESTED
from lyncpki.errors import LyncPkiError
from lyncpki.inputs import env_secret
from lyncpki.reports.deploy_html import render_deploy_html

HELP = """Deploy every certificate of a topology, check it, and prove it on the wire.

Plans TOPOLOGY; creates the CA if the home has none (a random passphrase is generated into
<home>/secrets for a demo home when LYNCPKI_CA_PASSPHRASE is not set); starts the CA service
on the loopback port its CRL/AIA/OCSP URLs name (or uses --ca URL); then for every server and
usage: key (made in --jobs processes), request, issuance, import, assignment; copies the Edge
pool's shared certificates to every member; publishes the CRLs; runs every check (revocation
included); proves mutual TLS between the servers that talk in Lync, pool by pool, each
server's certificate on a loopback listener, serving and as a client against each kind of
server it talks to, and that a revoked certificate is refused; writes report.html and
report.json into the home.

A second run changes nothing (and says so); --renew-within renews what expires soon; a run
killed midway is resumed, nothing issued twice. --dry-run only lists what a run would do.

Certificates for a public CA (Edge external, reverse proxy) come from the home's CA in a lab;
with --public-ca offline, deploy writes their requests to <home>/public-requests instead, and
the run after `lyncpki import` of each answer assigns it and copies it across the Edge pool.

Exit status: 0 deployed and proved, 1 errors found (see the report), 2 bad input.
"""

MAX_RENEW_WITHIN_DAYS = 3650
_DURATION = re.compile(r"^(\d+)\s*(d|h|days?|hours?)?\Z")


def _duration(text: str) -> int:
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise typer.BadParameter("use e.g. 30d or 12h", param_hint="--renew-within")
    value, unit = int(match.group(1)), (match.group(2) or "d")
    seconds = value * 3600 if unit.startswith("h") else value * 86400
    if seconds > MAX_RENEW_WITHIN_DAYS * 86400:
        raise typer.BadParameter(
            f"at most {MAX_RENEW_WITHIN_DAYS}d (longer than any certificate lives)",
            param_hint="--renew-within",
        )
    return seconds


class _Bars:
    """The run's reporter: one progress bar per phase (quiet with --json)."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.task: object | None = None

    def phase(self, name: str, total: int) -> None:
        if self.progress is None:
            return
        if self.task is not None:
            self.progress.update(self.task, completed=self.progress.tasks[-1].total)  # type: ignore[arg-type]
        self.task = self.progress.add_task(name, total=max(total, 1))

    def advance(self, count: int = 1) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, count)  # type: ignore[arg-type]

    def note(self, text: str) -> None:
        if self.progress is not None:
            self.progress.console.print(f"note: {text}")


def deploy_command(
    topology: Path = typer.Argument(
        ..., help="Topology file (.yaml or .json).", show_default=False, metavar="TOPOLOGY"
    ),
    home: Path | None = HomeOption,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="List what would be done; touch nothing."
    ),
    renew_within: str = typer.Option(
        "30d",
        "--renew-within",
        help="Renew certificates expiring within this (30d, 12h).",
        metavar="DURATION",
    ),
    jobs: int = typer.Option(
        os.cpu_count() or 1,
        "--jobs",
        "-j",
        min=1,
        max=256,
        help=(
            "Processes that make keys, and threads that check the stores' passphrase "
            "(default: cores; never more than there is work)."
        ),
        metavar="N",
    ),
    ca: str | None = typer.Option(
        None,
        "--ca",
        help="Use this CA service instead of the home's own (with --ca-account; no "
        "ACCOUNT:PASSWORD@ in the URL).",
        metavar="URL",
    ),
    ca_account: str | None = typer.Option(
        None, "--ca-account", help="CA account for --ca.", metavar="NAME"
    ),
    no_live: bool = typer.Option(False, "--no-live", help="Skip the live mutual-TLS proof."),
    public_ca: str = typer.Option(
        PUBLIC_LAB,
        "--public-ca",
        help="Where the certificates the plan gives to a public CA (Edge external, reverse "
        "proxy) come from: 'lab' = this deployment's CA, reported as warnings; 'offline' = "
        "requests written to <home>/public-requests for your public CA (a certificate of the "
        "lab is kept assigned until the answer comes): import each answer on the server its "
        "file is named after, then run deploy again.",
        metavar="lab|offline",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print report.json instead of a table."),
) -> None:
    if public_ca not in PUBLIC_SOURCES:
        raise typer.BadParameter(
            f"'{public_ca}' is neither {' nor '.join(PUBLIC_SOURCES)}", param_hint="--public-ca"
        )
    _deploy(
        topology, home, dry_run, renew_within, jobs, ca, ca_account, no_live, public_ca, as_json
    )


@guarded()
def _deploy(
    topology: Path,
    home: Path | None,
    dry_run: bool,
    renew_within: str,
    jobs: int,
    ca: str | None,
    ca_account: str | None,
    no_live: bool,
    public_ca: str,
    as_json: bool,
) -> None:
    if jobs < 1:
        raise LyncPkiError("--jobs must be 1 or more", "e.g. --jobs 2")
    if ca is not None:  # kept in the report: never with a password
        check_ca_url(ca)
    root = home_of(home).root
    options = DeployOptions(
        topology=topology,
        home=root,
        jobs=jobs,
        renew_within=dt.timedelta(seconds=_duration(renew_within)),
        dry_run=dry_run,
        ca_url=ca,
        ca_account=ca_account,
        ca_password=(env_secret(CA_PASSWORD_ENV) or None) if ca else None,
        live=not no_live,
        public_ca=public_ca,
    )
    columns = (
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        _Left(),
    )
    try:
        if as_json or dry_run:
            result, document = _run(options, _Bars(None))
        else:
            with Progress(*columns, console=stderr, transient=False) as progress:
                result, document = _run(options, _Bars(progress))
    except KeyboardInterrupt:  # it said nothing at all
        stderr.print(
            "interrupted: what was done is kept whole (no half-written file); run the same "
            "command again to resume",
            markup=False,
        )
        raise typer.Exit(130) from None
    if document is None:
        _print_dry_run(result, as_json)
        return
    if as_json:
        emit_json(document)
    else:
        _print_summary(result, document, root)
    if not result.passed:
        raise typer.Exit(EXIT_FINDINGS)


class _Left(ProgressColumn):
    """rich's estimate of what a phase has left, while it runs ("0:02:10 left": the keys and
    requests of a thousand servers take minutes); nothing once it is done."""

    max_refresh = 0.5  # as rich's own remaining-time column: the estimate would flicker

    def render(self, task: Task) -> Text:
        left = task.time_remaining
        if task.finished or left is None:
            return Text("")
        return Text(f"{dt.timedelta(seconds=round(left))} left", style="progress.remaining")


def _run(options: DeployOptions, bars: _Bars) -> tuple[DeployResult, dict[str, object] | None]:
    """The deployment, then its reports written into the home under a bar of their own (at
    400 servers they took half a minute after the last bar); no report for a dry run."""
    result = deploy(options, bars)
    if options.dry_run:
        return result, None
    bars.phase("report", 2)
    document = report_document(result)
    write_atomic(options.home / "report.json", (json.dumps(document, indent=2) + "\n").encode())
    bars.advance()
    html = render_deploy_html(document, result.check)
    write_atomic(options.home / "report.html", html.encode())
    bars.advance()
    return result, document


def _print_dry_run(result: DeployResult, as_json: bool) -> None:
    needs = [
        {
            "certificate": n.planned.id,
            "action": n.action,
            "stores": list(n.stores),
            "reason": n.reason,
        }
        for n in result.assessment.needs
    ]
    if as_json:
        emit_json(
            {
                "dry_run": True,
                "needs": needs,
                "kept": len(result.assessment.kept),
                "notes": result.notes,
            }
        )
        return
    for note in result.notes:
        stdout.print(note, markup=False)  # each says what would be done
    for need in needs:
        stdout.print(
            f"would {need['action']} {need['certificate']} on {', '.join(need['stores'])}"
            f" ({need['reason']})",
            markup=False,
        )
    stdout.print(
        f"{len(needs)} to do, {len(result.assessment.kept)} in place; nothing was changed",
        markup=False,
    )


def _print_summary(result: DeployResult, document: dict[str, object], root: Path) -> None:
    table = Table(title="lyncpki deploy", title_justify="left")
    table.add_column("server", no_wrap=True)
    for header in ("certs", "done now", "errors", "warnings", "handshakes"):
        table.add_column(header)
    servers = list(result.check.checked) if result.check else []
    per_server = Counter(name for _, name in placements(result.plan))
    # each list indexed by server once (it was scanned again for every server: 421 servers x
    # 67,087 handshakes at 400 servers)
    done_by: dict[str, Counter[str]] = defaultdict(Counter)
    for d in result.done:
        done_by[d.server][d.action] += 1
    severities: dict[str | None, Counter[str]] = defaultdict(Counter)
    for f in result.check.findings if result.check else ():
        severities[f.server][f.severity] += 1
    shakes: Counter[str] = Counter()
    proved_by: Counter[str] = Counter()
    for h in result.proof:
        for name in {h.client, h.server}:
            shakes[name] += 1
            proved_by[name] += h.proved
    for server in servers:
        done = done_by[server]
        errors, warnings = severities[server]["error"], severities[server]["warning"]
        table.add_row(
            server,
            str(per_server[server]),
            ", ".join(f"{n} {a}" for a, n in sorted(done.items())) or "-",
            Text(str(errors), style="red") if errors else "0",
            Text(str(warnings), style="yellow") if warnings else "0",
            f"{proved_by[server]}/{shakes[server]}" if shakes[server] else "-",
        )
    stdout.print(table)
    for note in result.notes:
        stdout.print(f"note: {note}", markup=False)
    if not result.changed:
        stdout.print("nothing to do: every planned certificate was in place", markup=False)
    proved = sum(1 for h in result.proof if h.proved)
    waiting = [d for d in result.done if d.action in ("pending", REQUESTED)]
    failed = [d for d in result.done if d.action == "failed"]
    if result.passed:
        # "proved" only when handshakes ran (--no-live, or a CA elsewhere: none does)
        verdict = "deployed and proved" if result.proof else "deployed, not proved on the wire"
    elif waiting and not failed:  # the check's errors are, at least, the missing answers'
        verdict = f"NOT DONE: waiting for {len(waiting)} answer(s) of a CA (findings: the report)"
    else:
        verdict = "NOT DONE: errors in the report"
    stdout.print(
        f"{verdict}: {len(result.plan.certificates)} planned certificates, "
        f"{len(result.done)} action{'' if len(result.done) == 1 else 's'}, "
        f"{proved}/{len(result.proof)} handshakes as expected",
        markup=False,
    )
    stdout.print(f"report: {root / 'report.html'} (and report.json)", markup=False)
