"""Private keys: generated from a KeySpec, encrypted at rest as PKCS#8, described back."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)

from lyncpki.errors import LyncPkiError
from lyncpki.keyspec import KeySpec
from lyncpki.passphrase import forms, normalized

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
CURVES: dict[int, type[ec.EllipticCurve]] = {
    256: ec.SECP256R1,
    384: ec.SECP384R1,
    521: ec.SECP521R1,
}
CURVE_SIZES: dict[str, int] = {cls().name: size for size, cls in CURVES.items()}


def generate_key(spec: KeySpec) -> PrivateKey:
    """A new private key of the given type."""
    if spec.algorithm == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=spec.size)
    return ec.generate_private_key(CURVES[spec.size]())


def spec_of(key: CertificatePublicKeyTypes | CertificateIssuerPrivateKeyTypes) -> KeySpec | None:
    """The KeySpec of a public or private key, or None for a type Lync does not support."""
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return KeySpec("rsa", key.key_size)
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        size = CURVE_SIZES.get(key.curve.name)
        return KeySpec("ec", size) if size else None
    return None


def describe(key: CertificatePublicKeyTypes) -> str:
    """`RSA 2048`, `EC P-256`, or the key's type name when unsupported."""
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return type(key).__name__.removesuffix("PublicKey")
    return type(key).__name__


def encrypt_key(key: PrivateKey, passphrase: bytes) -> bytes:
    """PKCS#8 PEM encrypted with the passphrase (never written in clear)."""
    if not passphrase:
        raise LyncPkiError("an empty passphrase cannot protect a private key", "set a passphrase")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(normalized(passphrase)),
    )


CA_PASSPHRASE_FIX = "check LYNCPKI_CA_PASSPHRASE (or --passphrase-file) for this home"


def decrypt_key(
    data: bytes,
    passphrase: bytes,
    *,
    what: str,
    ours: bool = False,
    fix: str = CA_PASSPHRASE_FIX,
) -> PrivateKey:
    """Load an encrypted PKCS#8 key; a wrong passphrase is a clear error.

    `ours`: a key lyncpki generated and stored itself, encrypted (a server store's): its RSA
    consistency check (about 40 ms for 2048 bits, all of the cost) is skipped, as
    pyca/cryptography allows for keys known to be good. Keys from outside are always checked.
    `fix`: where the passphrase comes from (the CA's, unless told)."""
    key = None
    for form in forms(passphrase):  # NFC, then as given (a key made before NFC was used)
        try:
            key = serialization.load_pem_private_key(
                data, password=form, unsafe_skip_rsa_key_validation=ours
            )
            break
        except (ValueError, TypeError):
            continue
    if key is None:
        raise LyncPkiError(
            f"cannot open the private key of {what}: wrong passphrase or damaged key file", fix
        )
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise LyncPkiError(f"the key of {what} is of an unsupported type", "use RSA or EC keys")
    return key


def key_id(key: CertificatePublicKeyTypes | PrivateKey) -> str:
    """A stable name of a key pair: SHA-256 of its SubjectPublicKeyInfo, 40 hex digits. A
    request's key and the certificate issued for it have the same id."""
    public = (
        key.public_key() if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) else key
    )
    spki = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashes.Hash(hashes.SHA256())
    digest.update(spki)
    return digest.finalize().hex()[:40]


def ca_hash_name(key: PrivateKey) -> str:
    """The hash a CA signs with by default: SHA-384 for a P-384 or P-521 key (RFC 5480 pairs
    the curve with a hash of its strength), SHA-256 otherwise."""
    big = isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384
    return "sha384" if big else "sha256"
