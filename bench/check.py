"""Benchmark: `check` of a generated deployment of 1,000 servers (about 3,000 certificates),
offline rules and chain building, against cryptography.x509.verification alone.

Target: at least 0.8x the raw rate of `cryptography.x509.verification` path building over the
same certificates, in the same run. The deployment is made before the clock starts: the plan of
`bench/plan.py`'s generated topology (5 sites of 200 servers), every certificate issued by an
embedded CA (RSA 4096 root, RSA 2048 issuing CA, as `lyncpki ca init` makes them) for an EC
P-256 key, installed and assigned in every server's store with the chain as trusted, by a
process of its own: the check is timed in a process that reads the deployment from disk, as
`lyncpki check` does, not in the one whose objects made it.

- ours:     `check_deployment` offline: reading every store (index, certificates, trusted CA
            certificates) from disk, every certificate rule for every server and usage (path
            building included), the pool and OAuth comparisons;
- baseline: one verifier of the same policy, `verify(leaf, [issuing CA])` once for every
            (server, usage) that `check` judges, the certificates already parsed in memory;
- anchored: the same verifications with the issuing CA as the only anchor, what `check`
            does for every leaf after the first of a CA (checks.chain validates the path above
            an issuing CA once per set of roots and instant, as the Windows chain engine
            caches its chain elements): the leaf's own signature, validity and extensions;
- floor:    what any check that reads the stores from disk must do besides path building
            (each index read and decoded, each judged certificate read, parsed and its
            extensions decoded), timed in the same run: with the anchored path building it
            bounds the ratio such a check can reach.

Run: .venv/bin/python bench/check.py [--sites 5] [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import verification

from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.checks.deployment import DeploymentCheck, check_deployment, placements
from lyncpki.keyspec import KeySpec
from lyncpki.planning import CertificatePlan, Severity, plan
from lyncpki.planning.namespaces import namespaces
from lyncpki.store import ServerStore
from lyncpki.topology import load_topology_text
from lyncpki.x509.requests import RequestSubject, build_request, request_pem
from plan import generate
from timing import timed

SECRET = b"bench-check-passphrase"
BATCH = 200


def deploy(home: Path, result: CertificatePlan, topology_ns: list[str]) -> CertificateAuthority:
    """Issue every planned certificate and install it where the plan says (not timed)."""
    ca = CertificateAuthority.create(
        CaHome(home),
        passphrase=SECRET,
        name="Bench Issuing CA",
        namespaces=tuple(topology_ns),
        root_key=KeySpec("rsa", 4096),
        key=KeySpec("rsa", 2048),
    )
    keys = {c.id: ec.generate_private_key(ec.SECP256R1()) for c in result.certificates}
    pems = [
        request_pem(
            build_request(keys[c.id], RequestSubject(c.subject, c.sans), template=c.template)
        )
        for c in result.certificates
    ]
    issued: dict[str, x509.Certificate] = {}
    for start in range(0, len(pems), BATCH):
        chunk = result.certificates[start : start + BATCH]
        outcomes = ca.submit_many(pems[start : start + BATCH], requester="bench")
        for planned, outcome in zip(chunk, outcomes, strict=True):
            assert not isinstance(outcome, Exception), outcome
            assert outcome.certificate is not None
            issued[planned.id] = outcome.certificate
    chain = [ca.issuer.certificate, ca.root.certificate]
    for planned, server in placements(result):
        store = ServerStore(home, server)
        entry, _ = store.install(
            issued[planned.id],
            chain,
            source="bench",
            key=keys[planned.id],
            secret=SECRET,
            exportable=planned.exportable,
        )
        for usage in planned.usages:
            store.assign(str(usage), entry.thumbprint)
    return ca


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=5, help="sites of 200 servers (default 5)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print where our time goes")
    parser.add_argument("--deploy-only", metavar="HOME", help=argparse.SUPPRESS)
    args = parser.parse_args()

    text = yaml.safe_dump(generate(args.sites), sort_keys=False)
    topology = load_topology_text(text, "bench.yaml")
    result = plan(topology)
    if args.deploy_only:
        deploy(Path(args.deploy_only), result, namespaces(topology, result)).engine.dispose()
        return
    servers = {name for _, name in placements(result)}
    with tempfile.TemporaryDirectory(prefix="lyncpki-bench-check-") as temp:
        home = Path(temp)
        # deployed by a process of its own: this one, like a `lyncpki check` process, reads
        # the deployment from disk and holds none of the objects that made it (kept, they made
        # every garbage collection of the check walk a heap it would not have: +30% here)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, __file__, "--sites", str(args.sites), "--deploy-only", str(home)],
            check=True,
        )
        os.sync()  # the deployment's files written out: no write-back competes with the runs
        setup = time.perf_counter() - start
        ca = CertificateAuthority.open(CaHome(home), SECRET)
        now = ca.clock.now()
        job = DeploymentCheck(plan=result, home=home, now=now)
        t_ours, findings = timed(lambda: check_deployment(job), args.repeat)
        errors = [f for f in findings if f.severity is Severity.ERROR]
        assert not errors, errors[:3]

        # the baseline: the same judgements of path building, certificates in memory
        leaves = []
        cert_files = []  # and the files they come from, for the floor below
        for planned, server in placements(result):
            store = ServerStore(home, server)
            index = store.load()
            for usage in planned.usages:
                current = index.slots(str(usage), now).current
                assert current is not None
                leaves.append(store.certificate(current.thumbprint))
                cert_files.append(store.paths.certificate(current.thumbprint))
        ca_policy = verification.ExtensionPolicy.permit_all().require_present(
            x509.BasicConstraints, verification.Criticality.AGNOSTIC, None
        )

        def verifier_of(anchor: x509.Certificate) -> verification.ClientVerifier:
            return (
                verification.PolicyBuilder()
                .store(verification.Store([anchor]))
                .time(now)
                .extension_policies(
                    ca_policy=ca_policy, ee_policy=verification.ExtensionPolicy.permit_all()
                )
                .build_client_verifier()
            )

        verifier = verifier_of(ca.root.certificate)
        intermediates = [ca.issuer.certificate]

        def raw() -> None:
            for leaf in leaves:
                verifier.verify(leaf, intermediates)

        t_raw, _ = timed(raw, args.repeat)
        anchored_verifier = verifier_of(ca.issuer.certificate)

        def anchored() -> None:
            for leaf in leaves:
                anchored_verifier.verify(leaf, [])

        t_anchored, _ = timed(anchored, args.repeat)

        # the floor of any check that reads the stores from disk and looks at the extensions
        # (SANs, EKU, CDP...), whatever its rules: each store's index read and decoded, each
        # judged certificate read, parsed and its extensions decoded (new objects each time:
        # pyca caches them per object), then the same path building as the baseline
        indexes = [ServerStore(home, name).paths.index for name in sorted(servers)]

        def floor() -> None:
            for path in indexes:
                json.loads(path.read_bytes())
            for path in cert_files:
                _ = x509.load_pem_x509_certificate(path.read_bytes()).extensions

        t_floor, _ = timed(floor, args.repeat)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            check_deployment(job)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        ca.engine.dispose()

    count = len(leaves)
    ours_rate, raw_rate = count / t_ours, count / t_raw
    ratio = ours_rate / raw_rate
    print(
        f"deployment: {len(servers):,} stores, {len(result.certificates):,} certificates, "
        f"{count:,} (server, usage) judged; set-up {setup:.1f} s (not timed)"
    )
    print(f"{'step':<44} {'seconds':>8} {'per s':>9}  target    met  baseline (same run)")
    print(
        f"{'check, offline (stores read from disk)':<44} {t_ours:8.3f} {ours_rate:9.0f}  "
        f">= 0.80x  {'yes' if ratio >= 0.8 else 'NO':<4} {ratio:.2f}x raw path building "
        f"({raw_rate:.0f}/s: {t_raw:.3f} s)"
    )
    print(
        f"{'path building, issuing CA as anchor':<44} {t_anchored:8.3f} "
        f"{count / t_anchored:9.0f}  -         -    what check does after a CA's first leaf"
    )
    bound = t_raw / (t_floor + t_anchored)
    print(
        f"{'floor: read, parse, extensions; no rule':<44} {t_floor:8.3f} {count / t_floor:9.0f}  "
        f"-         -    with anchored path building {t_floor + t_anchored:.3f} s: a check "
        f"reading the stores can reach {bound:.2f}x"
    )
    print(f"findings: {len(findings)} ({len(errors)} errors)")


if __name__ == "__main__":
    main()
