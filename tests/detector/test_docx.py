"""Text in a signed Word container: writing, reading, signing (also deflated, as Word saves it),
tamper detection, and scanning a .docx through the real pipeline."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from detector.docx import DOCX_MIME, docx_bytes, read_docx_text, stored_zip
from detector.errors import DecodeError, UnsupportedMediaError
from detector.media import load_text, sniff, sniff_bytes
from detector.pipeline import analyze
from detector.provenance.c2pa import read_c2pa, read_c2pa_bytes
from detector.provenance.keys import SigningPaths, init_signing
from detector.provenance.sign import SigningError, sign_bytes
from tests.conftest import make_settings

TEXT = "The harbour lights <flickered> & faded.\n  Then a second line, with spaces  \nand a third"


@pytest.fixture(scope="module")
def signing(tmp_path_factory: pytest.TempPathFactory) -> SigningPaths:
    return init_signing(tmp_path_factory.mktemp("signing"), common_name="provscan-test")


def _deflated(data: bytes) -> bytes:
    """The same document as Word would write it: every part deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    return out.getvalue()


def test_docx_round_trip_is_exact_and_deterministic(tmp_path: Path) -> None:
    data = docx_bytes(TEXT)
    assert data == docx_bytes(TEXT)  # datasets are reproducible by hash
    p = tmp_path / "a.docx"
    p.write_bytes(data)
    assert read_docx_text(p) == TEXT
    assert load_text(p) == TEXT
    item = sniff(p)
    assert (item.media_type, item.mime) == ("text", DOCX_MIME)
    assert sniff_bytes(data[:4096]) == ("text", DOCX_MIME)


def test_sign_docx_including_a_deflated_one(tmp_path: Path, signing: SigningPaths) -> None:
    for src in (docx_bytes(TEXT), _deflated(docx_bytes(TEXT))):
        signed = sign_bytes(src, signing_dir=signing, title="story.docx")
        r = read_c2pa_bytes(signed, mime=DOCX_MIME, trust_anchors=signing.ca)
        assert r.state == "Trusted", r
        assert r.digital_source_type.endswith("trainedAlgorithmicMedia")
        p = tmp_path / "s.docx"
        p.write_bytes(signed)
        assert read_docx_text(p) == TEXT
        # Without a format hint the reader still finds it (ZIPs are sniffed by content).
        assert read_c2pa(p, trust_anchors=signing.ca).state == "Trusted"


def test_editing_the_text_after_signing_is_detected(tmp_path: Path, signing: SigningPaths) -> None:
    signed = sign_bytes(docx_bytes(TEXT), signing_dir=signing)
    # Stored members keep the XML as plain bytes: change one word of the same length.
    tampered = signed.replace(b"harbour", b"harboux")
    assert tampered != signed
    r = read_c2pa_bytes(tampered, mime=DOCX_MIME, trust_anchors=signing.ca)
    assert r.present and r.state == "Invalid", r


def test_scan_signed_docx_reads_manifest_and_runs_text_detectors(tmp_path: Path, signing: SigningPaths) -> None:
    settings = make_settings(tmp_path)
    p = tmp_path / "story.docx"
    p.write_bytes(sign_bytes(docx_bytes(TEXT * 5), signing_dir=signing))
    rep = analyze(p, settings=settings)
    assert rep.status == "done" and rep.media_type == "text"
    assert rep.provenance["c2pa"]["present"] and rep.provenance["c2pa"]["state"] == "Valid"
    assert rep.verdict.label == "synthetic"  # a valid manifest declaring trainedAlgorithmicMedia
    assert {f.name for f in rep.detectors} >= {"text-lm-logreg"}
    assert any(w["scheme"] == "provscan-text" for w in rep.provenance["watermarks"])


def test_bad_archives_are_clear_errors(tmp_path: Path, signing: SigningPaths) -> None:
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("readme.txt", "not a document")
    p = tmp_path / "x.zip"
    p.write_bytes(z.getvalue())
    with pytest.raises(UnsupportedMediaError, match="ZIP archives are not analysed"):
        sniff(p)
    rep = analyze(p, settings=make_settings(tmp_path))
    assert rep.status == "error" and "ZIP" in rep.error

    # A document.xml with an entity declaration (billion-laughs shape) is refused, not parsed.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w") as f:
        f.writestr("[Content_Types].xml", "<Types/>")
        f.writestr("word/document.xml", '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><d>&a;</d>')
    q = tmp_path / "bomb.docx"
    q.write_bytes(bomb.getvalue())
    with pytest.raises(DecodeError, match="DTD"):
        read_docx_text(q)
    rep = analyze(q, settings=make_settings(tmp_path))
    assert rep.status == "error" and "DTD" in rep.error

    truncated = tmp_path / "cut.docx"
    truncated.write_bytes(docx_bytes(TEXT)[:200])
    rep = analyze(truncated, settings=make_settings(tmp_path))
    assert rep.status == "error"

    with pytest.raises(DecodeError):
        stored_zip(b"PK\x03\x04 not really a zip")
    with pytest.raises(SigningError):
        sign_bytes(b"PK\x03\x04 not really a zip" + b"word/" * 3, signing_dir=signing)
