"""Several `ca crl` at once on one home: each run's delta CRL is based on that run's own full
CRL (five runs at once printed a delta based on another run's full CRL), and openssl reads
the pair left published as a base and its delta."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from ca_tools import PASSPHRASE, make_ca

from lab import lab_env, openssl


def crl_runs(home: Path, flags: list[list[str]]) -> list[subprocess.Popen[str]]:
    """`lyncpki ca crl --json` started at once, one per entry of `flags`."""
    env = lab_env(LYNCPKI_CA_PASSPHRASE=PASSPHRASE)
    command = [sys.executable, "-m", "lyncpki", "ca", "crl", "--home", str(home), "--json"]
    return [
        subprocess.Popen(
            [*command, *more], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for more in flags
    ]


def test_each_run_publishes_its_full_crl_with_its_own_delta(tmp_path: Path) -> None:
    home = tmp_path / "home"
    make_ca(home).engine.dispose()
    runs = crl_runs(home, [[]] * 4)
    said = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        said.append(json.loads(out))
    for crl in said:
        assert crl["delta_crl"]["base_number"] == crl["number"], said
        assert crl["delta_crl"]["number"] == crl["number"] + 1, said
    numbers = sorted(n for crl in said for n in (crl["number"], crl["delta_crl"]["number"]))
    assert len(set(numbers)) == 8
    folder = home / "publish" / "crl"
    full = openssl("crl", "-inform", "DER", "-in", folder / "test-issuing-ca.crl", "-noout",
                   "-crlnumber")  # fmt: skip
    delta = openssl("crl", "-inform", "DER", "-in", folder / "test-issuing-ca+.crl", "-noout",
                    "-text")  # fmt: skip
    top = max(crl["number"] for crl in said)  # the last run's pair is what stays published
    assert full.strip() == f"crlNumber=0x{top:02X}", full
    assert re.search(rf"CRL Number: *\n *{top + 1}\n", delta), delta
    assert re.search(rf"Delta CRL Indicator: critical *\n *{top}\n", delta), delta


def test_many_runs_at_once_on_postgresql_all_publish(tmp_path: Path, postgres_url: str) -> None:
    """`ca crl` and `ca crl --delta` at once on one PostgreSQL database (24 runs): one ran out
    of retries ("could not number the CRL (repeated conflicts)"); they queue now, and every
    CRL number is given once."""
    home = tmp_path / "home"
    make_ca(home, postgres_url).engine.dispose()
    runs = crl_runs(home, [["--delta"] if n % 2 else [] for n in range(24)])
    numbers = []
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        said = json.loads(out)
        numbers.append(said["number"])
        if said.get("delta_crl"):
            numbers.append(said["delta_crl"]["number"])
    assert len(numbers) == len(set(numbers)) >= 24  # every run published, each number once
