"""The live proof: every server's assigned certificate served by a TLS listener on loopback,
and the servers that talk in Lync (Front End with Front End, Director, Edge internal,
Mediation and Persistent Chat) completing mutual-TLS handshakes, over TLS 1.3 and TLS 1.2,
both sides checked by OpenSSL against our root with CRL checking of the whole chain (the
issuing CA against the root's CRL too, as Windows checks it), each side's name checked
against the name it is reached by. Then a throwaway certificate, revoked, must be
refused.

Which handshakes (`pairs`): every listener and every client trusts the same root and CRLs,
so a certificate is proven once it has served once and been a client once against a kind of
peer; making every pair of servers shake hands proved nothing more and grew with the square
of the topology (67,080 handshakes at 400 servers). The proof thinks in pools instead, and
its count grows with the servers:

- within a Front End or Director pool of two or more, a ring (member i the client of member
  i+1): those members talk to each other. Edge, Mediation and Persistent Chat members do
  not (an Edge pool's members even share one certificate), and each is proven both ways
  against its Front Ends below;
- between two pools that talk, a round robin in both directions over the larger pool, so that
  every member of each is once a client and once a server against the other (2 x the larger
  pool's size, the fewest that do it);
- pools that talk: the Front End and Standard Edition pools of a site with each other (a ring
  of pools when a site has more than two); one of them per site with the next site's (the
  sites chained in the topology's order: a Front End talks to other sites' Front Ends, but
  one link per site proves the kind); each Director, Edge, Mediation and Persistent Chat pool
  with a Front End or Standard Edition pool of its site, matched round robin so that each
  such pool has one (its next hop, which the topology file does not name) and each Front End
  pool meets each kind of peer its site has. A site without Front Ends uses the nearest site
  in the topology's order that has some (the earlier one on a tie), as its pools' next hop
  lies in another site.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import secrets
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
)

from lyncpki.checks.live import VERSIONS, ClientIdentity, names_match
from lyncpki.x509.keys import PrivateKey

FRONT_ENDS = ("front_end", "standard_edition")
PEERS_OF_FRONT_END = ("director", "edge", "mediation", "persistent_chat")
RINGED = (*FRONT_ENDS, "director")  # pools whose members talk to each other
ANSWER_OK, ANSWER_NAME = b"OK\n", b"NAME\n"
HELLO = "HELLO "
# Before its TLS handshake, a client says which connection it is: a ticket, new for each
# handshake, under which the listener leaves its verdict when it refuses one (a refused
# handshake never reaches the HELLO). Keyed by the client's port instead, a verdict could be
# read by a later connection from the same port, reused after 28,000 connections.
TICKET = b"PROOF "
TICKET_SIZE = len(TICKET) + 32 + 1  # "PROOF ", 32 hex digits, "\n"
PARALLEL = 8  # handshakes in flight (OpenSSL works outside the GIL)


@dataclass(frozen=True)
class Party:
    """A server as the proof sees it: its role, the name it is reached by, its identity."""

    server: str
    role: str
    name: str
    identity: ClientIdentity
    certificate: x509.Certificate
    site: str = ""
    pool: str = ""  # its pool's FQDN; "" for a server that is its own pool

    @property
    def pool_name(self) -> str:
        return self.pool or self.server


def party(
    server: str,
    role: str,
    certificate: x509.Certificate,
    key: PrivateKey,
    chain: Sequence[x509.Certificate],
    *,
    site: str = "",
    pool: str = "",
) -> Party:
    """A party whose key is sealed with a one-time password for OpenSSL to load; `site` and
    `pool` (its pool's FQDN) decide whom it shakes hands with (`pairs`)."""
    once = secrets.token_urlsafe(24).encode()
    key_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(once))
    chain_pem = b"".join(c.public_bytes(Encoding.PEM) for c in (certificate, *chain))
    name = server if names_match(certificate, server, [certificate]) else _cn(certificate)
    identity = ClientIdentity(server, chain_pem, key_pem, once)
    return Party(server, role, name, identity, certificate, site, pool)


def _cn(cert: x509.Certificate) -> str:
    values = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(values[0].value) if values else ""


@dataclass
class ProofHandshake:
    client: str
    server: str
    sni: str
    version: str
    expected: bool  # True: must succeed; False: must be refused (the revoked certificate)
    ok: bool = False
    detail: str = ""
    kind: str = ""  # the roles of the pair, client/server: "edge/front_end"

    @property
    def proved(self) -> bool:
        return self.ok == self.expected

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "server": self.server,
            "sni": self.sni,
            "version": self.version,
            "expected": "accepted" if self.expected else "refused",
            "result": "accepted" if self.ok else "refused",
            "proved": self.proved,
            "detail": self.detail,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class _Pool:
    site: str
    role: str
    members: tuple[Party, ...]


def _pools(parties: Sequence[Party]) -> list[_Pool]:
    """The parties of the proof by pool, in the order they come (the topology's)."""
    grouped: dict[tuple[str, str], list[Party]] = {}
    for p in parties:
        if p.role in FRONT_ENDS or p.role in PEERS_OF_FRONT_END:
            grouped.setdefault((p.site, p.pool_name), []).append(p)
    return [_Pool(site, members[0].role, tuple(members)) for (site, _), members in grouped.items()]


def _ring(pool: _Pool) -> list[tuple[Party, Party]]:
    """Each member the client of the next (two members: each of the other)."""
    members, n = pool.members, len(pool.members)
    return [(members[i], members[(i + 1) % n]) for i in range(n)] if n > 1 else []


def _link(a: _Pool, b: _Pool) -> list[tuple[Party, Party]]:
    """Round robin both ways over the larger pool: every member of each pool once a client
    and once a server against the other (the way back shifted by one, to vary the pairs)."""
    x, y = a.members, b.members
    size = max(len(x), len(y))
    there = [(x[i % len(x)], y[i % len(y)]) for i in range(size)]
    back = [(y[i % len(y)], x[(i + 1) % len(x)]) for i in range(size)]
    return there + back


def _nearest(sites: Sequence[str], fronts: dict[str, list[_Pool]], site: str) -> list[_Pool]:
    """The Front End pools of `site`, else of the nearest site in the topology's order that
    has some (the earlier one on a tie); none when no site has any."""
    here = sites.index(site)
    for distance in range(len(sites)):
        for index in (here - distance, here + distance):
            if 0 <= index < len(sites) and fronts[sites[index]]:
                return fronts[sites[index]]
    return []


def talking_pools(parties: Sequence[Party]) -> list[tuple[_Pool, _Pool]]:
    """The pairs of pools that talk in Lync and are proven (the module's docstring)."""
    pools = _pools(parties)
    sites = list(dict.fromkeys(pool.site for pool in pools))
    fronts = {s: [p for p in pools if p.site == s and p.role in FRONT_ENDS] for s in sites}
    links: list[tuple[_Pool, _Pool]] = []
    for site in sites:  # a site's Front End pools: each with the next (two: one link)
        ring = fronts[site]
        if len(ring) == 2:
            links.append((ring[0], ring[1]))
        elif len(ring) > 2:
            links += [(ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring))]
    hubs = [fronts[s][0] for s in sites if fronts[s]]
    links += list(itertools.pairwise(hubs))  # the sites chained
    for site in sites:
        for role in PEERS_OF_FRONT_END:
            peers = [p for p in pools if p.site == site and p.role == role]
            hops = _nearest(sites, fronts, site) if peers else []
            links += [
                (peers[i % len(peers)], hops[i % len(hops)])
                for i in range(max(len(peers), len(hops)) if hops else 0)
            ]
    return links


def pairs(parties: Sequence[Party]) -> list[tuple[Party, Party]]:
    """(client, server) for the servers that talk in Lync, pool by pool: rings within Front
    End and Director pools, round robins between pools that talk (`talking_pools`). Every
    party is a client and a server against every kind of peer it talks to; the count grows
    with the servers, not their square."""
    made: list[tuple[Party, Party]] = []
    for pool in _pools(parties):
        if pool.role in RINGED:
            made += _ring(pool)
    for a, b in talking_pools(parties):
        made += _link(a, b)
    seen: set[tuple[str, str]] = set()
    unique = []
    for client, server in made:  # a server listed in two pools: each pair once
        key = (client.server, server.server)
        if client.server != server.server and key not in seen:
            seen.add(key)
            unique.append((client, server))
    return unique


def _trust_context(context: ssl.SSLContext, root: Path, crls: Sequence[Path]) -> None:
    """Trust `root`; check every certificate of a peer's chain below it against the CRLs
    (`crls`: the root's, which lists revoked issuing CAs, and the issuing CA's). With the
    leaf's CRL alone a revoked issuing CA went unseen."""
    context.load_verify_locations(cafile=str(root))
    for crl in crls:
        context.load_verify_locations(cafile=str(crl))
    context.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
    context.verify_mode = ssl.CERT_REQUIRED


@functools.lru_cache(maxsize=4096)
def _names(der: bytes, name: str) -> bool:
    """Whether the certificate (DER) names `name` (each client is checked once per server)."""
    peer = x509.load_der_x509_certificate(der)
    return names_match(peer, name, [peer]) is True


class Listener:
    """One server's TLS listener on loopback: it requires a client certificate that chains to
    the root and is not on the CRL; the client then says which server it is (as a SIP peer
    does in its messages) and the listener checks the certificate names that server."""

    def __init__(self, owner: Party, root: Path, crls: Sequence[Path]) -> None:
        self.owner = owner
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.minimum_version = ssl.TLSVersion.TLSv1_2
        with owner.identity.files() as (chain, key):
            self._context.load_cert_chain(chain, key, password=owner.identity.password)
        _trust_context(self._context, root, crls)
        self.socket = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = int(self.socket.getsockname()[1])
        # why it refused a connection, by the connection's ticket, until its client reads it
        self.verdicts: dict[str, str] = {}

    def answer(self, raw: socket.socket) -> None:
        ticket = ""
        try:
            with raw:
                raw.settimeout(5)
                ticket = _read_ticket(raw)
                with self._context.wrap_socket(raw, server_side=True) as tls:
                    hello = tls.recv(512).decode("ascii", "replace")
                    claimed = hello.removeprefix(HELLO).strip()
                    der = tls.getpeercert(binary_form=True)
                    named = bool(der) and bool(claimed) and _names(der or b"", claimed)
                    answer = ANSWER_OK if named else ANSWER_NAME
                    ticket = ""  # answered: the client reads the answer, not a verdict
                    tls.sendall(answer)
        except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
            if ticket:
                self.verdicts[ticket] = _reason(error)

    def verdict(self, ticket: str, wait: float = 2.0) -> str | None:
        """Why the listener refused the connection of `ticket` (None: it did not say in
        `wait` seconds); read once, then forgotten."""
        deadline = time.monotonic() + wait
        while ticket not in self.verdicts and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.verdicts.pop(ticket, None)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.close()


class Switchboard:
    """One thread accepting on every listener, the handshakes answered by a shared pool
    (OpenSSL works outside the GIL; a thread per listener would only contend for it)."""

    def __init__(self, listeners: Sequence[Listener]) -> None:
        self._selector = selectors.DefaultSelector()
        for listener in listeners:
            listener.socket.setblocking(False)
            self._selector.register(listener.socket, selectors.EVENT_READ, listener)
        self._pool = ThreadPoolExecutor(max_workers=PARALLEL)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.is_set():
            for key, _ in self._selector.select(timeout=0.2):
                listener: Listener = key.data
                try:
                    raw, _ = listener.socket.accept()
                except (BlockingIOError, OSError):
                    continue
                raw.setblocking(True)
                self._pool.submit(listener.answer, raw)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(5)
        self._pool.shutdown(wait=True)
        self._selector.close()


def client_context(client: Party, version: str, root: Path, crls: Sequence[Path]) -> ssl.SSLContext:
    """A client's TLS context for one version: its certificate and key loaded once (OpenSSL
    decrypts the key), the root and the CRLs to check the server with."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = context.maximum_version = VERSIONS[version]
    _trust_context(context, root, crls)  # check_hostname stays on: the server's name is checked
    with client.identity.files() as (chain, key):
        context.load_cert_chain(chain, key, password=client.identity.password)
    return context


def _read_ticket(raw: socket.socket) -> str:
    """The ticket a client sends before its TLS handshake (exactly its bytes: TLS follows)."""
    data = b""
    while len(data) < TICKET_SIZE:
        chunk = raw.recv(TICKET_SIZE - len(data))
        if not chunk:
            break
        data += chunk
    if len(data) != TICKET_SIZE or not data.startswith(TICKET) or not data.endswith(b"\n"):
        raise ValueError("no ticket before the TLS handshake")
    return data[len(TICKET) : -1].decode("ascii", "replace")


def _kind(role: str) -> str:
    return "front_end" if role in FRONT_ENDS else role


def pair_kind(client: Party, server: Party) -> str:
    """The kind of a pair, by the roles of its client and server: "edge/front_end"."""
    return f"{_kind(client.role)}/{_kind(server.role)}"


def shake(client: Party, server: Listener, context: ssl.SSLContext, version: str) -> ProofHandshake:
    """One mutual-TLS handshake from `client` (with its `context`) to `server`'s listener."""
    owner = server.owner
    result = ProofHandshake(
        client.server, owner.server, owner.name, version, True, kind=pair_kind(client, owner)
    )
    ticket = ""
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            ticket = secrets.token_hex(16)
            raw.sendall(TICKET + ticket.encode() + b"\n")
            with context.wrap_socket(raw, server_hostname=owner.name) as tls:
                tls.sendall(f"{HELLO}{client.name}\n".encode())
                answer = tls.recv(16)
                negotiated = tls.version() or version
    except OSError as error:  # ssl.SSLError included
        said = server.verdict(ticket) if ticket else None
        result.detail = f"refused by the server: {said}" if said else _reason(error)
        return result
    result.ok = answer == ANSWER_OK
    result.detail = (
        f"{negotiated}: both sides verified, names checked"
        if result.ok
        else f"the server found the client certificate does not name {client.name}"
        if answer == ANSWER_NAME
        else f"refused by the server: {server.verdict(ticket) or 'connection closed'}"
    )
    return result


def _reason(error: BaseException) -> str:
    """OpenSSL's own words: the verification message ("certificate revoked") when there is
    one, else the alert or error reason."""
    reason = getattr(error, "verify_message", None) or getattr(error, "reason", None)
    return str(reason or error).replace("_", " ").lower()


@contextlib.contextmanager
def listening(
    parties: Sequence[Party], root: Path, crls: Sequence[Path]
) -> Iterator[dict[str, Listener]]:
    listeners = {p.server: Listener(p, root, crls) for p in parties}
    board = Switchboard(list(listeners.values()))
    try:
        yield listeners
    finally:
        board.stop()
        for listener in listeners.values():
            listener.close()


def plan_handshakes(parties: Sequence[Party]) -> list[tuple[Party, Party, str]]:
    """Every pair once over TLS 1.3 (what both prefer), and the first pair of each kind (a
    Front End with a Front End, a Director with a Front End, a Front End with a Director,
    ...) once more over TLS 1.2."""
    jobs: list[tuple[Party, Party, str]] = []
    kinds: set[str] = set()
    for client, server in pairs(parties):
        jobs.append((client, server, "TLSv1.3"))
        kind = pair_kind(client, server)
        if kind not in kinds:
            kinds.add(kind)
            jobs.append((client, server, "TLSv1.2"))
    return jobs


def _refused_jobs(
    parties: Sequence[Party], revoked: Party | None
) -> list[tuple[Party, Party, str]]:
    """The revoked party against the first Front End, over each version."""
    front = next((p for p in parties if p.role in FRONT_ENDS), None)
    if revoked is None or front is None:
        return []
    return [(revoked, front, version) for version in VERSIONS]


def count_handshakes(parties: Sequence[Party], revoked: Party | None) -> int:
    """How many handshakes `prove` makes (a progress bar's total)."""
    return len(plan_handshakes(parties)) + len(_refused_jobs(parties, revoked))


def prove(
    parties: Sequence[Party],
    root: Path,
    crls: Sequence[Path],
    revoked: Party | None,
    progress: Callable[[int], None] | None = None,
) -> list[ProofHandshake]:
    """Every pair that talks (plan_handshakes); then the revoked party against a Front End
    over both versions, which must refuse it. `crls`: the root's CRL and the issuing CA's.
    `progress` is told of each handshake made."""
    with listening(parties, root, crls) as listeners:
        jobs = [(c, listeners[s.server], v, True) for c, s, v in plan_handshakes(parties)]
        jobs += [(c, listeners[s.server], v, False) for c, s, v in _refused_jobs(parties, revoked)]
        contexts: dict[tuple[int, str], ssl.SSLContext] = {}
        for client, _, version, _ in jobs:  # each client's context made once, up front
            if (id(client), version) not in contexts:
                contexts[id(client), version] = client_context(client, version, root, crls)

        def run(job: tuple[Party, Listener, str, bool]) -> ProofHandshake:
            client, listener, version, expected = job
            made = shake(client, listener, contexts[id(client), version], version)
            if not expected:
                made.expected = False
                made.client = f"{client.server} (revoked)"
                made.kind = f"revoked/{_kind(listener.owner.role)}"
            return made

        made: list[ProofHandshake] = []
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            for handshake in pool.map(run, jobs):
                made.append(handshake)
                if progress is not None:
                    progress(1)
        return made
