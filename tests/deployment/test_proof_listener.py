"""The proof's listeners kept each connection's verdict by the client's source port, and kept
every one to the end of the run: with ports reused (28,000 of them, 67,000 handshakes) a
refused handshake could be explained by an earlier connection's verdict, and the table grew
with every handshake. A verdict is now kept under a ticket the client sends for that one
connection, only for a refused connection, and forgotten once its client reads it. `prove`
also tells its progress per handshake (the deploy's bar sat at 0/1 for minutes)."""

from __future__ import annotations

import ssl
from pathlib import Path

from lyncpki.deployment.proof import (
    Party,
    client_context,
    count_handshakes,
    listening,
    party,
    prove,
    shake,
)
from path_pki import crl, issue, write_pem

SERVERS = ("fe01.contoso.net", "fe02.contoso.net", "dir01.contoso.net")
ROLES = ("front_end", "front_end", "director")


def _pki(tmp_path: Path) -> tuple[Path, list[Path], list[Party], Party]:
    root = issue("Proof Root", None, ca=True)
    issuing = issue("Proof Issuing", root, ca=True)
    leaves = [issue(s, issuing, ca=False, sans=(s,)) for s in SERVERS]
    gone = issue(SERVERS[0], issuing, ca=False, sans=(SERVERS[0],))
    crls = [
        write_pem(tmp_path / "root-crl.pem", crl(root)),
        write_pem(tmp_path / "issuing-crl.pem", crl(issuing, revoked=[gone])),
    ]
    parties = [
        party(s, r, leaf.certificate, leaf.key, [issuing.certificate], site="Redmond", pool=p)
        for s, r, leaf, p in zip(SERVERS, ROLES, leaves, ("pool01", "pool01", "dir"), strict=True)
    ]
    revoked = party(SERVERS[0], "front_end", gone.certificate, gone.key, [issuing.certificate])
    return write_pem(tmp_path / "root.pem", root), crls, parties, revoked


def test_verdicts_are_read_once_and_not_kept_for_accepted_handshakes(tmp_path: Path) -> None:
    root, crls, parties, revoked = _pki(tmp_path)
    with listening(parties, root, crls) as listeners:
        server = listeners[SERVERS[0]]
        client = client_context(parties[1], "TLSv1.3", root, crls)
        for _ in range(20):
            made = shake(parties[1], server, client, "TLSv1.3")
            assert made.ok, made.detail
        bad = client_context(revoked, "TLSv1.3", root, crls)
        refused = [shake(revoked, server, bad, "TLSv1.3") for _ in range(5)]
        # each refusal explained by the server's own verdict on that very connection
        assert all(not h.ok for h in refused)
        assert all(h.detail == "refused by the server: certificate revoked" for h in refused), [
            h.detail for h in refused
        ]
        assert server.verdicts == {}  # nothing kept: read once, and none for accepted ones


def test_a_connection_without_its_ticket_is_refused_and_nothing_kept(tmp_path: Path) -> None:
    import socket

    root, crls, parties, _ = _pki(tmp_path)
    with listening(parties, root, crls) as listeners:
        server = listeners[SERVERS[0]]
        context = client_context(parties[1], "TLSv1.3", root, crls)
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            try:  # straight into TLS: the listener reads the ClientHello as a ticket
                with context.wrap_socket(raw, server_hostname=SERVERS[0]) as tls:
                    tls.sendall(b"HELLO fe02.contoso.net\n")
                    answer = tls.recv(16)
            except (OSError, ssl.SSLError):
                answer = b""
        assert answer == b""
        assert server.verdicts == {}


def test_prove_counts_each_handshake_as_it_is_made(tmp_path: Path) -> None:
    root, crls, parties, revoked = _pki(tmp_path)
    told: list[int] = []
    made = prove(parties, root, crls, revoked, told.append)
    assert len(made) == count_handshakes(parties, revoked) == sum(told) == len(told)
    assert all(h.proved for h in made), [(h.client, h.server, h.detail) for h in made]
    refused = [h for h in made if not h.expected]
    assert len(refused) == 2 and {h.kind for h in refused} == {"revoked/front_end"}
    assert {h.kind for h in made if h.expected} == {
        "front_end/front_end",
        "director/front_end",
        "front_end/director",
    }
