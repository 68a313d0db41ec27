"""`check` (and `deploy`, which runs the same deployment check) report a template of the home
CA that grants OCSP signing or CA certificates without approval, as homes made before b2d154a
keep OCSPResponseSigning: the file is to be corrected (the CA holds such requests anyway)."""

from __future__ import annotations

import json
from pathlib import Path

from lab import CONTOSO, make_lab, use_old_templates


def _finding_ids(home_check: str) -> set[str]:
    return {f["id"] for f in json.loads(home_check)["findings"]}


def test_check_reports_a_template_that_grants_authority_without_approval(tmp_path: Path) -> None:
    lab = make_lab(tmp_path, serve=False)
    before = lab.cli("check", "--topology", CONTOSO, "--offline", "--format", "json")
    assert before.returncode in (0, 1), before.stderr
    assert "ca.template-approval" not in _finding_ids(before.stdout)

    use_old_templates(lab.home)
    after = lab.cli("check", "--topology", CONTOSO, "--offline", "--format", "json")
    assert after.returncode in (0, 1), after.stderr
    (finding,) = [
        f for f in json.loads(after.stdout)["findings"] if f["id"] == "ca.template-approval"
    ]
    assert finding["severity"] == "warning"
    assert "OCSPResponseSigning says approval: false" in finding["message"]
    assert "set approval: true" in finding["fix"]
