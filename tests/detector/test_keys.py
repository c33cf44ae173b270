"""Signing keys: certificate profile, file modes, rotation, operator keys, concurrency."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from detector.errors import DetectorError
from detector.provenance.keys import (
    SigningKeyError,
    SigningPaths,
    ensure_signing,
    import_signing,
    init_signing,
    load_signing,
)

FIXTURES = Path("/work/shared/c2pa-fixtures")


def _certs(p: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(p.read_bytes())


def test_init_signing_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sp = init_signing(tmp_path / "sig", common_name="Acme Labs")
    assert isinstance(sp, SigningPaths)
    assert (sp.chain.name, sp.key.name, sp.ca.name if sp.ca else None) == (
        "chain.pem",
        "signer.key",
        "ca.pem",
    )
    assert sp.alg == "es256"

    leaf, ca_in_chain = _certs(sp.chain)
    (ca,) = _certs(sp.ca)  # type: ignore[arg-type]
    assert ca_in_chain == ca
    assert leaf.issuer == ca.subject

    # Signer: P-256, CA:false, digitalSignature only, EKU emailProtection (C2PA 14.5).
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    assert leaf.public_key().curve.name == "secp256r1"
    bc = leaf.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca is False
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and not ku.key_cert_sign and not ku.crl_sign
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    leaf.verify_directly_issued_by(ca)
    years = (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days / 365
    assert 4.9 < years < 5.1

    # CA: CA:true, may sign certificates.
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert "Acme Labs" in leaf.subject.rfc4514_string()

    # Key: private file, matches the leaf, and nothing was printed.
    assert stat.S_IMODE(sp.key.stat().st_mode) == 0o600
    key = serialization.load_pem_private_key(sp.key.read_bytes(), password=None)
    assert key.public_key() == leaf.public_key()
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert "PRIVATE" not in repr(sp)
    # The CA private key is not kept anywhere.
    assert not any(b"PRIVATE KEY" in p.read_bytes() for p in sp.dir.iterdir() if p.is_file() and p != sp.key)


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    first = init_signing(tmp_path)
    before = first.chain.read_bytes()
    with pytest.raises(SigningKeyError):
        init_signing(tmp_path)
    assert first.chain.read_bytes() == before
    rotated = init_signing(tmp_path, force=True)
    assert rotated.chain.read_bytes() != before
    assert issubclass(SigningKeyError, DetectorError)


def test_ensure_signing_creates_once(tmp_path: Path) -> None:
    d = tmp_path / "nested" / "signing"
    a = ensure_signing(d)
    b = ensure_signing(d)
    assert a == b
    assert a.chain.read_bytes() == b.chain.read_bytes()


def test_ensure_signing_concurrent_callers_agree(tmp_path: Path) -> None:
    d = tmp_path / "sig"
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            sp = ensure_signing(d)
            results.append(sp.chain.read_bytes() + sp.key.read_bytes())
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 1


def test_load_operator_chain_and_key(tmp_path: Path) -> None:
    if not FIXTURES.is_dir():
        pytest.skip("C2PA fixtures missing")
    sp = load_signing(tmp_path, cert=FIXTURES / "es256_certs.pem", key=FIXTURES / "es256_private.key")
    assert sp.alg == "es256"
    assert sp.ca is None
    assert sp.chain == FIXTURES / "es256_certs.pem"


def test_load_rejects_mismatched_or_missing(tmp_path: Path) -> None:
    a = init_signing(tmp_path / "a")
    b = init_signing(tmp_path / "b")
    with pytest.raises(SigningKeyError, match="does not match"):
        load_signing(tmp_path, cert=a.chain, key=b.key)
    with pytest.raises(SigningKeyError, match="not found"):
        load_signing(tmp_path / "empty")
    garbage = tmp_path / "bad.key"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nnotakey\n-----END PRIVATE KEY-----\n")
    with pytest.raises(SigningKeyError) as info:
        load_signing(tmp_path, cert=a.chain, key=garbage)
    assert "notakey" not in str(info.value)


def test_import_operator_material(tmp_path: Path) -> None:
    if not FIXTURES.is_dir():
        pytest.skip("C2PA fixtures missing")
    d = tmp_path / "sig"
    init_signing(d)
    with pytest.raises(SigningKeyError, match="already exists"):
        import_signing(d, cert=FIXTURES / "es256_certs.pem", key=FIXTURES / "es256_private.key")
    sp = import_signing(d, cert=FIXTURES / "es256_certs.pem", key=FIXTURES / "es256_private.key", force=True)
    assert sp.chain == d / "chain.pem" and sp.key == d / "signer.key"
    assert sp.ca is None and not (d / "ca.pem").exists()  # the old CA no longer applies
    assert stat.S_IMODE(sp.key.stat().st_mode) == 0o600
    assert sp.chain.read_bytes() == (FIXTURES / "es256_certs.pem").read_bytes()
    assert load_signing(d) == sp
