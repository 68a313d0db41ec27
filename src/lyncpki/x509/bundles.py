"""Certificate files as administrators receive them: a CA's answer in PEM or DER (`.cer`,
`.crt`), a PKCS#7 chain (`.p7b`, DER or base64, including AD CS's base64 form that wraps the
PKCS#7 in CERTIFICATE armor), or a PKCS#12 file (`.pfx`, `.p12`) holding the private key.

Everything is parsed by pyca/cryptography; what cannot be read is a clear error naming the file.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from lyncpki.errors import LyncPkiError
from lyncpki.x509.forms import PEM_BLOCK, UNREADABLE, pkcs7_certificates, plain_reason, text_of
from lyncpki.x509.keys import PrivateKey
from lyncpki.x509.pkcs12_guard import Opened, Pkcs12TooSlow, looks_like_pkcs12, open_pkcs12

MAX_BUNDLE_BYTES = 4 * 1024 * 1024
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]+$")
PKCS12_SUFFIXES = (".pfx", ".p12")


class BundleError(LyncPkiError):
    """A certificate file that cannot be used."""


@dataclass(frozen=True)
class Bundle:
    """What a file holds: certificates (in file order) and, for PKCS#12, the private key."""

    certificates: list[x509.Certificate]
    key: PrivateKey | None = None
    form: str = "PEM"  # PEM | DER | PKCS#7 | PKCS#12
    friendly_name: str | None = None
    notes: list[str] = field(default_factory=list)


def _from_der(der: bytes) -> tuple[list[x509.Certificate], str] | None:
    """The certificates of a DER certificate or PKCS#7 chain (none for a PKCS#7 that holds
    none), or None for anything else."""
    try:
        return [x509.load_der_x509_certificate(der)], "DER"
    except UNREADABLE:
        pass
    certificates = pkcs7_certificates(der)
    return None if certificates is None else (certificates, "PKCS#7")


def _bundle_of_der(der: bytes, source: str) -> Bundle | None:
    found = _from_der(der)
    if found is None:
        return None
    if not found[0]:
        raise _empty_pkcs7(source)
    return Bundle(found[0], form=found[1])


def _empty_pkcs7(source: str) -> BundleError:
    return BundleError(
        f"{source} is a PKCS#7 chain that holds no certificate",
        "export the chain again with its certificates (the CA's 'Download CA certificate "
        "chain', certutil -ca.chain, or openssl crl2pkcs7 -nocrl -certfile CHAIN.pem), or give "
        "the certificate itself (.cer, .crt)",
    )


def _pkcs12(data: bytes, password: str | None, source: str) -> Bundle:
    secret = password.encode() if password else None
    if not looks_like_pkcs12(data):
        raise BundleError(
            f"{source} is not a PKCS#12 file",
            "give the .pfx exported with its private key, or the certificate itself "
            "(.cer, .crt, .p7b)",
        )
    try:
        loaded = open_pkcs12(data, secret)  # in a child process, with a time limit
    except Pkcs12TooSlow as slow:
        raise BundleError(
            f"{source}: the PKCS#12 file was not opened: {slow}; its key derivation "
            "(iteration counts) is set far beyond what any export uses",
            "export it again with the usual settings (Export-PfxCertificate, the certificate "
            "export wizard, or openssl pkcs12 -export without -iter/-maciter)",
        ) from None
    except UNREADABLE as error:
        reason = str(error).lower()
        if secret is None:
            raise BundleError(
                f"{source}: the PKCS#12 file needs a password (it does not open without one)",
                "give the password the file was exported with (--password, or "
                "LYNCPKI_PFX_PASSWORD)",
            ) from None
        if "password" in reason or "mac" in reason:
            raise BundleError(
                f"{source}: cannot open the PKCS#12 file: wrong or missing password",
                "give the password the file was exported with (--password)",
            ) from None
        raise BundleError(
            f"{source} is not a readable PKCS#12 file ({plain_reason(error)})", "export it again"
        ) from None
    if loaded.certificate is None:
        raise _incomplete(loaded, source)
    key = loaded.key
    if key is not None and not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise BundleError(
            f"{source}: the private key is of a type Lync Server does not support",
            "use RSA or EC (P-256, P-384, P-521) keys",
        )
    name = loaded.friendly_name
    return Bundle(
        [loaded.certificate, *loaded.additional],
        key,
        "PKCS#12",
        name.decode("utf-8", "replace") if name else None,
    )


def _incomplete(loaded: Opened, source: str) -> BundleError:
    """The refusal of a PKCS#12 file whose key and certificate do not make a pair (pyca gives
    the certificate of the key, and every other certificate as `additional`)."""
    count = len(loaded.additional)
    held = "a certificate" if count == 1 else f"{count} certificates"
    if loaded.key is None and count:
        return BundleError(
            f"{source}: the PKCS#12 file holds {held} but no private key",
            "export it again with its private key (Export-PfxCertificate, or 'Yes, export the "
            "private key' in the certificate export wizard); a certificate whose key is "
            "already on the server is given as .cer or .p7b",
        )
    if loaded.key is not None and count:
        return BundleError(
            f"{source}: its private key matches none of its certificates",
            "export the certificate together with its own key (on the computer that holds it)",
        )
    if loaded.key is not None:
        return BundleError(
            f"{source}: the PKCS#12 file holds a private key but no certificate",
            "export it again with its certificate",
        )
    return BundleError(f"{source}: the PKCS#12 file holds no certificate", "export it again")


def unreadable_part(cert: x509.Certificate) -> str | None:
    """What of a certificate pyca/cryptography cannot decode (names and extensions are
    decoded lazily), or None: a certificate lyncpki accepts can be read whole."""
    for part, read in (
        ("subject", lambda: cert.subject.rfc4514_string()),
        ("issuer", lambda: cert.issuer.rfc4514_string()),
        ("extensions", lambda: list(cert.extensions)),
    ):
        try:
            read()
        except UNREADABLE as error:
            return f"its {part} cannot be decoded ({plain_reason(error)})"
    return None


def _whole(bundle: Bundle, source: str) -> Bundle:
    for cert in bundle.certificates:
        problem = unreadable_part(cert)
        if problem:
            raise BundleError(
                f"{source}: a certificate in it is damaged: {problem}",
                "get the certificate again from its CA",
            )
    return bundle


def load_bundle(
    data: bytes,
    source: str,
    *,
    password: str | None = None,
    pkcs12_hint: bool = False,
    pem_keys: bool = False,
) -> Bundle:
    """Read every certificate (and a PKCS#12 key) of a file; each must be readable whole. A
    PEM private key beside the certificates is refused, unless `pem_keys` (a file only judged,
    never imported: the key is left unread, and a note says it is there)."""
    return _whole(
        _load(data, source, password=password, pkcs12_hint=pkcs12_hint, pem_keys=pem_keys),
        source,
    )


def _load(
    data: bytes,
    source: str,
    *,
    password: str | None = None,
    pkcs12_hint: bool = False,
    pem_keys: bool = False,
) -> Bundle:
    """Read every certificate (and a PKCS#12 key) of a file."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError(
            f"{source} is {len(data)} bytes, more than any certificate file "
            f"({MAX_BUNDLE_BYTES} at most)",
            "check that this is the CA's answer and not an archive",
        )
    text = text_of(data)
    if not data.strip() or (text is not None and not text.strip()):  # a byte-order mark alone
        raise BundleError(f"{source} is empty", "give the certificate file the CA returned")
    if pkcs12_hint:
        return _pkcs12(data, password, source)
    if text is not None and "-----BEGIN" in text:
        return _from_pem(text, source, pem_keys=pem_keys)
    if text is not None and _BASE64.match(text):
        try:
            der = base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            der = b""
        bundle = _bundle_of_der(der, source) if der else None
        if bundle:
            return bundle
    bundle = _bundle_of_der(data, source)
    if bundle:
        return bundle
    if text is None and looks_like_pkcs12(data):  # binary, neither certificate nor PKCS#7
        return _pkcs12(data, password, source)  # its own errors: a PFX, named or not
    raise BundleError(
        f"{source} is not a certificate, a PKCS#7 chain or a PKCS#12 file",
        "give the CA's answer (.cer/.crt/.p7b) or a .pfx with --password",
    )


UNENCRYPTED_KEY_NOTE = "the file also holds a private key that is not encrypted"


def _from_pem(text: str, source: str, *, pem_keys: bool = False) -> Bundle:
    certificates: list[x509.Certificate] = []
    forms: set[str] = set()
    notes: list[str] = []
    blocks = PEM_BLOCK.findall(text)
    if not blocks:
        raise BundleError(
            f"{source}: the PEM armor is damaged (BEGIN without a matching END)",
            "copy the file again, whole, from BEGIN to END",
        )
    for label, body in blocks:
        if "PRIVATE KEY" in label:
            encrypted = label == "ENCRYPTED PRIVATE KEY" or "Proc-Type: 4,ENCRYPTED" in body
            if pem_keys:  # judged, not imported: the key is not read
                if not encrypted and UNENCRYPTED_KEY_NOTE not in notes:
                    notes.append(UNENCRYPTED_KEY_NOTE)
                continue
            raise BundleError(
                f"{source} holds a private key" + ("" if encrypted else " in clear"),
                "import keys only inside a password-protected .pfx (PKCS#12)",
            )
        if label not in ("CERTIFICATE", "PKCS7", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"):
            continue
        try:
            der = base64.b64decode("".join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            raise BundleError(
                f"{source}: a {label} block's base64 is damaged",
                "copy the file again, whole, from BEGIN to END",
            ) from None
        found = _from_der(der)
        if found is None:
            raise BundleError(
                f"{source}: a {label} block is neither a certificate nor a PKCS#7 chain",
                "give the CA's answer unchanged",
            )
        if not found[0]:
            raise _empty_pkcs7(source)
        certificates.extend(found[0])
        forms.add(found[1])
    if not certificates:
        labels = ", ".join(sorted({label for label, _ in blocks}))
        raise BundleError(
            f"{source} holds no certificate (PEM blocks: {labels})",
            "give the CA's answer (.cer/.crt/.p7b)",
        )
    return Bundle(certificates, form="PKCS#7" if "PKCS#7" in forms else "PEM", notes=notes)


MIN_PFX_PASSWORD = 8  # characters: Windows asks none, but the .pfx carries the private key


def pfx_password_problem(password: str) -> str | None:
    """Why `password` cannot protect a .pfx written here, or None. Not the 12-character rule of
    passphrases: it is typed at a Windows import, once; but one blank or one letter protected
    the private key of a public certificate."""
    if not password.strip():
        return "a .pfx needs a password: it protects the private key it carries"
    if password != password.strip():
        return (
            "the .pfx password begins or ends with a blank (a space, a tab): Windows' import "
            "dialog and password files lose it"
        )
    if len(password) < MIN_PFX_PASSWORD:
        return (
            f"the .pfx password is shorter than {MIN_PFX_PASSWORD} characters: it protects the "
            "private key the file carries"
        )
    return None


def export_pkcs12(
    key: PrivateKey,
    certificate: x509.Certificate,
    chain: list[x509.Certificate],
    *,
    password: str,
    friendly_name: str,
    legacy: bool = False,
) -> bytes:
    """A PKCS#12 file Windows imports: the key, the certificate and its chain, protected by
    `password` with AES-256 and SHA-256 (Windows Server 2016 and later), or with `legacy` the
    3DES and SHA-1 that older Windows (2012 R2, the Lync Server 2013 era) needs."""
    if problem := pfx_password_problem(password):
        raise BundleError(
            problem,
            f"give one of {MIN_PFX_PASSWORD} characters or more with --password (or "
            "LYNCPKI_PFX_PASSWORD)",
        )
    builder = serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(50_000)
    if legacy:
        builder = builder.key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).hmac_hash(
            hashes.SHA1()
        )
    else:
        builder = builder.key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(
            hashes.SHA256()
        )
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode(), key, certificate, chain or None, builder.build(password.encode())
    )
