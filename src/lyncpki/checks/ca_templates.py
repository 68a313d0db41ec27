"""The findings about the home CA's own policy that `check` and `deploy` report with the
deployment's: a template of ca/templates.yaml that grants authority (a delegated OCSP
responder's certificate, a CA certificate) without a CA manager's approval, as lyncpki wrote
OCSPResponseSigning before 2026-12-01. The CA holds such requests for approval all the same;
the finding says the file is to be corrected."""

from __future__ import annotations

from pathlib import Path

from lyncpki.ca.home import CaHome
from lyncpki.ca.templates import held_notice
from lyncpki.checks.finding import Finding
from lyncpki.errors import LyncPkiError
from lyncpki.planning.model import Severity


def ca_template_findings(root: Path) -> list[Finding]:
    """The finding of the home CA's templates that grant authority without approval (none
    without a CA, or with a templates.yaml the CA refuses: every CA command says so)."""
    from lyncpki.ca.authority import load_templates  # the CA's code: only for a home with one

    home = CaHome(root)
    if not home.exists() or not home.templates_file.exists():
        return []
    try:
        notice = held_notice(load_templates(home), str(home.templates_file))
    except LyncPkiError:
        return []
    if notice is None:
        return []
    message, fix = notice
    return [
        Finding(
            "ca.template-approval",
            Severity.WARNING,
            None,
            None,
            "the home CA's templates",
            message,
            fix,
            "-",
        )
    ]
