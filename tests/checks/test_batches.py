"""`check` judges a deployment's certificates in batches (pyca's work for a whole batch first,
then the rules): the findings, and their order, are those of one certificate at a time, and a
view pyca cannot compute is still reported by the rule that needs it."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from lab_topology import front_end_pool

from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.checks import deployment
from lyncpki.checks.certificate_rules import CertificateContext, compute_views, offline_rules
from lyncpki.checks.deployment import (
    DeploymentCheck,
    check_deployment,
    placements,
    placements_checked,
)
from lyncpki.checks.engine import check_certificate
from lyncpki.keyspec import KeySpec
from lyncpki.planning import plan
from lyncpki.store import ServerStore
from lyncpki.topology import load_topology_text
from lyncpki.x509.requests import RequestSubject, build_request, request_pem

SECRET = b"batch-test-passphrase"
TOPOLOGY = front_end_pool(*(f"fe{n}.acme-lab.test" for n in (1, 2, 3, 4)))


@pytest.fixture(scope="module")
def faulty_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DeploymentCheck]:
    """Every planned certificate installed and assigned, but: fe2's first certificate lacks
    its last planned SAN, fe3's first has lost its key file, nothing is assigned on fe4."""
    home = tmp_path_factory.mktemp("batches")
    result = plan(load_topology_text(TOPOLOGY, "t.yaml"))
    ca = CertificateAuthority.create(
        CaHome(home),
        passphrase=SECRET,
        name="Batch Test CA",
        namespaces=("acme-lab.test",),
        root_key=KeySpec("rsa", 2048),
        key=KeySpec("rsa", 2048),
    )
    chain = [ca.issuer.certificate, ca.root.certificate]
    seen: set[str] = set()
    for planned, server in placements(result):
        if server == "fe4.acme-lab.test":
            continue
        first = server not in seen
        seen.add(server)
        sans = planned.sans
        key = ec.generate_private_key(ec.SECP256R1())
        if first and server == "fe2.acme-lab.test":
            sans = sans[:-1]
        pem = request_pem(
            build_request(key, RequestSubject(planned.subject, sans), template=planned.template)
        )
        issued = ca.submit(pem, requester="test")
        assert issued.certificate is not None
        ServerStore(home, server).install(
            issued.certificate,
            chain,
            source="test",
            key=key,
            secret=SECRET,
            exportable=planned.exportable,
            assign_to=[str(usage) for usage in planned.usages],
        )
        if first and server == "fe3.acme-lab.test":
            (key_file,) = (home / "servers" / server / "keys").iterdir()
            key_file.unlink()
    ca.engine.dispose()
    return home, DeploymentCheck(plan=result, home=home, now=dt.datetime.now(dt.UTC))


@pytest.mark.parametrize("size", [1, 2, 3])
def test_batches_find_what_one_at_a_time_finds_in_the_same_order(
    faulty_home: tuple[Path, DeploymentCheck], size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, job = faulty_home
    whole = check_deployment(job)  # the default batch holds every certificate here
    ids = {(f.id, f.server) for f in whole}
    assert ("san.missing", "fe2.acme-lab.test") in ids
    assert ("key.missing", "fe3.acme-lab.test") in ids
    assert ("cert.unassigned", "fe4.acme-lab.test") in ids
    monkeypatch.setattr(deployment, "BATCH", size)
    assert check_deployment(job) == whole


def test_a_view_that_cannot_be_computed_is_reported_by_its_rules(
    faulty_home: tuple[Path, DeploymentCheck],
) -> None:
    home, job = faulty_home
    store = ServerStore(home, "fe1.acme-lab.test")
    index = store.load()
    thumbprint = index.personal[0].thumbprint
    certificate = store.certificate(thumbprint)
    not_a_root: x509.Certificate = "not a certificate"  # type: ignore[assignment]
    ctx = CertificateContext(certificate=certificate, now=job.now, roots=(not_a_root,))
    compute_views([ctx])  # path building raises: left to the rules, not raised here
    found = check_certificate(ctx, offline_rules())
    crashed = [f for f in found if f.id == "check.crashed"]
    assert crashed and all("chain." in f.message for f in crashed)


@pytest.mark.parametrize("size", [1, 3, 256])
def test_progress_counts_every_placement_as_its_batch_is_judged(
    faulty_home: tuple[Path, DeploymentCheck], size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deploy's check bar sat at 0/1 until the whole check was done: it now counts the
    placements, told batch by batch (unassigned ones, never judged, counted too)."""
    _, job = faulty_home
    told: list[int] = []
    monkeypatch.setattr(deployment, "BATCH", size)
    check_deployment(replace(job, progress=told.append))
    assert sum(told) == placements_checked(job) == len(list(placements(job.plan)))
    if size < placements_checked(job):  # told as it goes, not once at the end
        assert len(told) > 1, told
    one = frozenset({"fe1.acme-lab.test"})
    told.clear()
    check_deployment(replace(job, servers=one, progress=told.append))
    assert sum(told) == placements_checked(replace(job, servers=one)) > 0
