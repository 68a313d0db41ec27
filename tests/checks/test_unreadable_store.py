"""A store whose index cannot be read is one finding, named once, however many certificates the
plan puts on that server (it was one per planned certificate: two errors for one store)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lab_topology import front_end_pool

from lyncpki.checks.deployment import DeploymentCheck, check_deployment
from lyncpki.planning import plan
from lyncpki.topology import load_topology_text

TOPOLOGY = front_end_pool("fe1.acme-lab.test")


def test_a_damaged_store_is_one_finding(tmp_path: Path) -> None:
    result = plan(load_topology_text(TOPOLOGY, "t.yaml"))
    on_fe1 = [c for c in result.certificates if "fe1.acme-lab.test" in c.servers]
    assert len(on_fe1) >= 2  # several planned certificates on the damaged store's server
    store = tmp_path / "servers" / "fe1.acme-lab.test"
    store.mkdir(parents=True)
    (store / "store.json").write_text('{"format": "lyncpki.store/1", "server": ')  # truncated
    job = DeploymentCheck(plan=result, home=tmp_path, now=dt.datetime.now(dt.UTC))
    found = [f for f in check_deployment(job) if f.server == "fe1.acme-lab.test"]
    assert [f.id for f in found] == ["store.unreadable"]
    assert "store.json" in found[0].message and found[0].fix
