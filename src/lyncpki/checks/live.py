"""Proof on the wire: real TLS 1.2 and TLS 1.3 handshakes to an endpoint, for each name it must
answer to (SNI), judged with pyca/cryptography's path validation; and mutual TLS with a client
certificate, the way Lync servers talk to each other.

The handshake itself is OpenSSL's (Python's ssl module) with verification off, so that the
chain the server presents can be judged here, rule by rule, instead of one opaque failure.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import ssl
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import verification

from lyncpki.checks.chain import SHA1_FIX, not_judged, validate_apart_from_its_dates
from lyncpki.checks.finding import Finding
from lyncpki.errors import LyncPkiError
from lyncpki.planning.model import Severity, Usage
from lyncpki.topology.names import fqdn_problem, normalize

VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


@dataclass(frozen=True)
class Endpoint:
    """`HOST:PORT[=SERVER[/USAGE]]`: where to connect, and which planned server (and usage,
    default Default) it stands for."""

    host: str
    port: int
    server: str | None = None
    usage: str = "Default"

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        address, _, role = text.partition("=")
        host, sep, port = address.rpartition(":")
        server, _, usage = role.partition("/")
        bare = _host(host)
        if not sep or not port.isdigit() or not 0 < int(port) < 65536 or bare is None:
            raise LyncPkiError(
                f"--endpoint '{text[:80]}' is not HOST:PORT[=SERVER[/USAGE]]",
                "e.g. --endpoint 127.0.0.1:5061=fe01.contoso.net, sip.contoso.com:443 or "
                "[::1]:5061 (an IPv6 address in brackets)",
            )
        # a -Type name in any case, as the cmdlets read it; one that is none is the CLI's to
        # refuse, with the plan's usages of that server
        named = Usage.named(usage) if usage else Usage.DEFAULT
        return cls(bare, int(port), normalize(server) or None, named or usage)

    @property
    def label(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _host(text: str) -> str | None:
    """The host of an endpoint: a name, an IPv4 address, or an IPv6 address in brackets
    (returned without them); None when it is none of these ('[::1', '::1', 'a]b')."""
    if text.startswith("[") and text.endswith("]"):
        try:
            return str(ipaddress.IPv6Address(text[1:-1]))
        except ValueError:
            return None
    if not text or any(c in text for c in "[]:/ "):
        return None
    return text


@dataclass(frozen=True)
class ClientIdentity:
    """A client certificate for mutual TLS: the certificate chain (PEM) and its key (PEM,
    encrypted with `password`)."""

    label: str
    chain_pem: bytes
    key_pem: bytes
    password: bytes

    @contextlib.contextmanager
    def files(self) -> Iterator[tuple[Path, Path]]:
        """The chain and the (still encrypted) key as files ssl can load, in a private folder
        removed afterwards."""
        with tempfile.TemporaryDirectory(prefix="lyncpki-mtls-") as folder:
            chain, key = Path(folder) / "chain.pem", Path(folder) / "key.pem"
            for path, data in ((chain, self.chain_pem), (key, self.key_pem)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
            yield chain, key


@dataclass
class Handshake:
    """One handshake: what was asked, what came back."""

    endpoint: str
    sni: str | None
    version: str
    client: str | None
    ok: bool = False
    negotiated: str | None = None
    presented: list[x509.Certificate] = field(default_factory=list)
    problem: str | None = None
    client_refused: bool = False
    unreachable: bool = False  # no connection, or no answer before the timeout
    # with a client certificate: whether the server asked for one (a CertificateRequest);
    # None when not known (no client certificate given, or no way to see the messages)
    client_asked: bool | None = None
    # without one: the server asked for a client certificate and ended the connection (TLS 1.2:
    # in the handshake; TLS 1.3: with an alert after it) — a mutual TLS listener
    client_required: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "sni": self.sni,
            "version": self.version,
            "negotiated": self.negotiated,
            "client": self.client,
            "ok": self.ok,
            "client_refused": self.client_refused,
            "client_asked": self.client_asked,
            "client_required": self.client_required,
            "presented": [c.subject.rfc4514_string() for c in self.presented],
            "problem": self.problem,
            "unreachable": self.unreachable,
        }


def _sent_before_failing(sock: ssl.SSLSocket) -> list[x509.Certificate]:
    """The chain the server sent before the handshake failed (TLS 1.2 sends its Certificate
    before the CertificateRequest a mutual-TLS listener ends on), or none."""
    try:
        return _peer_chain(sock)
    except (ssl.SSLError, OSError, ValueError, AttributeError):
        return []


def _peer_chain(sock: ssl.SSLSocket) -> list[x509.Certificate]:
    """Every certificate the server sent, in its order. Python 3.13 has this in public; on
    3.11 and 3.12 the same call lives on the socket's underlying _ssl object."""
    getter = getattr(sock, "get_unverified_chain", None)
    if getter is None:
        getter = sock._sslobj.get_unverified_chain  # type: ignore[attr-defined]
    chain = getter() or []
    return [
        x509.load_der_x509_certificate(
            c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER)  # type: ignore[attr-defined]
        )
        for c in chain
    ]


def handshake(
    endpoint: Endpoint,
    *,
    sni: str | None,
    version: str,
    client: ClientIdentity | None = None,
    timeout: float = 5.0,
) -> Handshake:
    """One TLS handshake (and, with a client certificate, the server's verdict on it)."""
    result = Handshake(endpoint.label, sni, version, client.label if client else None)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # judged below, with cryptography, rule by rule
    context.minimum_version = context.maximum_version = VERSIONS[version]
    if version == "TLSv1.2":
        # every TLS 1.2 suite, as Lync's peers (Schannel) offer: Python's default string is
        # ECDHE/DHE only, and a server offering only RSA key exchange (TLS_RSA_*, Windows
        # Server 2008 R2/2012) was a false tls.handshake; the chain is judged apart anyway
        context.set_ciphers("ALL:@SECLEVEL=0")
    asked: list[bool] | None = None
    with contextlib.ExitStack() as stack:
        if client is not None:
            chain_file, key_file = stack.enter_context(client.files())
            try:
                context.load_cert_chain(chain_file, key_file, password=client.password)
            except (ssl.SSLError, OSError) as error:
                result.problem = f"the client certificate cannot be used: {error}"
                return result
        # seen with or without a client certificate: a listener that requires one ends a
        # handshake without it, which is no refused TLS version (it passed as one)
        asked = _watch_certificate_request(context)
        try:
            raw = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
        except OSError as error:
            result.problem = f"cannot connect: {error.strerror or error}"
            result.unreachable = True
            return result
        with (
            raw,
            context.wrap_socket(raw, server_hostname=sni, do_handshake_on_connect=False) as tls,
        ):
            try:
                tls.do_handshake()
            except TimeoutError:
                result.problem = f"handshake failed: no answer within {timeout:g} s"
                result.unreachable = True
                return result
            except (ssl.SSLError, OSError) as error:
                result.problem = f"handshake failed: {_reason(error)}"
                result.client_refused = client is not None and _about_client(error)
                result.presented = _sent_before_failing(tls)
                if client is None and asked:
                    result.client_required = True
                    result.problem = f"the server requires a client certificate ({_reason(error)})"
                return result
            result.negotiated = tls.version()
            result.presented = _peer_chain(tls)
            result.ok = True
            if client is not None:
                result.client_asked = None if asked is None else bool(asked)
                _await_verdict(tls, result)
            elif asked:  # TLS 1.3: a server that requires one says so after the handshake
                _await_requirement(tls, result)
    return result


def _await_requirement(tls: ssl.SSLSocket, result: Handshake) -> None:
    """Without a client certificate, after a CertificateRequest: an alert on the next read
    means the server requires one (its certificate was still presented, and is judged)."""
    error = _alert_after(tls)
    if error is not None:
        result.client_required = True
        result.problem = f"the server requires a client certificate ({_reason(error)})"


def _watch_certificate_request(context: ssl.SSLContext) -> list[bool] | None:
    """A list that gets an item when the server sends a CertificateRequest: a server that never
    asks for a client certificate completes the handshake all the same, and only this message
    tells mutual TLS from a plain handshake. Seen through OpenSSL's message callback, which
    CPython exposes as `SSLContext._msg_callback` (3.8 and later; undocumented, so None when a
    Python lacks it: not known)."""
    asked: list[bool] = []
    certificate_request = getattr(
        getattr(ssl, "_TLSMessageType", None), "CERTIFICATE_REQUEST", None
    )
    handshake_type = getattr(getattr(ssl, "_TLSContentType", None), "HANDSHAKE", None)
    if certificate_request is None or handshake_type is None:
        return None

    def seen(
        _conn: object,
        direction: str,
        _version: object,
        kind: object,
        message: object,
        _data: object,
    ) -> None:
        if direction == "read" and kind == handshake_type and message == certificate_request:
            asked.append(True)

    try:
        context._msg_callback = seen  # type: ignore[attr-defined]
    except AttributeError:
        return None
    return asked


def handshakes(
    endpoint: Endpoint,
    names: Sequence[str | None],
    *,
    client: ClientIdentity | None = None,
    timeout: float = 5.0,
) -> list[Handshake]:
    """A handshake for each name (SNI) and TLS version. Once the endpoint cannot be reached
    (no connection, or no answer within `timeout`), the others are not tried: each says so,
    rather than waiting out the same timeout again."""
    made: list[Handshake] = []
    lost: Handshake | None = None
    for name in names:
        for version in VERSIONS:
            if lost is not None:
                made.append(
                    Handshake(
                        endpoint.label,
                        name,
                        version,
                        client.label if client else None,
                        problem=f"not tried, the endpoint was unreachable ({lost.problem})",
                        unreachable=True,
                    )
                )
                continue
            result = handshake(endpoint, sni=name, version=version, client=client, timeout=timeout)
            made.append(result)
            if result.unreachable:
                lost = result
    return made


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    return str(reason or error).replace("_", " ").lower()


# The alerts by which a peer judges the certificate it was given (RFC 8446 6.2; OpenSSL's
# reasons, e.g. "sslv3 alert bad certificate", "tlsv13 alert certificate required"). Any other
# alert (a protocol version, a cipher) says nothing about the client certificate.
_CERTIFICATE_ALERTS = (
    "bad certificate",
    "unsupported certificate",
    "certificate unsupported",
    "certificate revoked",
    "certificate expired",
    "certificate unknown",
    "certificate required",
    "unknown ca",
    "access denied",
    "decrypt error",
)


def _about_client(error: BaseException) -> bool:
    """Whether a failed handshake is the server's verdict on the client certificate."""
    text = _reason(error)
    return any(words in text for words in _CERTIFICATE_ALERTS)


def _alert_after(tls: ssl.SSLSocket) -> OSError | None:
    """What the next read brings within half a second: an alert or a closed connection (the
    error), or silence (None). TLS 1.3 ends the handshake before the server has judged the
    client's certificate, or its absence: a refusal comes this way."""
    tls.settimeout(0.5)
    try:
        tls.recv(1)
    except TimeoutError:
        return None
    except OSError as error:  # ssl.SSLError included
        return error
    return None


def _await_verdict(tls: ssl.SSLSocket, result: Handshake) -> None:
    """With a client certificate: an alert after the handshake is the server refusing it."""
    error = _alert_after(tls)
    if error is None:
        return
    result.ok = False
    result.client_refused = True
    result.problem = (
        f"the server refused the client certificate: {_reason(error)}"
        if isinstance(error, ssl.SSLError)
        else f"the server closed the connection: {error}"
    )


def names_to_probe(endpoint: Endpoint, planned_names: Sequence[str]) -> list[str | None]:
    """The SNI names to try: every explicit planned name, else the host when it is a name."""
    names = [n for n in planned_names if not n.startswith("*.")]
    if names:
        return list(dict.fromkeys(names))
    return [endpoint.host] if fqdn_problem(normalize(endpoint.host)) is None else [None]


def names_match(
    leaf: x509.Certificate, name: str, roots: Sequence[x509.Certificate]
) -> bool | None:
    """Whether `leaf` answers for `name` (RFC 6125 matching by cryptography's verifier); None
    when the verifier refuses the certificate whatever the name (not a name question)."""
    if not roots:
        return False
    policy = verification.ExtensionPolicy.permit_all()
    ca_policy = policy.require_present(
        x509.BasicConstraints, verification.Criticality.AGNOSTIC, None
    )
    ee_policy = policy.require_present(
        x509.SubjectAlternativeName, verification.Criticality.AGNOSTIC, None
    )
    builder = (
        verification.PolicyBuilder()
        .store(verification.Store([leaf]))  # the name, not the chain, is what is asked here
        .extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
        .time(leaf.not_valid_before_utc)
    )
    try:
        builder.build_server_verifier(x509.DNSName(name)).verify(leaf, [])
    except (verification.VerificationError, ValueError):
        pass
    else:
        return True
    # refused: for the name, or for something else of the certificate (a negative serial, an
    # unknown critical extension), which other findings name; the name only if that is all
    try:
        builder.build_client_verifier().verify(leaf, [])
    except (verification.VerificationError, ValueError):
        return None
    return False


_FAILURES = (
    (
        ("wrong version number", "record layer failure", "packet length too long"),
        " (no TLS there: a plain-text service answered)",
        "check the port: a TLS listener of Lync is 5061 (SIP), 443 or 4443 (web services)",
    ),
    (
        ("name or service not known", "nodename nor servname", "name resolution",
         "no address associated"),
        " (the name does not resolve from here)",
        "check DNS (an A record for the name), or give the address with =SERVER",
    ),
    (
        ("protocol version", "unsupported protocol", "no protocols available"),
        " (the server offers neither TLS 1.2 nor TLS 1.3: TLS 1.0/1.1 only, or no common "
        "cipher)",
        "enable TLS 1.2 on the server (Windows updates and Lync Server 2013 cumulative updates "
        "support it)",
    ),
    (
        ("alert handshake failure",),
        " (the server refused the handshake: no TLS version or cipher suite in common, as a "
        "server offering only TLS 1.0/1.1 or only old ciphers answers)",
        "enable TLS 1.2 on the server (Windows updates and Lync Server 2013 cumulative updates "
        "support it), with its current cipher suites",
    ),
)  # fmt: skip


def _handshake_failure(problem: str) -> tuple[str, str]:
    """What a failed handshake's reason means, and what to do about it."""
    text = problem.lower()
    for words, why, fix in _FAILURES:
        if any(w in text for w in words):
            return why, fix
    return "", "check that the service listens there with its certificate assigned"


def judge(
    endpoint: Endpoint,
    handshakes: Sequence[Handshake],
    *,
    roots: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate],
    now: Any,
    subject: str,
) -> list[Finding]:
    """Findings of an endpoint's handshakes: failed handshakes, versions refused, names the
    certificate does not answer to, chains not sent whole or not trusted, client refused."""
    server = endpoint.server or endpoint.label
    found: list[Finding] = []

    def add(fid: str, severity: Severity, message: str, fix: str, rule: str) -> None:
        found.append(Finding(fid, severity, server, endpoint.usage, subject, message, fix, rule))

    if handshakes and all(h.sni is None for h in handshakes) and any(h.ok for h in handshakes):
        add(
            "tls.no-name",
            Severity.INFO,
            f"{endpoint.label} was probed without a name (no server, an address): the names of "
            "the certificate it presents were checked against none",
            "give the server it is (--endpoint HOST:PORT=SERVER) to check the planned names, or "
            "its DNS name as the host",
            "R-GEN-07",
        )
    by_version: dict[str, list[Handshake]] = {}
    for h in handshakes:
        by_version.setdefault(h.version, []).append(h)
    # a version whose handshake ended only for want of a client certificate works: the server
    # spoke it (TLS 1.2 ends so in the handshake itself, TLS 1.3 after it)
    working = {v for v, hs in by_version.items() if any(h.ok or h.client_required for h in hs)}
    required = sorted({h.version for h in handshakes if h.client_required})
    if required:
        seen = any(h.presented for h in handshakes)
        add(
            "tls.client-required",
            Severity.WARNING,
            f"{endpoint.label} requires a client certificate ({', '.join(required)}): mutual "
            "TLS was not proven, "
            + (
                "only the certificate the server presents was judged"
                if seen
                else "and the server sent no certificate to judge"
            ),
            "probe it with a client certificate, as a Lync server connects: --client SERVER "
            "(a store's Default certificate) or --client-pfx FILE",
            "R-GEN-13",
        )
    for version, hs in by_version.items():
        if version in working or any(h.client_refused or h.client_required for h in hs):
            continue
        problem = hs[0].problem or "no handshake"
        if working and version == "TLSv1.3":
            # Lync Server 2013 and Skype for Business Server 2015 (Schannel up to Windows
            # Server 2019) negotiate TLS 1.2 at most: no TLS 1.3 is what a good server shows
            add(
                "tls.version",
                Severity.INFO,
                f"{endpoint.label} does not offer {version} ({problem}); it accepts "
                f"{', '.join(sorted(working))}",
                "nothing to do for Lync Server 2013 or Skype for Business Server 2015, which "
                "negotiate TLS 1.2 at most",
                "R-GEN-13",
            )
        elif working:
            add(
                "tls.version",
                Severity.WARNING,
                f"{endpoint.label} refuses {version} ({problem}) but accepts "
                f"{', '.join(sorted(working))}",
                f"enable {version} on the server (Lync Server 2013 and Skype for Business "
                "Server 2015 peers negotiate TLS 1.2 at most)",
                "R-GEN-13",
            )
        else:
            meaning, fix = _handshake_failure(problem)
            add(
                "tls.handshake",
                Severity.ERROR,
                f"no {version} handshake with {endpoint.label}: {problem}{meaning}",
                fix,
                "R-GEN-13",
            )
    refusals: dict[tuple[str | None, str | None], list[str]] = {}  # one finding a cause
    for h in handshakes:
        if h.client_refused:
            versions = refusals.setdefault((h.client, h.problem), [])
            if h.version not in versions:
                versions.append(h.version)
    for (who, why), versions in refusals.items():
        add(
            "mtls.refused",
            Severity.ERROR,
            f"{endpoint.label} refused the client certificate {who} over "
            f"{', '.join(versions)}: {why}",
            "the peer must trust the client's chain and find it unrevoked (MTLS needs both "
            "sides to trust each other's root, R-GEN-13)",
            "R-GEN-13",
        )
    unasked = sorted({h.version for h in handshakes if h.ok and h.client_asked is False})
    if unasked:
        client = next(h.client for h in handshakes if h.client_asked is False)
        add(
            "mtls.not-requested",
            Severity.ERROR,
            f"{endpoint.label} never asked for a client certificate ({', '.join(unasked)}): the "
            f"handshakes succeeded without mutual TLS, so {client} was not checked at all",
            "require client certificates on that listener (Lync's server-to-server listener, "
            "5061, does) or probe the listener that does",
            "R-GEN-13",
        )
    judged: set[bytes] = set()
    mismatched: set[tuple[str, bytes]] = set()  # a name is judged once, whatever the version
    for h in handshakes:  # a failed handshake too: what the server sent before it ended
        if not h.presented:
            continue
        leaf, sent = h.presented[0], h.presented[1:]
        der = leaf.public_bytes(Encoding.DER)
        if h.sni and (h.sni, der) not in mismatched and names_match(leaf, h.sni, [leaf]) is False:
            mismatched.add((h.sni, der))
            add(
                "tls.name-mismatch",
                Severity.ERROR,
                f"{endpoint.label} answers {h.sni} (SNI) with a certificate that does not name "
                f"it ({leaf.subject.rfc4514_string()})",
                f"assign a certificate with {h.sni} as a SAN",
                "R-GEN-07",
            )
        if der in judged:
            continue
        judged.add(der)
        # trust judged apart from the leaf's own dates (cert.expired says those, with its fix):
        # an expired leaf was "a CA certificate of its path is outside its validity"
        as_sent = validate_apart_from_its_dates(leaf, sent, roots, now)
        if as_sent.problem is None:
            continue
        with_known = validate_apart_from_its_dates(leaf, [*sent, *intermediates], roots, now)
        if with_known.problem is None:
            add(
                "tls.chain-incomplete",
                Severity.ERROR,
                f"{endpoint.label} does not send its intermediate CA certificate(s): peers "
                "that lack them fail (Edge and Director do, intermittently)",
                "install the issuing CA's certificate on the server so that it sends the whole "
                "chain",
                "R-GEN-13",
            )
        else:
            sha1 = not_judged(as_sent.problem)  # not judged: allowed (R-GEN-04), not refused
            add(
                "tls.untrusted",
                Severity.WARNING if sha1 else Severity.ERROR,
                f"the chain {endpoint.label} presents is not "
                + (f"judged: {as_sent.problem}" if sha1 else f"trusted: {as_sent.problem}"),
                SHA1_FIX
                if sha1
                else "assign a certificate from a CA the peers trust, and trust its root",
                "R-GEN-13",
            )
    return found
