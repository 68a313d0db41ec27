"""Benchmark: `lyncpki deploy` of a generated 100-server topology, phase by phase, against the
bare cost of its cryptography done in one tight loop in the same run.

Target: the whole deploy (with --jobs = the cores) in at most 2x the bare cost:
- the bare cost: the same key generations (one RSA 2048 key per planned certificate, plus the
  CA's RSA 4096 root and RSA 2048 issuing keys), each request's signature by its key and each
  certificate's signature by the issuing CA's key, in one loop in this process (one core);
- deploy: everything `lyncpki deploy` does in a fresh home (CA creation and its service,
  parallel keys, requests over HTTP, stores, pool copies, CRLs, every check, the live
  mutual-TLS proof between the servers that talk, pool by pool, the report), timed from outside.

The topology: one site, two Front End pools of 35 servers, two Director pools of 5, two
Mediation pools of 5, an Edge pool of 4, two Persistent Chat pools of 3: 100 servers.

Run: .venv/bin/python bench/deploy.py [--jobs N] [--front-ends 35] [--no-live]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lyncpki.deployment.deploy import DeployOptions, deploy
from lyncpki.planning import plan
from lyncpki.topology import load_topology_text


def generate(front_ends: int) -> dict[str, Any]:
    net, dom = "bench.corp-bench.net", "corp-bench.org"
    pools: list[dict[str, Any]] = []
    for p in range(2):
        pools.append(
            {
                "role": "front_end",
                "fqdn": f"pool{p}.{net}",
                "servers": [f"fe{p}-{n}.{net}" for n in range(front_ends)],
                "web_services": {"external": f"web{p}.{dom}"},
            }
        )
        pools.append(
            {
                "role": "director",
                "fqdn": f"dir{p}.{net}",
                "servers": [f"dir{p}-{n}.{net}" for n in range(5)],
                "web_services": {"external": f"webdir{p}.{dom}"},
            }
        )
        pools.append(
            {
                "role": "mediation",
                "fqdn": f"med{p}.{net}",
                "servers": [f"med{p}-{n}.{net}" for n in range(5)],
            }
        )
        pools.append(
            {
                "role": "persistent_chat",
                "fqdn": f"chat{p}.{net}",
                "servers": [f"chat{p}-{n}.{net}" for n in range(3)],
            }
        )
    pools.append(
        {
            "role": "edge",
            "fqdn": f"edge.{net}",
            "servers": [f"edge-{n}.{net}" for n in range(4)],
            "external": {"access": f"sip.{dom}", "webconf": f"webconf.{dom}", "av": f"av.{dom}"},
        }
    )
    return {
        "sip_domains": [dom],
        "simple_urls": {"meet": f"meet.{dom}", "dialin": f"dialin.{dom}"},
        "mobility": True,
        "federation": {"enabled": True},
        "sites": [
            {
                "name": "Bench",
                "pools": pools,
                "reverse_proxy": {"publishes": [f"web0.{dom}", f"web1.{dom}"]},
            }
        ],
    }


class Quiet:
    def phase(self, name: str, total: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass

    def note(self, text: str) -> None:
        pass


def bare(certificates: int) -> float:
    """The same cryptography in one loop: keys, request signatures, certificate signatures."""
    start = time.perf_counter()
    rsa.generate_private_key(65537, 4096)  # the root
    issuing = rsa.generate_private_key(65537, 2048)
    blob = os.urandom(900)  # about a TBS certificate or request
    for _ in range(certificates):
        key = rsa.generate_private_key(65537, 2048)
        key.sign(blob, padding.PKCS1v15(), hashes.SHA256())  # the request
        issuing.sign(blob, padding.PKCS1v15(), hashes.SHA256())  # the certificate
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--front-ends", type=int, default=35, help="servers per Front End pool")
    parser.add_argument("--no-live", action="store_true", help="skip the live proof")
    args = parser.parse_args()
    os.environ.pop("LYNCPKI_CA_PASSPHRASE", None)
    text = yaml.safe_dump(generate(args.front_ends), sort_keys=False)
    topology = load_topology_text(text, "bench.yaml")
    planned = plan(topology)
    servers = len({s for c in planned.certificates for s in c.servers})
    with tempfile.TemporaryDirectory(prefix="lyncpki-bench-deploy-") as temp:
        path = Path(temp) / "bench.yaml"
        path.write_text(text)
        options = DeployOptions(
            topology=path, home=Path(temp) / "home", jobs=args.jobs, live=not args.no_live
        )
        start = time.perf_counter()
        result = deploy(options, Quiet())
        total = time.perf_counter() - start
    assert result.passed, "the deployment did not pass its checks"
    t_bare = bare(len(planned.certificates))
    print(
        f"topology: {servers} servers, {len(planned.certificates)} planned certificates, "
        f"{len(result.done)} actions, {len(result.proof)} handshakes; --jobs {args.jobs}"
    )
    print(f"{'phase':<14} {'seconds':>8} {'share':>7}")
    for name, seconds in result.phases.items():
        print(f"{name:<14} {seconds:8.2f} {seconds / total:7.1%}")
    ratio = total / t_bare
    print(
        f"{'deploy, total':<14} {total:8.2f}  target <= 2.00x  "
        f"{'yes' if ratio <= 2 else 'NO':<3} {ratio:.2f}x the bare cost of its keys and "
        f"signatures in one loop ({t_bare:.2f} s)"
    )


if __name__ == "__main__":
    main()
