"""Signing keys for C2PA manifests: a local ES256 CA + end-entity certificate, or the operator's own.

``init_signing`` makes a private CA (``ca.pem``) and a signer certificate issued by it
(``chain.pem`` = signer cert + CA cert, ``signer.key`` mode 0600). Readers that add ``ca.pem`` to
their trust anchors see provscan's manifests as "Trusted"; everyone else sees "Valid" with
``signingCredential.untrusted``, which is the honest outcome for a self-run CA.

The CA's private key is used once, to issue the signer certificate, and then discarded: nothing
can issue further certificates from a stolen data dir. Re-run ``init_signing(force=True)`` to rotate.

The certificate profile follows C2PA 2.x section 14.5 (what c2pa-rs checks): X.509 v3, ECDSA
P-256/SHA-256, signer ``basicConstraints CA:false``, ``keyUsage digitalSignature`` (critical),
``extendedKeyUsage emailProtection`` (no anyExtendedKeyUsage), subject/authority key identifiers.
Private keys are never logged or printed; ``SigningPaths`` holds paths only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from detector.errors import DetectorError

__all__ = [
    "SigningKeyError",
    "SigningPaths",
    "ensure_signing",
    "import_signing",
    "init_signing",
    "load_signing",
]

CA_FILE = "ca.pem"
CHAIN_FILE = "chain.pem"
KEY_FILE = "signer.key"


class SigningKeyError(DetectorError):
    """Signing material is missing, unreadable, mismatched or of an unsupported kind."""


@dataclass(frozen=True)
class SigningPaths:
    """Where the signing material is, and the c2pa algorithm name its key implies.

    Attributes:
        dir: The signing directory.
        chain: PEM certificate chain, signer certificate first.
        key: PEM private key of the signer (PKCS#8).
        ca: PEM of the CA to give readers as a trust anchor (None for an operator's chain
            without a separate CA file).
        alg: c2pa signing algorithm: ``es256``, ``es384``, ``es512``, ``ps256`` or ``ed25519``.
    """

    dir: Path
    chain: Path
    key: Path
    ca: Path | None
    alg: str


def _name(common_name: str, suffix: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, common_name),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{common_name} {suffix}"),
        ]
    )


def _write_private(path: Path, data: bytes) -> None:
    # Created 0600 from the start (no window where the key is world-readable), then renamed
    # into place so a concurrent reader never sees half a key.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_public(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _dir_lock(dest_dir: Path) -> Iterator[None]:
    """Serialise key creation between processes (several workers may start at once)."""
    import fcntl

    with open(dest_dir / ".lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def init_signing(
    dest_dir: str | Path,
    *,
    common_name: str = "provscan",
    force: bool = False,
    years: int = 5,
) -> SigningPaths:
    """Create a local ES256 CA and a signer certificate issued by it.

    Args:
        dest_dir: Directory for ``ca.pem``, ``chain.pem`` and ``signer.key`` (created 0700).
        common_name: Organisation shown as the signer in Content Credentials viewers.
        force: Replace existing material (rotation). Without it, existing files are an error.
        years: Validity of the signer certificate; the CA gets twice as long.

    Returns:
        The paths of the new material.

    Raises:
        SigningKeyError: Material already exists and ``force`` is False.
    """
    dest = Path(dest_dir).expanduser().resolve()
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _dir_lock(dest):
        return _init_locked(dest, common_name=common_name, force=force, years=years)


def _init_locked(dest: Path, *, common_name: str, force: bool, years: int) -> SigningPaths:
    existing = [dest / f for f in (CA_FILE, CHAIN_FILE, KEY_FILE) if (dest / f).exists()]
    if existing and not force:
        raise SigningKeyError(
            f"signing material already exists in {dest} ({', '.join(p.name for p in existing)}); "
            "pass force=True to replace it"
        )
    if years < 1:
        raise SigningKeyError("years must be at least 1")

    now = dt.datetime.now(dt.UTC)
    # Backdated a little so a signer whose clock lags slightly still accepts it.
    start = now - dt.timedelta(hours=1)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(common_name, "Root CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + dt.timedelta(days=365 * years * 2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, "C2PA Signer"))
        .issuer_name(ca_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    del ca_key  # never stored: see the module docstring

    pem = serialization.Encoding.PEM
    ca_pem = ca_cert.public_bytes(pem)
    # Key first, then certificates: a crash in between leaves no chain without its key.
    _write_private(
        dest / KEY_FILE,
        signer_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    _write_public(dest / CHAIN_FILE, signer_cert.public_bytes(pem) + ca_pem)
    _write_public(dest / CA_FILE, ca_pem)
    return SigningPaths(
        dir=dest, chain=dest / CHAIN_FILE, key=dest / KEY_FILE, ca=dest / CA_FILE, alg="es256"
    )


def _alg_for(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algs = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in algs:
            return algs[key.curve.name]
        raise SigningKeyError(f"unsupported EC curve {key.curve.name} (C2PA allows P-256/384/521)")
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        # C2PA forbids RSA PKCS#1 v1.5 signatures; RSA keys sign with PSS.
        return "ps256"
    raise SigningKeyError(f"unsupported private key type {type(key).__name__}")


def load_signing(
    signing_dir: str | Path,
    *,
    cert: str | Path | None = None,
    key: str | Path | None = None,
    ca: str | Path | None = None,
) -> SigningPaths:
    """Load and check signing material: provscan's own, or an operator's chain and key.

    Args:
        signing_dir: Directory holding ``chain.pem`` / ``signer.key`` / ``ca.pem``.
        cert: PEM chain (signer first) to use instead of ``signing_dir/chain.pem``.
        key: PEM private key to use instead of ``signing_dir/signer.key``.
        ca: PEM CA certificate (only used to tell readers what to trust).

    Returns:
        The checked paths and the algorithm the key implies.

    Raises:
        SigningKeyError: Missing files, unreadable key, or key and certificate do not match.
    """
    d = Path(signing_dir).expanduser().resolve()
    chain_p = Path(cert).expanduser().resolve() if cert else d / CHAIN_FILE
    key_p = Path(key).expanduser().resolve() if key else d / KEY_FILE
    if ca:
        ca_p: Path | None = Path(ca).expanduser().resolve()
    elif not cert and (d / CA_FILE).exists():
        ca_p = d / CA_FILE
    else:
        ca_p = None
    for p in (chain_p, key_p) + ((ca_p,) if ca_p else ()):
        if not p.is_file():
            raise SigningKeyError(f"signing file not found: {p}")
    try:
        certs = x509.load_pem_x509_certificates(chain_p.read_bytes())
    except ValueError as exc:
        raise SigningKeyError(f"{chain_p} is not a PEM certificate chain: {exc}") from None
    try:
        private = serialization.load_pem_private_key(key_p.read_bytes(), password=None)
    except (ValueError, TypeError):
        # The exception text may quote key material: never pass it on.
        raise SigningKeyError(
            f"{key_p} is not an unencrypted PEM private key (encrypted keys are not supported)"
        ) from None
    alg = _alg_for(private)
    leaf_pub = (
        certs[0]
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    key_pub = private.public_key().public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if leaf_pub != key_pub:
        raise SigningKeyError(f"{key_p} does not match the first certificate in {chain_p}")
    return SigningPaths(dir=d, chain=chain_p, key=key_p, ca=ca_p, alg=alg)


def import_signing(
    dest_dir: str | Path,
    *,
    cert: str | Path,
    key: str | Path,
    ca: str | Path | None = None,
    force: bool = False,
) -> SigningPaths:
    """Install an operator's own chain and key as provscan's signing material.

    Checks them (``load_signing``), then copies them to ``dest_dir/chain.pem`` and
    ``dest_dir/signer.key`` (0600), and ``ca`` to ``ca.pem`` when given, so every later
    ``sign_file(signing_dir=dest_dir)`` uses them. This is what ``provscan keys init-signing
    --cert chain.pem --key key.pem`` does.

    Raises:
        SigningKeyError: The material does not check out, or ``dest_dir`` already has material
            and ``force`` is False.
    """
    checked = load_signing(dest_dir, cert=cert, key=key, ca=ca)
    dest = Path(dest_dir).expanduser().resolve()
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _dir_lock(dest):
        existing = [dest / f for f in (CA_FILE, CHAIN_FILE, KEY_FILE) if (dest / f).exists()]
        if existing and not force:
            raise SigningKeyError(f"signing material already exists in {dest}; pass force=True to replace it")
        _write_private(dest / KEY_FILE, checked.key.read_bytes())
        _write_public(dest / CHAIN_FILE, checked.chain.read_bytes())
        if checked.ca is not None:
            _write_public(dest / CA_FILE, checked.ca.read_bytes())
        elif (dest / CA_FILE).exists():
            # A CA left from provscan's own keys would not match the operator's chain.
            (dest / CA_FILE).unlink()
    return load_signing(dest)


def ensure_signing(signing_dir: str | Path, *, common_name: str = "provscan") -> SigningPaths:
    """Load provscan's signing material from ``signing_dir``, creating it on first use.

    Safe when several processes call it at once: creation happens under a file lock, and the
    losers load what the winner wrote.
    """
    d = Path(signing_dir).expanduser().resolve()
    if (d / CHAIN_FILE).is_file() and (d / KEY_FILE).is_file():
        return load_signing(d)
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _dir_lock(d):
        if not ((d / CHAIN_FILE).is_file() and (d / KEY_FILE).is_file()):
            _init_locked(d, common_name=common_name, force=True, years=5)
    return load_signing(d)
