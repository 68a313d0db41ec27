"""Where a server's store lives in the lyncpki home, and the names that may be used for it.

<home>/servers/<fqdn>/store.json              the index: what every file below means
<home>/servers/<fqdn>/certs/<THUMBPRINT>.crt  personal certificates (PEM)
<home>/servers/<fqdn>/keys/<key id>.key       private keys, encrypted PKCS#8 (0600)
<home>/servers/<fqdn>/requests/<id>.req       requests made here (certreq armor)
<home>/servers/<fqdn>/trusted/<THUMBPRINT>.crt trusted roots and intermediates (PEM)

`global` is the store of the replicated certificates (`-Identity global`: OAuthTokenIssuer,
R-OAUTH-02). A server name is a DNS name and nothing else: it never leaves `servers/`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from lyncpki.errors import LyncPkiError
from lyncpki.topology.names import fqdn_problem, normalize

GLOBAL = "global"
SUBFOLDERS = ("certs", "keys", "requests", "trusted")
SERVERS_DIR = "servers"
DEPLOY_LOCK = ".deploy.lock"  # in the home: held by `deploy` for a whole run
# in the home: held while offline requests are checked and written (one .req file, one request)
REQUEST_FILES_LOCK = ".request-files.lock"
# How the index spells a thumbprint and a key id (also the files' names under certs/, keys/)
THUMBPRINT = re.compile(r"^[0-9A-F]{40}\Z")
KEY_ID = re.compile(r"^[0-9a-f]{40}\Z")


class StoreError(LyncPkiError):
    """A store operation that cannot be done."""


def server_name(text: str) -> str:
    """The canonical server name, or a StoreError: an FQDN (or `global`), nothing that could
    name a path outside the store's folder."""
    name = normalize(text)
    if name == GLOBAL:
        return name
    problem = fqdn_problem(name)
    if problem or "/" in text or "\\" in text or ".." in text:
        reason = problem or "contains a path separator"
        raise StoreError(
            f"server '{text[:100]}' {reason}",
            "give the server's fully qualified domain name (fe01.contoso.net), or 'global' "
            "for the replicated OAuthTokenIssuer certificate",
        )
    return name


def thumbprint_name(text: str) -> str:
    """A thumbprint as typed (any case, spaces or colons) in the store's spelling."""
    if THUMBPRINT.match(text):  # already spelled so (the index's own)
        return text
    value = re.sub(r"[\s:]", "", text).upper()
    if not THUMBPRINT.match(value):
        raise StoreError(
            f"'{text[:100]}' is not a certificate thumbprint",
            "give the 40 hex digits of the SHA-1 thumbprint (lyncpki certs shows them)",
        )
    return value


class StorePaths:
    """The files of one server's store."""

    def __init__(self, home: Path, server: str) -> None:
        self.server = server_name(server)
        self._home = home
        # file names are joined as text, Paths made when asked for: check opens a thousand
        # stores, and three Paths and pathlib's lstat were 7 us of each
        self._folder = f"{home}/{SERVERS_DIR}/{self.server}"
        # The name holds no separator and no "..", so the folder is inside servers/ unless it
        # is a link (one lstat; resolving the whole path cost a realpath walk per store opened)
        if os.path.islink(self._folder):  # noqa: PTH114 (no Path built)
            raise StoreError(
                f"the store of {self.server} is not inside {self.servers} ({self.root} is a link)",
                "remove the link, and move the store's folder itself under servers/",
            )
        self.index_file = f"{self._folder}/store.json"

    @property
    def servers(self) -> Path:
        return self._home / SERVERS_DIR

    @property
    def root(self) -> Path:
        return Path(self._folder)

    @property
    def index(self) -> Path:
        return Path(self.index_file)

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    def certificate(self, thumbprint: str) -> Path:
        return Path(self.certificate_file(thumbprint))

    def certificate_file(self, thumbprint: str) -> str:
        """The certificate's file name as text (what an open needs; no Path built)."""
        return f"{self._folder}/certs/{thumbprint_name(thumbprint)}.crt"

    def trusted(self, thumbprint: str) -> Path:
        return Path(f"{self._folder}/trusted/{thumbprint_name(thumbprint)}.crt")

    def key(self, key_id: str) -> Path:
        return Path(self.key_file(key_id))

    def key_file(self, key_id: str) -> str:
        """The key's file name as text (what a stat needs; no Path built)."""
        if not KEY_ID.match(key_id):
            raise StoreError(f"damaged store index: bad key id {key_id[:60]!r}", "restore it")
        return f"{self._folder}/keys/{key_id}.key"

    def request(self, request_id: int) -> Path:
        return self.root / "requests" / f"{int(request_id)}.req"

    def make(self) -> None:
        for sub in SUBFOLDERS:
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        (self.root / "keys").chmod(0o700)


def servers_in(home: Path, *, damaged: bool = False) -> list[str]:
    """The servers that have a store in the home, sorted (global last). With `damaged`, also
    the folders that hold a store's contents without a readable index (store.json missing, or
    a folder): reported as unreadable stores by whoever lists them, never skipped in silence."""
    folder = home / SERVERS_DIR
    if not folder.is_dir():
        return []
    names = sorted(
        p.name
        for p in folder.iterdir()
        if (p / "store.json").is_file()
        or (damaged and p.is_dir() and any((p / sub).exists() for sub in _STORE_MARKS))
    )
    return [n for n in names if n != GLOBAL] + ([GLOBAL] if GLOBAL in names else [])


_STORE_MARKS = ("store.json", "certs", "keys")  # what only a store's folder holds
