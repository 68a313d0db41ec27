"""Where a CA lives in the lyncpki home, its configuration, and its passphrase.

<home>/ca/config.json            name, slugs, base URL, database URL, namespaces
<home>/ca/root.crt, root.key     root CA (key: encrypted PKCS#8, 0600)
<home>/ca/issuing.crt, .key      issuing CA
<home>/ca/templates.yaml         the templates offered (editable)
<home>/ca/ca.sqlite              the default database
<home>/publish/crl/<slug>.crl    published CRLs (DER, and .pem beside), delta: <slug>+.crl
<home>/publish/aia/<slug>.crt    CA certificates for AIA (DER)
<home>/secrets/ca-passphrase     only when generated for a demo or a test (0600)
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, urlsplit

from lyncpki import passphrase
from lyncpki.atomic import write_atomic
from lyncpki.errors import LyncPkiError
from lyncpki.field_kinds import Kind, typed_fields, yaml_kind

PASSPHRASE_ENV = "LYNCPKI_CA_PASSPHRASE"
HOME_ENV = "LYNCPKI_HOME"
DEFAULT_HOME = "lyncpki-data"
MAX_NAME = 64  # ub-common-name and ub-organization-name (RFC 5280)
_HOST_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")


def slug(name: str) -> str:
    """`Contoso Issuing CA` -> `contoso-issuing-ca` (the file and URL name of a CA)."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return text or "ca"


def check_ca_name(option: str, value: str) -> str:
    """A CA's common name (or O=) as given: 1 to 64 printable characters, no control
    characters (the same rule requests are held to, policy.subject-text)."""
    if not value.strip():
        raise LyncPkiError(f"{option} is empty", f"give a name of 1 to {MAX_NAME} characters")
    if not value.isprintable():
        raise LyncPkiError(
            f"{option} holds control or other non-printable characters (an escape sequence, a "
            "line break, a direction override): they would reach every certificate, report and "
            "terminal that shows it",
            "give plain text",
        )
    if len(value) > MAX_NAME:
        raise LyncPkiError(
            f"{option} is {len(value)} characters long (a certificate name holds at most "
            f"{MAX_NAME})",
            f"shorten it to {MAX_NAME} characters or fewer",
        )
    return value


def normalize_base_url(url: str) -> str:
    """The base of the CRL, AIA and OCSP URLs written into every certificate: an http(s) URL
    with an ASCII host (an internationalised one must be given as its A-label), an optional
    port and path, no credentials, query, fragment or spaces; without its trailing slash."""
    fix = "use e.g. http://pki.contoso.com or http://pki.contoso.com:8080/pki"
    text = url.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in ("http", "https"):
        text = scheme + text[len(scheme) :]  # HTTP://pki... is http://pki...
    if not text.startswith(("http://", "https://")):
        raise LyncPkiError(
            f"--base-url '{url}' is not an http(s) URL",
            "use e.g. http://pki.contoso.com (CRLs are fetched over HTTP)",
        )
    if any(c.isspace() or not c.isprintable() for c in text):
        raise LyncPkiError(
            f"--base-url {text!r} holds spaces or control characters", f"{fix} (no spaces)"
        )
    parts = urlsplit(text)
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise LyncPkiError(
            f"--base-url '{text}' has a query or fragment (?... or #...): the CRL, AIA and OCSP "
            "URLs are made by appending to it",
            f"{fix} (no ? or #)",
        )
    if "@" in parts.netloc:
        raise LyncPkiError(
            f"--base-url '{text}' holds credentials (user@): every certificate would publish them",
            fix,
        )
    host = parts.hostname or ""
    if not host:
        raise LyncPkiError(f"--base-url '{text}' names no host", fix)
    try:
        port = parts.port
    except ValueError:
        raise LyncPkiError(f"--base-url '{text}' has an invalid port", fix) from None
    if port == 0:
        raise LyncPkiError(f"--base-url '{text}' has port 0, which no server listens on", fix)
    if not parts.path.isascii():
        raise LyncPkiError(
            f"--base-url '{text}' has a path that is not ASCII: a URL in a certificate is ASCII",
            f"percent-encode it (e.g. {quote(parts.path)}), or {fix}",
        )
    if not host.isascii():
        try:
            label = host.encode("idna").decode("ascii")
        except UnicodeError:
            label = None
        raise LyncPkiError(
            f"--base-url '{text}' has an internationalised host name: certificates and Lync "
            "take ASCII (A-label) names only",
            f"give the host as its A-label: {parts.scheme}://{label}"
            + (f":{port}" if port else "")
            + parts.path
            if label
            else "give the host in ASCII",
        )
    if not _valid_host(host):
        raise LyncPkiError(
            f"--base-url '{text}' has an invalid host '{host}' (letters, digits, hyphens and "
            "dots, or an IP address)",
            fix,
        )
    return text.rstrip("/")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.lower().removesuffix(".").split(".")
    if labels[-1].isdigit():  # 999.1.1.1: not an IP address, and no DNS name either
        return False
    return len(host) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


def check_new_passphrase(
    secret: bytes, *, generated: str = "--generate-passphrase for a demo or test home"
) -> None:
    """A new CA key's passphrase: the rule of every passphrase (passphrase.weakness).
    `generated` says how the command at hand makes one instead."""
    if found := passphrase.weakness(secret):
        raise LyncPkiError(
            f"the CA passphrase {found.problem}: it alone protects the CA's keys",
            f"{found.advice} (or {generated})",
        )


@dataclass(frozen=True)
class CaConfig:
    name: str
    root_name: str
    base_url: str
    db_url: str
    namespaces: tuple[str, ...]
    created: str
    crl_days: int = 7
    delta_crl_hours: int = 24
    root_crl_days: int = 180
    hashes: tuple[str, ...] = field(default=("sha256",))

    @functools.cached_property
    def slug(self) -> str:  # asked at every issuance: worked out once
        return slug(self.name)

    @functools.cached_property
    def root_slug(self) -> str:
        return slug(self.root_name)

    def crl_url(self, ca_slug: str, *, delta: bool = False) -> str:
        return f"{self.base_url}/crl/{ca_slug}{'+' if delta else ''}.crl"

    def aia_url(self, ca_slug: str) -> str:
        return f"{self.base_url}/aia/{ca_slug}.crt"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/ocsp"


_CONFIG_KINDS: dict[str, Kind] = {
    "name": "str",
    "root_name": "str",
    "base_url": "str",
    "db_url": "str",
    "namespaces": "list",
    "created": "str",
    "crl_days": "int",
    "delta_crl_hours": "int",
    "root_crl_days": "int",
    "hashes": "list",
}
_CONFIG_REQUIRED = ("name", "root_name", "base_url", "db_url", "namespaces", "created")


class CaHome:
    """The paths of a CA inside a lyncpki home."""

    def __init__(self, home: str | Path) -> None:
        self.root = Path(home)
        self.ca_dir = self.root / "ca"
        self.publish = self.root / "publish"
        self.secrets = self.root / "secrets"

    @property
    def config_file(self) -> Path:
        return self.ca_dir / "config.json"

    @property
    def templates_file(self) -> Path:
        return self.ca_dir / "templates.yaml"

    @property
    def passphrase_file(self) -> Path:
        return self.secrets / "ca-passphrase"

    def cert_file(self, which: str) -> Path:
        return self.ca_dir / f"{which}.crt"

    def key_file(self, which: str) -> Path:
        return self.ca_dir / f"{which}.key"

    def crl_file(self, ca_slug: str, *, delta: bool = False, pem: bool = False) -> Path:
        return self.publish / "crl" / f"{ca_slug}{'+' if delta else ''}.crl{'.pem' if pem else ''}"

    def aia_file(self, ca_slug: str) -> Path:
        return self.publish / "aia" / f"{ca_slug}.crt"

    def exists(self) -> bool:
        return self.config_file.exists()

    def key_material(self) -> list[Path]:
        """The CA keys and certificates in the home, whether or not config.json is there (a
        home whose config was lost still holds a CA that must never be overwritten)."""
        files = [f(which) for which in ("root", "issuing") for f in (self.key_file, self.cert_file)]
        return [path for path in files if path.exists()]

    def default_db_url(self) -> str:
        return f"sqlite:///{(self.ca_dir / 'ca.sqlite').resolve()}"

    def make_dirs(self) -> None:
        for folder in (self.ca_dir, self.publish / "crl", self.publish / "aia", self.secrets):
            folder.mkdir(parents=True, exist_ok=True)
        self.secrets.chmod(0o700)
        self.ca_dir.chmod(0o700)

    def write_config(self, config: CaConfig) -> None:
        data = asdict(config)
        write_atomic(self.config_file, (json.dumps(data, indent=2) + "\n").encode(), mode=0o600)

    def read_config(self) -> CaConfig:
        if not self.exists():
            raise LyncPkiError(
                f"no CA in {self.root} (no {self.config_file})",
                f"create one: lyncpki ca init --home {self.root}",
            )
        restore = "restore it from a backup (it is written by lyncpki ca init)"
        try:
            data = json.loads(self.config_file.read_text("utf-8"))
        except (ValueError, OSError) as error:  # UnicodeDecodeError is a ValueError
            raise LyncPkiError(f"{self.config_file} is damaged ({error})", restore) from None
        if not isinstance(data, dict):
            raise LyncPkiError(
                f"{self.config_file} is damaged (it holds {yaml_kind(data)}, not an object)",
                restore,
            )
        values, problems = typed_fields(data, _CONFIG_KINDS)
        unknown = sorted(set(data) - set(_CONFIG_KINDS))
        missing = sorted(k for k in _CONFIG_REQUIRED if k not in data)
        problems += [f"unknown field {k}" for k in unknown] + [f"no {k}" for k in missing]
        problems += [
            f"{k} is {values[k]}, below 1"
            for k in ("crl_days", "delta_crl_hours", "root_crl_days")
            if isinstance(values.get(k), int) and values[k] < 1
        ]
        if problems:
            raise LyncPkiError(
                f"{self.config_file} is damaged: {'; '.join(problems)}",
                f"correct what is named, or {restore}",
            )
        config = CaConfig(**values)
        return replace(config, db_url=self._own_database(config.db_url))

    def _own_database(self, configured: str) -> str:
        """The database of a home copied or restored elsewhere (`cp -a`, a backup) is its own
        copy: config.json names the first home's SQLite file by its absolute path, and the copy
        read and wrote the original's inventory and revocations. A database in another home's
        ca/ folder is never this CA's (`ca init` refuses to share one); elsewhere, as given."""
        if (
            configured.startswith("sqlite:///")
            and configured.endswith("/ca/ca.sqlite")
            and configured != self.default_db_url()
        ):  # even when this home's own file is missing: refused as missing, never the other
            return self.default_db_url()
        return configured


def resolve_passphrase(
    home: CaHome,
    *,
    passphrase_file: Path | None = None,
    prompt: Callable[[], str] | None = None,
) -> bytes:
    """The CA passphrase, in one order everywhere: --passphrase-file, the environment
    (LYNCPKI_CA_PASSPHRASE), the home's generated secret (demo/test homes), a prompt."""
    return passphrase.resolve(
        what="the CA's keys",
        passphrase_file=passphrase_file,
        env_names=(PASSPHRASE_ENV,),
        generated=(home.passphrase_file,),
        prompt=prompt,
        fix=f"set {PASSPHRASE_ENV}, use --passphrase-file FILE, or --generate-passphrase at "
        "init (demo and test homes only)",
    )


def generate_passphrase(home: CaHome) -> bytes:
    """A random passphrase stored in <home>/secrets/ca-passphrase (0600): demo/test homes.

    Never replaces one: the file is written whole under another name, then linked into place
    (which fails when it exists); when another process made one meanwhile, that one is used, so
    that two first runs on one home agree on the passphrase of the one CA they make."""
    value = secrets.token_urlsafe(32)
    target = home.passphrase_file
    staged = write_atomic(
        target.with_name(f".{target.name}.{secrets.token_hex(8)}"),
        (value + "\n").encode(),
        mode=0o600,
    )
    try:
        os.link(staged, target)
    except FileExistsError:
        return target.read_text("utf-8").strip().encode()
    finally:
        staged.unlink()
    return value.encode()
