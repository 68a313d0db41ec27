"""`lyncpki ca serve` and `lyncpki ca account ...`: the CA on the network and its accounts."""

from __future__ import annotations

import errno
import os
import socket
import ssl
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key
from rich.table import Table

from lyncpki.atomic import write_atomic
from lyncpki.ca.accounts import Accounts, Role
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import PASSPHRASE_ENV, resolve_passphrase
from lyncpki.ca.templates import held_notice
from lyncpki.cli.ca_context import (
    HomeOption,
    JsonOption,
    PassphraseFileOption,
    actor,
    home_of,
    jsonable,
    open_read,
    open_signing,
    prompt_passphrase,
)
from lyncpki.cli.output import emit_json, guarded, stdout
from lyncpki.errors import LyncPkiError
from lyncpki.inputs import env_secret, read_input, read_secret
from lyncpki.service.workers import HOME_VARIABLE, PARENT_VARIABLE, home_workers

PASSWORD_ENV = "LYNCPKI_ACCOUNT_PASSWORD"


class LogLevel(StrEnum):
    """uvicorn's log levels (a name it does not know was an internal error once serving)."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"
    TRACE = "trace"


account_app = typer.Typer(
    help="CA accounts: who may enroll (requester) and approve, deny and revoke (manager, "
    "auditor) through the CA service. Passwords are stored as scrypt hashes.",
    no_args_is_help=True,
)


def serve_command(
    home: Path | None = HomeOption,
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on.", metavar="ADDRESS"
    ),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="TCP port.", metavar="PORT"),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        max=64,
        help="Worker processes; for a busy CA, about twice the CPUs (a keep-alive connection "
        "stays with the worker that accepted it, and one worker often accepts most of a burst). "
        "Several processes (and several `ca serve` on other ports or machines) may share one "
        "database: it coordinates serials and CRL numbers.",
        metavar="N",
    ),
    tls_cert: Path | None = typer.Option(
        None,
        "--tls-cert",
        help="Serve HTTPS with this certificate chain (PEM); clients may "
        "then also authenticate with a certificate this CA issued.",
        metavar="FILE",
    ),
    tls_key: Path | None = typer.Option(
        None, "--tls-key", help="... and this key (PEM).", metavar="FILE"
    ),
    passphrase_file: Path | None = PassphraseFileOption,
    log_level: LogLevel = typer.Option(
        LogLevel.WARNING, "--log-level", help="uvicorn's log level.", case_sensitive=False
    ),
    root_key: bool = typer.Option(
        False,
        "--root-key",
        help="Hold the root CA's key online too, so that the API and the console can approve "
        "subordinate CAs (SubCA). Without it the service holds the issuing CA's key only, as an "
        "AD CS administrator keeps a root offline: subordinate CAs are approved on the CA's "
        "machine (lyncpki ca approve ID).",
    ),
) -> None:
    """Serve the CA over HTTP: enrollment, CRLs, CA certificates, OCSP and /health.

    The enrollment API is under /api/v1/..., CRLs under /crl/..., CA certificates under
    /aia/..., OCSP at /ocsp; the API is described at /docs.

    The CRL and AIA URLs written into certificates (ca init --base-url) must point here.
    """
    _serve(home, host, port, workers, tls_cert, tls_key, passphrase_file, str(log_level), root_key)


@guarded(None)
def _serve(
    home: Path | None,
    host: str,
    port: int,
    workers: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    passphrase_file: Path | None,
    log_level: str,
    root_key: bool,
) -> None:
    import uvicorn

    from lyncpki.ca.crl_schedule import CrlSchedule
    from lyncpki.service.app import ROOT_KEY_VARIABLE, create_app, ocsp_responder
    from lyncpki.service.tls import PROTOCOL

    if (tls_cert is None) != (tls_key is None):
        raise LyncPkiError("--tls-cert and --tls-key go together", "give both, or neither")
    tls_leaf = check_tls_pair(tls_cert, tls_key) if tls_cert and tls_key else None
    ca_home = home_of(home)
    ca_home.read_config()
    secret = resolve_passphrase(ca_home, passphrase_file=passphrase_file, prompt=prompt_passphrase)
    # checks the passphrase before listening
    ca = CertificateAuthority.open(ca_home, secret, actor=actor(), root_key=root_key)
    certfile = str(tls_cert) if tls_cert else None
    keyfile = str(tls_key) if tls_key else None
    scheme = "https" if certfile else "http"
    # Over HTTPS a client may authenticate with a certificate of this CA (verified against
    # its chain; optional, so that CA accounts keep working).
    client_cas = str(ca_home.ca_dir / "chain.pem") if certfile else None
    if client_cas:
        write_atomic(client_cas, b"".join(c.public_bytes(Encoding.PEM) for c in ca.chain()))
    tls_options: dict[str, Any] = (
        {
            "ssl_certfile": certfile,
            "ssl_keyfile": keyfile,
            "ssl_ca_certs": client_cas,
            "ssl_cert_reqs": ssl.CERT_OPTIONAL,
        }
        if certfile
        else {}
    )
    tls_options["http"] = PROTOCOL  # OCSP answered by the protocol; the TLS peer's certificate
    # the client is the TCP peer, never what X-Forwarded-For says: uvicorn trusts those headers
    # from 127.0.0.1 by default, and a local client named any address it liked in the audit log
    # and slipped past the per-client sign-in throttle (X-Forwarded-Proto set the cookie's
    # Secure flag too). A reverse proxy in front is not supported: it would make every client
    # one address.
    tls_options["proxy_headers"] = False
    check_port(host, port, ca_home.root)  # before saying where the service is
    where = authority_of(host, port)
    print(
        f"lyncpki CA service on {scheme}://{where} ({workers} worker(s)); "
        f"API at {scheme}://{where}/docs",
        file=sys.stderr,
        flush=True,
    )
    if notice := held_notice(ca.templates, str(ca_home.templates_file)):
        print(f"warning: {notice[0]}\n  fix: {notice[1]}", file=sys.stderr, flush=True)
    if tls_leaf is not None and (unusable := tls_unusable(ca, tls_leaf)):
        print(
            f"warning: the service's TLS certificate {unusable}: clients refuse it\n  fix: "
            "issue it a new one (lyncpki ca issue REQUEST --template WebServer) and start "
            "again with it",
            file=sys.stderr,
            flush=True,
        )
    # the CRLs this home serves, published again before they run out (this process only:
    # the workers serve them)
    CrlSchedule(
        ca, report=lambda line: print(f"lyncpki: {line}", file=sys.stderr, flush=True)
    ).start()
    try:
        if workers == 1:
            app = create_app(ca, ocsp=ocsp_responder(ca, secret))
            uvicorn.run(
                app,
                host=host,
                port=port,
                log_level=log_level,
                **tls_options,
            )
            return
        ca.engine.dispose()
        os.environ[HOME_VARIABLE] = str(ca_home.root.resolve())
        os.environ[PARENT_VARIABLE] = str(os.getpid())  # each worker ends with this process
        os.environ[PASSPHRASE_ENV] = secret.decode()  # inherited by the workers only
        os.environ[ROOT_KEY_VARIABLE] = "1" if root_key else "0"
        uvicorn.run(
            "lyncpki.service.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            **tls_options,
        )
    except SystemExit as stop:
        if stop.code == UVICORN_STARTUP_FAILURE:  # e.g. the port taken since check_port
            raise LyncPkiError(
                f"the CA service could not start on {where} (uvicorn's reason above)",
                "choose another --port or stop what listens there, then start it again",
            ) from None
        raise


UVICORN_STARTUP_FAILURE = 3  # uvicorn's exit status when it cannot start (not one of ours)


def authority_of(host: str, port: int) -> str:
    """host:port as a URL writes it: an IPv6 address in brackets ([::1]:8080)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_port(host: str, port: int, home: Path | None = None) -> None:
    """Refuse an address the service cannot listen on — none at all, another program listening
    there, an address not of this machine, a port that needs privileges — before announcing the
    service (uvicorn would say so after the announcement, in its own words, and exit 3). A port
    held by `home`'s own service workers is said to be theirs."""
    if not host.strip():
        # an empty --host binds every interface: all of them must be asked for by name
        raise LyncPkiError(
            "--host is empty",
            "give an address of this machine with --host: 127.0.0.1 for this machine only, "
            "0.0.0.0 (or ::) for all of its interfaces",
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    where = authority_of(host, port)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise _port_taken(where, port, home) from None
            if error.errno == errno.EACCES:
                raise LyncPkiError(
                    f"cannot listen on {where}: permission denied",
                    "choose a --port above 1023, or give this user the right to listen there",
                ) from None
            raise LyncPkiError(
                f"cannot listen on {where}: {error.strerror or error}",
                "give an address of this machine with --host (0.0.0.0: all of them)",
            ) from None


def _port_taken(where: str, port: int, home: Path | None) -> LyncPkiError:
    """Whose the port is: this home's own service workers when they can be told (/proc)."""
    workers = home_workers(home, port) if home is not None else None
    if workers is None:
        return LyncPkiError(
            f"{where} is in use (another program listens there)",
            "choose another --port or stop what listens there",
        )
    pids = " ".join(map(str, workers.pids))
    if workers.service is not None:
        return LyncPkiError(
            f"{where} is in use by this home's own CA service (`lyncpki ca serve`, pid "
            f"{workers.service}" + (f"; its workers: pid {pids}" if pids else "") + "): it is "
            "already serving",
            f"use the running service, or stop it (kill {workers.service}) first",
        )
    if workers.orphaned:
        return LyncPkiError(
            f"{where} is in use by this home's own CA service workers (pid {pids}), left "
            "running by a `lyncpki ca serve` that ended without stopping them (killed?)",
            f"stop them (kill {pids}), then start the service again",
        )
    return LyncPkiError(
        f"{where} is in use by this home's own CA service (its workers: pid {pids}): it is "
        "already serving",
        "use the running service, or stop its `lyncpki ca serve` (the parent of those "
        "workers) first",
    )


def tls_unusable(ca: CertificateAuthority, cert: x509.Certificate) -> str | None:
    """Why the service's own TLS certificate is refused by clients — out of its validity, or
    revoked by this CA — or None. It was served without a word."""
    now, serial = ca.clock.now(), f"(serial {cert.serial_number:x})"
    if now > cert.not_valid_after_utc:
        return f"{serial} expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
    if now < cert.not_valid_before_utc:
        return f"{serial} is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
    if cert.issuer == ca.issuer.certificate.subject and (
        revoked := ca.revocation(cert.serial_number)
    ):
        return f"{serial} is revoked by this CA ({revoked[1]}, {revoked[0]:%Y-%m-%d %H:%M} UTC)"
    return None


def check_tls_pair(cert_file: Path, key_file: Path) -> x509.Certificate:
    """The service's own certificate and key, read before listening: each readable, the key
    unencrypted (uvicorn is given no password), and the key the certificate's. The
    certificate (the chain's first)."""
    fix = "give the service's certificate (PEM, leaf first) and its unencrypted key (PEM, 0600)"
    try:
        chain = x509.load_pem_x509_certificates(read_input(cert_file, fix))
    except ValueError:
        raise LyncPkiError(f"--tls-cert {cert_file} holds no PEM certificate", fix) from None
    try:
        key = load_pem_private_key(read_input(key_file, fix), password=None)
    except TypeError:
        raise LyncPkiError(
            f"--tls-key {key_file} is encrypted",
            "decrypt it into a file only you can read (openssl pkey -in KEY -out KEY.pem), or "
            "let a reverse proxy terminate TLS",
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise LyncPkiError(f"--tls-key {key_file} holds no PEM private key", fix) from None
    if key.public_key() != chain[0].public_key():
        raise LyncPkiError(
            f"--tls-key {key_file} is not the key of --tls-cert {cert_file} "
            f"({chain[0].subject.rfc4514_string()})",
            "give the key the certificate was issued for",
        )
    return chain[0]


def _password(password_file: Path | None) -> str:
    if password_file is not None:
        return read_secret(password_file, "check --password-file", required=True)
    if value := env_secret(PASSWORD_ENV):
        return value
    if sys.stdin.isatty():
        return str(typer.prompt("Account password", hide_input=True, confirmation_prompt=True))
    raise LyncPkiError(
        "no password given for the account", f"use --password-file FILE or set {PASSWORD_ENV}"
    )


@account_app.command("add")
def account_add(
    name: str = typer.Argument(
        ..., help="Account name, e.g. lync-fe01 or CONTOSO\\lyncadmin.", metavar="NAME"
    ),
    role: Role = typer.Option(Role.REQUESTER, "--role", help="requester | manager | auditor"),
    password_file: Path | None = typer.Option(
        None,
        "--password-file",
        help=f"File with the password (else ${PASSWORD_ENV} or a "
        "prompt; never on the command line).",
        metavar="FILE",
    ),
    home: Path | None = HomeOption,
    passphrase_file: Path | None = PassphraseFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Add a CA account (the CA passphrase proves you administer the CA)."""
    _account_add(name, role, password_file, home, passphrase_file, as_json)


@guarded()
def _account_add(
    name: str,
    role: Role,
    password_file: Path | None,
    home: Path | None,
    passphrase_file: Path | None,
    as_json: bool,
) -> None:
    ca = open_signing(home, passphrase_file)
    account = Accounts(ca.engine, ca.clock).add(name, role, _password(password_file))
    ca.audit("local", "account-add", name, "ok", role.value)
    if as_json:
        emit_json({"name": account.name, "role": account.role.value})
    else:
        stdout.print(f"added account {account.name} ({account.role.value})", markup=False)


@account_app.command("list")
def account_list(home: Path | None = HomeOption, as_json: bool = JsonOption) -> None:
    """List the CA accounts and their roles (never their passwords)."""
    _account_list(home, as_json)


@guarded()
def _account_list(home: Path | None, as_json: bool) -> None:
    ca = open_read(home)
    rows = Accounts(ca.engine, ca.clock).list()
    if as_json:
        emit_json(jsonable(rows))
        return
    table = Table("Name", "Role", "Created")
    for row in rows:
        table.add_row(str(row["name"]), str(row["role"]), str(row["created_at"])[:16])
    stdout.print(table if rows else "no accounts")


@account_app.command("remove")
def account_remove(
    name: str = typer.Argument(..., help="Account name.", metavar="NAME"),
    home: Path | None = HomeOption,
    passphrase_file: Path | None = PassphraseFileOption,
    as_json: bool = JsonOption,
) -> None:
    """Remove a CA account."""
    _account_remove(name, home, passphrase_file, as_json)


@guarded()
def _account_remove(
    name: str, home: Path | None, passphrase_file: Path | None, as_json: bool
) -> None:
    ca = open_signing(home, passphrase_file)
    Accounts(ca.engine, ca.clock).remove(name)
    ca.audit("local", "account-remove", name, "ok", "")
    if as_json:
        emit_json({"name": name, "removed": True})
    else:
        stdout.print(f"removed account {name}", markup=False)
