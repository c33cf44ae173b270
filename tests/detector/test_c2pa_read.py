"""Conformance of read_c2pa with the C2PA reference library on the shared fixtures."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import c2pa
import pytest

from detector.provenance.c2pa import read_c2pa, read_c2pa_bytes
from detector.types import C2PAResult, to_jsonable

FIXTURES = Path(os.environ.get("PROVSCAN_C2PA_FIXTURES", "/work/shared/c2pa-fixtures"))
_NOT_MEDIA = {".pem", ".key"}
MEDIA = (
    sorted(
        p.name
        for p in FIXTURES.iterdir()
        if p.is_file() and p.suffix.lower() not in _NOT_MEDIA and not p.name.startswith("LICENSE")
    )
    if FIXTURES.is_dir()
    else []
)
ANCHORS = FIXTURES / "es256_certs.pem"

pytestmark = pytest.mark.skipif(not MEDIA, reason=f"C2PA fixtures not found in {FIXTURES}")

UNTRUSTED = "signingCredential.untrusted"


def reference(path: Path, settings: dict | None = None) -> dict:
    """What c2pa.Reader itself says, straight from its JSON (no provscan code involved)."""
    # Remote manifests are never fetched in tests (offline, and read_c2pa's default).
    config = {"verify": {"remote_manifest_fetch": False}, **(settings or {})}
    ctx = c2pa.Context.from_dict(config)
    try:
        with c2pa.Reader(str(path), context=ctx) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError.ManifestNotFound:
        return {"kind": "none"}
    except c2pa.C2paError as exc:
        return {"kind": "error", "message": str(exc)}
    codes = [s["code"] for s in store.get("validation_status", [])]
    return {
        "kind": "manifest",
        "state": store.get("validation_state"),
        "failures": list(dict.fromkeys(codes)),
        "active_failures": [f["code"] for f in store["validation_results"]["activeManifest"]["failure"]],
        "store": store,
    }


@pytest.mark.parametrize("name", MEDIA)
def test_matches_reference_library(name: str) -> None:
    path = FIXTURES / name
    ref = reference(path)
    got = read_c2pa(path)
    assert isinstance(got, C2PAResult)
    json.dumps(to_jsonable(got))  # the report must serialise
    if ref["kind"] == "none":
        assert got.present is False
        assert got.error is None
        assert got.state is None and got.failures == []
    elif ref["kind"] == "error":
        assert got.state is None
        assert got.failures == []
        assert got.error
    else:
        assert got.present is True
        assert got.error is None
        assert got.state == ref["state"]
        assert got.failures == ref["failures"]
        # Every active-manifest failure is among the reported ones.
        assert set(ref["active_failures"]) <= set(got.failures)
        active = ref["store"]["manifests"][ref["store"]["active_manifest"]]
        sig = active.get("signature_info", {})
        assert got.signer == (sig.get("issuer") or sig.get("common_name"))
        assert got.explanation


@pytest.mark.parametrize("name", MEDIA)
def test_matches_reference_with_trust_anchors(name: str) -> None:
    path = FIXTURES / name
    ref = reference(path, {"trust": {"trust_anchors": ANCHORS.read_text()}})
    got = read_c2pa(path, trust_anchors=ANCHORS)
    if ref["kind"] == "manifest":
        assert (got.state, got.failures) == (ref["state"], ref["failures"])
    else:
        assert got.state is None


def test_unsigned_jpeg_has_no_manifest() -> None:
    # A.jpg is the plain JPEG the other fixtures were built from: no JUMBF at all.
    got = read_c2pa(FIXTURES / "A.jpg")
    assert got == C2PAResult(present=False, explanation="No C2PA manifest.")


def test_tampered_pixels_is_invalid_data_hash() -> None:
    got = read_c2pa(FIXTURES / "XCA.jpg")
    assert got.present and got.state == "Invalid"
    assert "assertion.dataHash.mismatch" in got.failures
    assert "changed after signing" in (got.explanation or "")


@pytest.mark.parametrize("name", ["E-sig-CA.jpg", "CIE-sig-CA.jpg"])
def test_bad_claim_signature_is_invalid(name: str) -> None:
    got = read_c2pa(FIXTURES / name)
    assert got.state == "Invalid"
    assert "claimSignature.mismatch" in got.failures


def test_ingredient_failure_is_attributed_to_the_ingredient() -> None:
    # CIE-sig-CA.jpg's own signature is fine; its ingredient E-sig-CA.jpg is the broken one.
    got = read_c2pa(FIXTURES / "CIE-sig-CA.jpg")
    assert "ingredient" in (got.explanation or "")
    (ing,) = got.ingredients
    assert ing["title"] == "E-sig-CA.jpg"
    assert ing["validation_state"] == "Invalid"
    assert "claimSignature.mismatch" in ing["failures"]
    assert ing["relationship"] == "componentOf"


def test_valid_untrusted_by_default_and_trusted_with_anchors() -> None:
    wav = FIXTURES / "sample1_signed.wav"
    plain = read_c2pa(wav)
    assert plain.state == "Valid" and plain.failures == [UNTRUSTED]
    assert "not in the trust list" in (plain.explanation or "")
    trusted = read_c2pa(wav, trust_anchors=ANCHORS)
    assert trusted.state == "Trusted" and trusted.failures == []
    assert trusted.signer == "C2PA Test Signing Cert"
    assert trusted.explanation == "Signed by C2PA Test Signing Cert; content unchanged since signing."
    assert trusted.digital_source_type == "http://c2pa.org/digitalsourcetype/empty"
    assert trusted.claim_generator == ["c2pa-c test/0.2"]


def _unrelated_ca_pem() -> bytes:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Unrelated CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def test_anchors_file_change_is_picked_up(tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(_unrelated_ca_pem())
    wav = FIXTURES / "sample1_signed.wav"
    before = read_c2pa(wav, trust_anchors=anchors)
    assert before.state == "Valid" and UNTRUSTED in before.failures
    # Replace the file in place (same path): the cached context must be rebuilt.
    anchors.write_bytes(ANCHORS.read_bytes())
    st = anchors.stat()
    os.utime(anchors, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    after = read_c2pa(wav, trust_anchors=anchors)
    assert after.state == "Trusted" and after.failures == []


def test_actions_and_digital_source_type() -> None:
    got = read_c2pa(FIXTURES / "CACAE-uri-CA.jpg")
    assert got.digital_source_type == "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"
    assert [a["action"] for a in got.actions] == ["c2pa.created", "c2pa.placed", "c2pa.resized"]
    assert got.actions[0]["softwareAgent"] == "Make Test Images 0.36.0"
    assert got.claim_generator == ["make_test_images/0.36.0", "c2pa-rs/0.36.0"]


def test_pdf_generative_ai_source_type() -> None:
    got = read_c2pa(FIXTURES / "pdf-file.pdf")
    assert got.state == "Valid"
    assert got.digital_source_type == (
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    )


def test_remote_manifest_not_fetched() -> None:
    got = read_c2pa(FIXTURES / "cloud.jpg")
    assert got.present is True
    assert got.state is None
    assert got.remote_url and got.remote_url.startswith("https://cai-manifests.adobe.com/manifests/")
    assert got.error and got.remote_url in got.error and "could not be fetched" in got.error


def test_extensionless_copy_with_and_without_mime(tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    shutil.copy(FIXTURES / "XCA.jpg", blob)
    assert read_c2pa(blob).failures == read_c2pa(FIXTURES / "XCA.jpg").failures
    # A wrong hint must not change the verdict: c2pa trusts the bytes.
    assert read_c2pa(blob, mime="audio/wav").state == "Invalid"


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00" * 64, os.urandom(4096), b"\xff\xd8\xff\xe0" + os.urandom(300)],
    ids=["empty", "zeros", "random", "jpeg-header-garbage"],
)
def test_bad_bytes_never_raise(data: bytes) -> None:
    got = read_c2pa_bytes(data)
    assert got.present is False
    assert got.error


def test_truncated_signed_jpeg_never_raises(tmp_path: Path) -> None:
    data = (FIXTURES / "CA.jpg").read_bytes()
    for cut in (100, 5_000, 40_000, len(data) - 100):
        p = tmp_path / f"cut{cut}.jpg"
        p.write_bytes(data[:cut])
        got = read_c2pa(p)
        # Either unreadable (error) or read and judged; never an exception, never "Valid".
        assert got.error or got.state == "Invalid", (cut, got)


def test_missing_file_and_bad_anchors(tmp_path: Path) -> None:
    assert read_c2pa(tmp_path / "nope.jpg").error
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    got = read_c2pa(FIXTURES / "CA.jpg", trust_anchors=bad)
    # Still validated (signature, hashes), with the configuration problem reported.
    assert got.state == "Valid"
    assert got.error and "trust anchors" in got.error


def test_concurrent_reads_agree() -> None:
    names = [n for n in MEDIA if n != "cloud.jpg"]
    expected = {n: read_c2pa(FIXTURES / n, trust_anchors=ANCHORS) for n in names}
    errors: list[str] = []

    def work() -> None:
        for n in names * 3:
            if read_c2pa(FIXTURES / n, trust_anchors=ANCHORS) != expected[n]:
                errors.append(n)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_allowed_list_is_passed_to_c2pa(tmp_path: Path) -> None:
    # Whatever c2pa makes of an allowed end-entity list, read_c2pa reports the same.
    leaf = ANCHORS.read_text().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
    allowed = tmp_path / "allowed.pem"
    allowed.write_text(leaf)
    wav = FIXTURES / "sample1_signed.wav"
    ref = reference(wav, {"trust": {"allowed_list": leaf}})
    got = read_c2pa(wav, allowed_list=allowed)
    assert got.error is None
    assert (got.state, got.failures) == (ref["state"], ref["failures"])
