"""Which handshakes the live proof makes (`pairs`, `plan_handshakes`): it made every Front End
shake hands with every Front End of the whole topology and every Director, Edge, Mediation and
Persistent Chat server with every Front End of every site, 67,087 handshakes at 400 servers,
growing with the square of the servers. It now thinks in pools: rings within Front End and
Director pools, round robins between the pools that talk; its count grows with the servers,
and every server is still proven as a client and as a server against each kind of peer it
talks to. Parties here carry no certificate: `pairs` only reads their roles, sites and pools."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from lyncpki.deployment.proof import (
    FRONT_ENDS,
    Party,
    pair_kind,
    pairs,
    plan_handshakes,
)
from lyncpki.planning import plan
from lyncpki.planning.model import Usage
from lyncpki.topology import load_topology

PEERS = ("director", "edge", "mediation", "persistent_chat")


def _party(server: str, role: str, site: str, pool: str) -> Party:
    nothing: Any = None  # pairs() never looks at the identity or the certificate
    return Party(server, role, server, nothing, nothing, site, pool)


def _pool(site: str, role: str, name: str, size: int) -> list[Party]:
    return [_party(f"{name}{n}.{site}", role, site, f"{name}.{site}") for n in range(size)]


def sweep(sites: int, front: int = 12, small: int = 2) -> list[Party]:
    """The scale sweep's shape: per site a Front End pool of 12, and a Director, Edge,
    Mediation and Persistent Chat pool of 2 each (20 servers)."""
    parties: list[Party] = []
    for s in range(sites):
        site = f"s{s}"
        parties += _pool(site, "front_end", "fe", front)
        for role in PEERS:
            parties += _pool(site, role, role[:4], small)
    return parties


def contoso() -> list[Party]:
    """The parties of examples/contoso.yaml, as deploy makes them."""
    topology = load_topology(Path(__file__).resolve().parents[2] / "examples" / "contoso.yaml")
    where = {m: (s.name, p.fqdn) for s, p in topology.pools() for m in p.members}
    made = []
    for planned in plan(topology).certificates:
        usage = Usage.INTERNAL if Usage.INTERNAL in planned.usages else Usage.DEFAULT
        if usage in planned.usages:
            made += [_party(s, planned.role, *where[s]) for s in planned.servers]
    return made


def _kind(party: Party) -> str:
    return "front_end" if party.role in FRONT_ENDS else party.role


def _met(parties: list[Party]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """For each server, the kinds of peer it was a client of, and a server to."""
    as_client: dict[str, set[str]] = defaultdict(set)
    as_server: dict[str, set[str]] = defaultdict(set)
    for client, server in pairs(parties):
        as_client[client.server].add(_kind(server))
        as_server[server.server].add(_kind(client))
    return as_client, as_server


def test_the_count_grows_with_the_servers_not_their_square() -> None:
    sizes = (1, 2, 4, 8, 16, 32)  # sites of 20 servers: 20 to 640 servers
    counts = [len(plan_handshakes(sweep(sites))) for sites in sizes]
    per_site = counts[1] - counts[0]
    # a + b x sites: each site adds as many as the one before it (before: 8, 42, 168 per server)
    assert counts == [counts[0] + per_site * (sites - 1) for sites in sizes], counts
    assert counts[-1] < 8 * 32 * 20  # fewer than 8 handshakes per server


def test_four_hundred_servers_take_a_few_thousand_handshakes() -> None:
    parties = sweep(20)
    # per site: a ring of 12 Front Ends and one of 2 Directors (14), each of the four other
    # pools both ways against the Front End pool (4 x 24); the 20 sites chained (19 x 24);
    # and 10 kinds of pair once more over TLS 1.2 (before: 67,080)
    assert len(plan_handshakes(parties)) == 20 * (14 + 4 * 24) + 19 * 24 + 10


def test_every_party_is_a_client_and_a_server_against_every_kind_it_talks_to() -> None:
    for parties in (sweep(3), contoso(), sweep(2, front=5, small=3)):
        as_client, as_server = _met(parties)
        sites_kinds: dict[str, set[str]] = defaultdict(set)
        for p in parties:
            sites_kinds[p.site].add(_kind(p))
        for p in parties:
            if p.role in FRONT_ENDS:
                expected = sites_kinds[p.site]  # its Front End peers and every other kind there
            else:
                expected = {"front_end"} | ({p.role} if p.role == "director" else set())
                if sum(1 for q in parties if q.pool_name == p.pool_name) < 2:
                    expected -= {p.role}
            assert as_client[p.server] >= expected, (p.server, as_client[p.server])
            assert as_server[p.server] >= expected, (p.server, as_server[p.server])


def test_the_demo_proves_every_kind_of_pair_both_ways_and_each_over_tls_1_2() -> None:
    jobs = plan_handshakes(contoso())
    kinds = Counter(pair_kind(c, s) for c, s, v in jobs if v == "TLSv1.2")
    both_ways = {f"{a}/{b}" for p in PEERS for a, b in (("front_end", p), (p, "front_end"))}
    assert set(kinds) == {"front_end/front_end"} | both_ways - {"director/director"}
    assert set(kinds.values()) == {1}
    assert len(jobs) == 32 + 9  # tests/deployment/test_deploy.py counts them by hand


def test_sites_are_chained_not_each_with_every_other() -> None:
    parties = sweep(4)
    crossing = {(c.site, s.site) for c, s in pairs(parties) if c.site != s.site}
    chain = {("s0", "s1"), ("s1", "s2"), ("s2", "s3")}
    assert crossing == chain | {(b, a) for a, b in chain}
    # only Front Ends cross sites; every other pool talks to its own site's Front Ends
    assert all(
        c.role in FRONT_ENDS and s.role in FRONT_ENDS for c, s in pairs(parties) if c.site != s.site
    )


def test_a_site_without_front_ends_talks_to_the_nearest_site_that_has_some() -> None:
    parties = sweep(3)
    parties += _pool("s3", "edge", "dmz", 2)  # after s2: s2 is nearest
    parties = _pool("s-1", "director", "dir-only", 1) + parties  # before s0: s0 is nearest
    met = {(c.server, s.site) for c, s in pairs(parties)}
    assert ("dmz0.s3", "s2") in met and ("dmz1.s3", "s2") in met
    assert ("dir-only0.s-1", "s0") in met
    as_client, as_server = _met(parties)
    for server in ("dmz0.s3", "dmz1.s3", "dir-only0.s-1"):
        assert as_client[server] == as_server[server] == {"front_end"}


def test_many_front_end_pools_in_a_site_make_a_ring_and_each_meets_every_kind() -> None:
    parties: list[Party] = []
    for n in range(5):  # five Standard Edition pools and a Front End pool
        parties += _pool("s0", "standard_edition", f"se{n}-", 1)
    parties += _pool("s0", "front_end", "fe", 4)
    parties += _pool("s0", "edge", "edge", 2) + _pool("s0", "mediation", "med", 1)
    made = pairs(parties)
    pools = Counter(
        frozenset((c.pool_name, s.pool_name))
        for c, s in made
        if c.role in FRONT_ENDS and s.role in FRONT_ENDS and c.pool_name != s.pool_name
    )
    assert len(pools) == 6  # a ring of the six pools, not the 15 pairs of them
    as_client, as_server = _met(parties)
    for p in parties:
        if p.role in FRONT_ENDS:
            assert as_client[p.server] >= {"front_end", "edge", "mediation"}, p.server
            assert as_server[p.server] >= {"front_end", "edge", "mediation"}, p.server
    assert len({(c.server, s.server) for c, s in made}) == len(made)  # each pair once
