"""An "other CA" made with openssl alone (`openssl req -x509` and `openssl ca`): the public CA
or the foreign enterprise CA that signs a delayed `.req`, with the validity and the names the
test chooses. Nothing of lyncpki takes part in making its certificates."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lab import openssl

CONFIG = """\
[ca]
default_ca = other
[other]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/issued
serial = {dir}/serial
private_key = {dir}/root.key
certificate = {dir}/root.crt
default_md = sha256
default_days = 365
policy = anything
copy_extensions = {copy}
unique_subject = no
[anything]
commonName = supplied
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
"""


class OtherCa:
    def __init__(self, folder: Path, name: str = "Other Public CA") -> None:
        self.dir = folder
        (folder / "issued").mkdir(parents=True)
        (folder / "index.txt").write_text("")
        (folder / "serial").write_text("1000\n")
        self._count = 0
        # A root valid since 2019 (openssl ca -selfsign takes a start date; req -x509 does not),
        # so that the certificates it backdates nest inside its validity.
        request = folder / "root.csr"
        openssl(
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            folder / "root.key",
            "-out",
            request,
            "-subj",
            f"/CN={name}",
        )
        extensions = folder / "root.ext"
        extensions.write_text(
            "[root]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, "
            "cRLSign\nsubjectKeyIdentifier = hash\n"
        )
        openssl(
            "ca",
            "-batch",
            "-selfsign",
            "-config",
            self._config("none"),
            "-keyfile",
            folder / "root.key",
            "-in",
            request,
            "-out",
            self.root,
            "-startdate",
            "20190101000000Z",
            "-enddate",
            "20391231000000Z",
            "-extfile",
            extensions,
            "-extensions",
            "root",
            "-notext",
        )

    @property
    def root(self) -> Path:
        return self.dir / "root.crt"

    def _config(self, copy: str) -> Path:
        self._count += 1
        config = self.dir / f"ca{self._count}.cnf"
        config.write_text(CONFIG.format(dir=self.dir, copy=copy))
        return config

    def sign(
        self,
        request: Path,
        *,
        sans: Sequence[str] | None = None,
        start: str | None = None,
        end: str | None = None,
        cdp: bool = True,
    ) -> Path:
        """Sign a request: its own SANs (copied), or exactly `sans`; `start`/`end` as
        YYYYMMDDHHMMSSZ; a CRL distribution point unless `cdp` is False."""
        config = self._config("none" if sans is not None else "copy")
        lines = [
            "[leaf]",
            "basicConstraints = CA:FALSE",
            "extendedKeyUsage = serverAuth",
            "keyUsage = critical, digitalSignature, keyEncipherment",
            "authorityKeyIdentifier = keyid",
            "subjectKeyIdentifier = hash",
        ]
        if cdp:
            lines.append("crlDistributionPoints = URI:http://pki.other-ca.example/other.crl")
        if sans is not None:
            lines.append("subjectAltName = " + ", ".join(f"DNS:{n}" for n in sans))
        extensions = self.dir / f"leaf{self._count}.ext"
        extensions.write_text("\n".join(lines) + "\n")
        out = self.dir / f"answer{self._count}.cer"
        args: list[str | Path] = [
            "ca",
            "-batch",
            "-config",
            config,
            "-in",
            request,
            "-out",
            out,
            "-extfile",
            extensions,
            "-extensions",
            "leaf",
            "-notext",
        ]
        if start:
            args += ["-startdate", start]
        if end:
            args += ["-enddate", end]
        openssl(*args)
        return out

    def p7b(self, leaf: Path) -> Path:
        """The answer with the chain as a PKCS#7 file (DER), as a CA's web page offers it."""
        out = leaf.with_suffix(".p7b")
        openssl(
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            leaf,
            "-certfile",
            self.root,
            "-outform",
            "DER",
            "-out",
            out,
        )
        return out
