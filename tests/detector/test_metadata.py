"""read_metadata: EXIF / XMP / PNG text chunks / audio, generator hints, never raising."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf
from PIL import Image, PngImagePlugin

from detector.provenance.metadata import read_metadata

A1111 = "a cat in a hat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512"


def test_png_parameters_chunk(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111)
    info.add_text("workflow", json.dumps({"nodes": [{"id": 1, "type": "KSampler"}]}))
    p = tmp_path / "gen.png"
    Image.new("RGB", (64, 48), (10, 20, 30)).save(p, pnginfo=info)
    meta = read_metadata(p, mime="image/png")
    assert meta["format"] == "PNG" and (meta["width"], meta["height"]) == (64, 48)
    assert meta["png_text"]["parameters"].startswith("a cat")
    hints = " | ".join(meta["generator_hints"])
    assert "Stable Diffusion WebUI" in hints and "ComfyUI" in hints
    json.dumps(meta)


def test_exif_software_and_camera(tmp_path):
    img = Image.new("RGB", (32, 32))
    exif = Image.Exif()
    exif[0x0131] = "Adobe Firefly"
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS 5D"
    exif[0x0132] = "2024:01:02 03:04:05"
    p = tmp_path / "x.jpg"
    img.save(p, exif=exif)
    meta = read_metadata(p, mime="image/jpeg")
    assert meta["exif"]["Make"] == "Canon" and meta["exif"]["DateTime"].startswith("2024")
    assert any("Adobe Firefly" in h for h in meta["generator_hints"])


def test_xmp_digital_source_type(tmp_path):
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmp:CreatorTool="Midjourney" Iptc4xmpExt:DigitalSourceType='
        '"http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/></rdf:RDF></x:xmpmeta>'
    )
    p = tmp_path / "x.png"
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp)
    Image.new("RGB", (8, 8)).save(p, pnginfo=info)
    meta = read_metadata(p, mime="image/png")
    assert meta["xmp"]["CreatorTool"] == "Midjourney"
    hints = " | ".join(meta["generator_hints"])
    assert "trainedAlgorithmicMedia" in hints and "Midjourney" in hints


def test_plain_photo_has_no_generator_hints(tmp_path):
    p = tmp_path / "plain.png"
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(p)
    assert read_metadata(p, mime="image/png")["generator_hints"] == []


def test_audio_duration_and_tags(tmp_path):
    p = tmp_path / "a.wav"
    sf.write(p, np.zeros(8000, np.float32), 16000)
    meta = read_metadata(p, mime="audio/wav")
    assert meta["duration"] == 0.5 and meta["sample_rate"] == 16000


def test_garbage_never_raises(tmp_path):
    p = tmp_path / "bad.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 10)
    meta = read_metadata(p, mime="image/png")
    assert "error" in meta and meta["generator_hints"] == []
    assert "error" in read_metadata(tmp_path / "missing.wav", mime="audio/wav")
