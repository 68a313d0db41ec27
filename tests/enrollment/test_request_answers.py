"""The answers of a request (the `lyncpki request` options, the wizard's pages) are refused
before a key is made when they hold what no certificate or store should: a control character,
an escape sequence, a direction override (U+202E shows "kcolmhcotS" as "Stockholm")."""

from __future__ import annotations

import pytest

from lab import CONTOSO
from lyncpki.enrollment.request_spec import WizardAnswers, decide
from lyncpki.enrollment.selection import targets
from lyncpki.errors import LyncPkiError
from lyncpki.planning import plan
from lyncpki.topology import load_topology

SERVER = "med01.contoso.net"


def _target():  # type: ignore[no-untyped-def]
    return targets(plan(load_topology(CONTOSO)), SERVER, [])[0]


@pytest.mark.parametrize(
    ("field", "option"),
    [
        ("city", "--city"),
        ("state", "--state"),
        ("organization", "--org"),
        ("unit", "--ou"),
        ("friendly_name", "--friendly-name"),
    ],
)
@pytest.mark.parametrize("bad", ["Sto\u202eckholm", "red\x1b[31m", "two\nlines"])
def test_a_non_printable_answer_is_refused_naming_its_option(
    field: str, option: str, bad: str
) -> None:
    with pytest.raises(LyncPkiError) as refused:
        decide(_target(), WizardAnswers(**{field: bad}))
    assert refused.value.message.startswith(option)
    assert "non-printable" in refused.value.message and refused.value.fix


def test_plain_unicode_answers_are_kept() -> None:
    spec = decide(_target(), WizardAnswers(city="Göteborg", friendly_name="Médiation 2026"))
    assert spec.subject.city == "Göteborg" and spec.friendly_name == "Médiation 2026"
