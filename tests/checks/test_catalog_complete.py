"""Every finding id the checks can emit is documented by `check --list-rules` (the catalog):
`tls.client-required` was emitted and listed nowhere. The ids are read from the checks' own
source, where each finding is made with its id as a literal."""

from __future__ import annotations

import re
from pathlib import Path

import lyncpki
from lyncpki.checks.catalog import catalog

SOURCE = Path(lyncpki.__file__).parent
MADE = re.compile(r'(?:add|_finding|Finding)\(\s*"([a-z0-9]+\.[a-z0-9.-]+)"')


def test_every_emitted_finding_id_is_listed() -> None:
    files = [*(SOURCE / "checks").glob("*.py"), SOURCE / "cli" / "check_command.py"]
    emitted = {m.group(1) for f in files for m in MADE.finditer(f.read_text())}
    assert len(emitted) > 10  # the pattern still finds them
    listed = {rule.id for rule in catalog()}
    assert emitted - listed == set()
