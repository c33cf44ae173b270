"""Sign generated media with provscan's keys, then read it back with read_c2pa (real c2pa both ways)."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import c2pa
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from detector.errors import DetectorError
from detector.provenance.c2pa import read_c2pa, read_c2pa_bytes
from detector.provenance.keys import SigningPaths, init_signing, load_signing
from detector.provenance.sign import (
    TRAINED_ALGORITHMIC_MEDIA,
    SigningError,
    sign_bytes,
    sign_file,
)

FIXTURES = Path("/work/shared/c2pa-fixtures")
UNTRUSTED = "signingCredential.untrusted"
MISMATCH = "assertion.dataHash.mismatch"


@pytest.fixture(scope="module")
def signing(tmp_path_factory: pytest.TempPathFactory) -> SigningPaths:
    return init_signing(tmp_path_factory.mktemp("signing"), common_name="provscan-test")


def _png(rng: np.random.Generator) -> bytes:
    buf = io.BytesIO()
    Image.fromarray((rng.random((48, 64, 3)) * 255).astype("uint8")).save(buf, "PNG")
    return buf.getvalue()


def _jpeg(rng: np.random.Generator) -> bytes:
    buf = io.BytesIO()
    Image.fromarray((rng.random((48, 64, 3)) * 255).astype("uint8")).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _audio(rng: np.random.Generator, fmt: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, (rng.standard_normal(8000) * 0.1).astype("float32"), 16000, format=fmt)
    return buf.getvalue()


MAKERS = {
    "image/png": _png,
    "image/jpeg": _jpeg,
    "audio/wav": lambda rng: _audio(rng, "WAV"),
    "audio/flac": lambda rng: _audio(rng, "FLAC"),
    "audio/mpeg": lambda rng: _audio(rng, "MP3"),
}


def _tamper(data: bytes, mime: str) -> bytes:
    """Change one byte of the media payload (pixels / samples), leaving the manifest alone."""
    b = bytearray(data)
    if mime == "image/png":
        # Flip a byte inside the first IDAT and fix that chunk's CRC so the PNG stays well-formed.
        pos = b.find(b"IDAT")
        (length,) = struct.unpack(">I", b[pos - 4 : pos])
        b[pos + 4 + length // 2] ^= 0x01
        crc = zlib.crc32(bytes(b[pos : pos + 4 + length])) & 0xFFFFFFFF
        b[pos + 4 + length : pos + 8 + length] = struct.pack(">I", crc)
    elif mime == "image/jpeg":
        # Entropy-coded scan data: just before the final EOI marker, avoiding 0xFF bytes.
        i = len(b) - 20
        while b[i] in (0xFF, 0xFE):
            i -= 1
        b[i] ^= 0x01
    elif mime == "audio/wav":
        pos = b.find(b"data")
        b[pos + 8 + 200] ^= 0x01
    else:  # FLAC / MP3: a byte in the last audio frames
        b[-40] ^= 0x01
    return bytes(b)


@pytest.mark.parametrize("mime", list(MAKERS))
def test_sign_then_read_trusted_and_untrusted(mime: str, signing: SigningPaths) -> None:
    rng = np.random.default_rng(7)
    data = MAKERS[mime](rng)
    signed = sign_bytes(data, mime, signing_dir=signing, title="item-1")
    assert signed != data

    trusted = read_c2pa_bytes(signed, trust_anchors=signing.ca)
    assert trusted.state == "Trusted", trusted
    assert trusted.failures == []
    assert trusted.signer == "provscan-test"
    assert trusted.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert trusted.claim_generator[0] == "provscan/0.1.0"
    (created,) = trusted.actions
    assert created["action"] == "c2pa.created"
    assert created["softwareAgent"] == "provscan 0.1.0"
    assert created["when"]

    plain = read_c2pa_bytes(signed)
    assert plain.state == "Valid"
    assert UNTRUSTED in plain.failures


@pytest.mark.parametrize("mime", ["image/png", "image/jpeg", "audio/wav"])
def test_tampering_after_signing_is_invalid(mime: str, signing: SigningPaths) -> None:
    rng = np.random.default_rng(11)
    signed = sign_bytes(MAKERS[mime](rng), mime, signing_dir=signing)
    assert read_c2pa_bytes(signed, trust_anchors=signing.ca).state == "Trusted"
    tampered = read_c2pa_bytes(_tamper(signed, mime), trust_anchors=signing.ca)
    assert tampered.present
    assert tampered.state == "Invalid"
    assert MISMATCH in tampered.failures
    assert tampered.explanation == "Content changed after signing (data hash mismatch)."


def test_sign_file_with_soft_binding_and_extra_assertion(tmp_path: Path, signing: SigningPaths) -> None:
    src = tmp_path / "gen.png"
    src.write_bytes(_png(np.random.default_rng(3)))
    dst = sign_file(
        src,
        tmp_path / "out" / "gen-signed.png",
        signing_dir=signing.dir,
        digital_source_type="http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic",
        generator="provscan-gen",
        generator_version="9.9",
        soft_binding={"alg": "com.provscan.watermark.image", "value": "a1b2c3"},
        extra_assertions=[{"label": "com.provscan.label", "data": {"split": "train"}}],
    )
    got = read_c2pa(dst, trust_anchors=signing.ca)
    assert got.state == "Trusted"
    assert got.digital_source_type.endswith("/compositeSynthetic")
    assert got.claim_generator[0] == "provscan-gen/9.9"

    # The soft binding and the extra assertion are in the manifest, as c2pa itself reads them.
    with c2pa.Reader(str(dst)) as reader:
        store = json.loads(reader.json())
    active = store["manifests"][store["active_manifest"]]
    by_label = {a["label"]: a["data"] for a in active["assertions"]}
    sb = by_label["c2pa.soft-binding"]
    assert sb["alg"] == "com.provscan.watermark.image"
    assert sb["blocks"][0]["value"] == "a1b2c3"
    assert by_label["com.provscan.label"] == {"split": "train"}
    assert active["title"] == "gen-signed.png"


def test_sign_file_in_place(tmp_path: Path, signing: SigningPaths) -> None:
    p = tmp_path / "voice.wav"
    p.write_bytes(_audio(np.random.default_rng(5), "WAV"))
    sign_file(p, p, signing_dir=signing)
    assert read_c2pa(p, trust_anchors=signing.ca).state == "Trusted"
    assert [q.name for q in tmp_path.iterdir()] == ["voice.wav"]  # no temp file left behind
    # The audio still decodes to the same samples.
    samples, sr = sf.read(p)
    assert sr == 16000 and len(samples) == 8000


def test_operator_chain_is_used(tmp_path: Path) -> None:
    if not FIXTURES.is_dir():
        pytest.skip("C2PA fixtures missing")
    sp = load_signing(tmp_path, cert=FIXTURES / "es256_certs.pem", key=FIXTURES / "es256_private.key")
    signed = sign_bytes(_jpeg(np.random.default_rng(1)), signing_dir=sp)
    got = read_c2pa_bytes(signed, trust_anchors=FIXTURES / "es256_certs.pem")
    assert got.state == "Trusted"
    assert got.signer == "C2PA Test Signing Cert"


def test_unsupported_formats_raise_signing_error(tmp_path: Path, signing: SigningPaths) -> None:
    assert issubclass(SigningError, DetectorError)
    with pytest.raises(SigningError, match="text/plain"):
        sign_bytes(b"a plain text paragraph, which C2PA cannot embed into\n", signing_dir=signing)
    ogg = io.BytesIO()
    sf.write(ogg, np.zeros(4000, dtype="float32"), 16000, format="OGG")
    with pytest.raises(SigningError, match="audio/ogg"):
        sign_bytes(ogg.getvalue(), signing_dir=signing)
    with pytest.raises(SigningError):
        sign_bytes(b"", signing_dir=signing)
    with pytest.raises(SigningError, match="not found"):
        sign_bytes(_png(np.random.default_rng(0)), signing_dir=tmp_path / "no-keys")
    # A format c2pa supports but bytes that are not that format: a clean SigningError.
    with pytest.raises(SigningError):
        sign_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, signing_dir=signing)
