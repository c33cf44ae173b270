"""`provscan generate` logic with tiny test-only generators: labels, resume, reproducibility,
watermark-before-signing, C2PA, real items from the corpus."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from detector.docx import read_docx_text
from detector.provenance.c2pa import read_c2pa
from detector.settings import Settings
from detector.watermark.base import WATERMARKS
from generators.base import GENERATORS, Generated, register_generator
from generators.corpus import build_corpus, load_manifest
from generators.dataset import (
    WATERMARK_SCHEMES,
    DatasetError,
    generate_dataset,
    load_labels,
    watermark_payload,
)
from generators.verify import verify_dataset

IMG, PART, VOICE, TEXT = "test_ds_image", "test_ds_partial", "test_ds_voice", "test_ds_text"


class _Tiny:
    def __init__(self, name: str, modality: str) -> None:
        self.name, self.modality, self.version = name, modality, "0.1"

    def generate(self, prompt: str, *, seed: int, watermark: bool = False, **params: Any) -> Generated:
        rng = np.random.default_rng(seed)
        if self.modality == "image":
            y, x = np.mgrid[0:256, 0:256]
            base = np.stack([x, y, (x + y) // 2], -1).astype(np.float64)
            img = np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)
            if self.name == PART:
                mask = np.zeros((256, 256), bool)
                mask[64:128, 64:160] = True
                return Generated(
                    "image", img, self.name, self.version, seed, label="partial", mask=mask, prompt=prompt
                )
            return Generated("image", img, self.name, self.version, seed, params={"k": 1}, prompt=prompt)
        if self.modality == "voice":
            t = np.arange(int(1.5 * 16000)) / 16000
            f0 = 120 + 40 * rng.random()
            y = (0.3 * np.sin(2 * np.pi * f0 * t) + 0.02 * rng.normal(size=t.size)).astype(np.float32)
            return Generated("voice", y, self.name, self.version, seed, sample_rate=16000, prompt=prompt)
        words = rng.choice(["alpha", "beta", "gamma", "delta", "stone", "river"], size=40)
        return Generated(
            "text",
            prompt + " " + " ".join(words),
            self.name,
            self.version,
            seed,
            params={"watermark": watermark},
        )


for _name, _mod in ((IMG, "image"), (PART, "image"), (VOICE, "voice"), (TEXT, "text")):
    if _name not in GENERATORS:  # the module may be imported twice under importlib mode
        register_generator(_name, modality=_mod)(lambda _n=_name, _m=_mod, **kw: _Tiny(_n, _m))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env({"PROVSCAN_DATA_DIR": str(tmp_path / "data")})


def _image(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_image_dataset_labels_watermark_and_c2pa(tmp_path: Path, settings: Settings) -> None:
    from detector.provenance.c2pa import read_c2pa

    calls: list[tuple[int, int]] = []
    s = generate_dataset(
        modality="image",
        count=6,
        out=tmp_path / "ds",
        seed=7,
        generators=[IMG, PART],
        settings=settings,
        progress=False,
        on_progress=lambda d, t: calls.append((d, t)),
    )
    assert (s.made, s.resumed, s.failed) == (6, 0, ())
    assert calls == [(i, 6) for i in range(1, 7)]
    assert s.per_generator == {IMG: 3, PART: 3} and s.per_label == {"partial": 3, "synthetic": 3}
    recs = load_labels(tmp_path / "ds")
    assert [r["index"] for r in recs] == list(range(6))
    keys = {
        "file",
        "sha256",
        "media_sha256",
        "label",
        "modality",
        "generator",
        "version",
        "seed",
        "params",
        "prompt",
        "source",
        "split",
        "watermark",
        "c2pa",
        "mask",
    }
    wm = WATERMARKS.create("provscan-image", key=settings.watermark_key)
    for r in recs:
        assert keys <= set(r)
        path = tmp_path / "ds" / r["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == r["sha256"] != r["media_sha256"]
        assert r["c2pa"] is True and r["prompt"] and r["split"] in {"train", "val", "test"}
        assert r["watermark"]["payload"] == watermark_payload(r["generator"], r["index"])
        # Marked before signing: the signed file still carries the payload, and its manifest
        # names the generator and records the mark as a soft binding.
        assert wm.detect(_image(path)).payload == r["watermark"]["payload"]
        c2 = read_c2pa(path)
        assert (
            c2.present
            and c2.state in {"Valid", "Trusted"}
            and any(r["generator"] in g for g in c2.claim_generator)
        )
        if r["label"] == "partial":
            assert (np.asarray(Image.open(tmp_path / "ds" / r["mask"])) > 0).sum() == 64 * 96
            assert "composite" in (c2.digital_source_type or "")
    # Items of one prompt share a split (split by prompt, not by file).
    by_prompt: dict[str, set[str]] = {}
    for r in recs:
        by_prompt.setdefault(r["prompt"], set()).add(r["split"])
    assert all(len(v) == 1 for v in by_prompt.values())
    card = (tmp_path / "ds" / "README.md").read_text()
    assert f"| {IMG} |" in card and "media_sha256" in card


def test_resume_skips_finished_and_remakes_missing(tmp_path: Path, settings: Settings) -> None:
    out = tmp_path / "ds"
    kw = dict(
        modality="image",
        count=4,
        out=out,
        seed=1,
        generators=[IMG],
        c2pa=False,
        settings=settings,
        progress=False,
    )
    generate_dataset(**kw)
    recs = load_labels(out)
    (out / recs[2]["file"]).unlink()
    (out / recs[3]["file"]).write_bytes(b"corrupt")
    s = generate_dataset(**kw)
    assert (s.made, s.resumed) == (2, 2)
    again = load_labels(out)
    assert [r["media_sha256"] for r in again] == [r["media_sha256"] for r in recs]
    assert len((out / "labels.jsonl").read_text().splitlines()) == 4
    assert generate_dataset(**kw).made == 0
    with pytest.raises(DatasetError, match="other options"):
        generate_dataset(**{**kw, "seed": 2})


def test_same_seed_same_media_hashes(tmp_path: Path, settings: Settings) -> None:
    kw = dict(modality="image", count=3, generators=[IMG], settings=settings, progress=False)
    a = load_labels(generate_dataset(out=tmp_path / "a", seed=5, **kw).out)
    b = load_labels(generate_dataset(out=tmp_path / "b", seed=5, **kw).out)
    c = load_labels(generate_dataset(out=tmp_path / "c", seed=6, **kw).out)
    assert [r["media_sha256"] for r in a] == [r["media_sha256"] for r in b]
    assert [r["media_sha256"] for r in a] != [r["media_sha256"] for r in c]
    # Signed files differ (time + salt in the signature), which is why media_sha256 exists.
    assert [r["sha256"] for r in a] != [r["sha256"] for r in b]


def test_voice_dataset_is_16bit_wav_with_audio_watermark(tmp_path: Path, settings: Settings) -> None:
    s = generate_dataset(
        modality="voice", count=2, out=tmp_path / "v", generators=[VOICE], settings=settings, progress=False
    )
    assert s.made == 2
    wm = WATERMARKS.create("provscan-audio", key=settings.watermark_key)
    for r in load_labels(tmp_path / "v"):
        path = tmp_path / "v" / r["file"]
        info = sf.info(str(path))
        assert (info.format, info.subtype, info.samplerate) == ("WAV", "PCM_16", 16000)
        y, sr = sf.read(str(path), dtype="float32")
        assert wm.detect((y, sr)).detected and r["c2pa"] is True


def test_text_dataset_marks_while_sampling_and_signs_a_docx_twin(tmp_path: Path, settings: Settings) -> None:
    s = generate_dataset(
        modality="text", count=3, out=tmp_path / "t", generators=[TEXT], settings=settings, progress=False
    )
    assert s.made == 3
    for r in load_labels(tmp_path / "t"):
        assert r["file"].endswith(".txt") and r["params"]["watermark"] is True
        assert r["watermark"] == {"scheme": "provscan-text", "payload": None}
        text = (tmp_path / "t" / r["file"]).read_text("utf-8")
        assert text.startswith(r["prompt"])
        # The manifest travels in a signed .docx twin holding exactly the same text.
        assert r["c2pa"] is True and r["c2pa_file"].endswith(".docx") and "docx" in r["c2pa_note"]
        twin = tmp_path / "t" / r["c2pa_file"]
        assert read_docx_text(twin) == text
        c = read_c2pa(twin, trust_anchors=settings.signing_dir / "ca.pem")
        assert c.state in ("Valid", "Trusted") and c.digital_source_type.endswith("trainedAlgorithmicMedia")
    tallies = verify_dataset(tmp_path / "t", settings=settings, progress=False)
    assert sum(t.c2pa_valid for t in tallies.values()) == 3
    # (The tiny test generator only claims a text mark, so only the C2PA side is checked here.)
    assert [f for t in tallies.values() for f in t.failures if "watermark" not in f] == []


def test_real_items_come_from_the_corpus_with_licence_and_split(tmp_path: Path, settings: Settings) -> None:
    corpus = tmp_path / "corpus"
    build_corpus(corpus, sources=["skimage"], use_apt=False, progress=False)
    by_id = {c.id: c for c in load_manifest(corpus)}
    s = generate_dataset(
        modality="image",
        count=6,
        out=tmp_path / "ds",
        generators=[IMG],
        real_ratio=0.5,
        corpus=corpus,
        c2pa=False,
        settings=settings,
        progress=False,
    )
    assert s.per_label == {"real": 3, "synthetic": 3}
    for r in load_labels(tmp_path / "ds"):
        if r["label"] == "real":
            src = by_id[r["source"]]
            assert r["licence"] == src.licence and r["split"] == src.split and r["watermark"] is None
            assert r["sha256"] == src.sha256


def test_clear_errors(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DatasetError, match="unknown generator"):
        generate_dataset(
            modality="image", count=1, out=tmp_path / "a", generators=["nope"], settings=settings
        )
    with pytest.raises(DatasetError, match="makes voice"):
        generate_dataset(modality="image", count=1, out=tmp_path / "b", generators=[VOICE], settings=settings)
    with pytest.raises(DatasetError, match="needs a corpus"):
        generate_dataset(
            modality="image",
            count=2,
            out=tmp_path / "c",
            generators=[IMG],
            real_ratio=0.5,
            corpus=tmp_path / "nocorpus-built",
            settings=settings,
            progress=False,
        )
    monkeypatch.setitem(WATERMARK_SCHEMES, "image", "no-such-scheme")
    with pytest.raises(DatasetError, match="not registered"):
        generate_dataset(modality="image", count=1, out=tmp_path / "d", generators=[IMG], settings=settings)
    # Without the watermark the same call works.
    s = generate_dataset(
        modality="image",
        count=1,
        out=tmp_path / "e",
        generators=[IMG],
        watermark=False,
        c2pa=False,
        settings=settings,
        progress=False,
    )
    rec = load_labels(s.out)[0]
    assert rec["watermark"] is None and rec["c2pa"] is False
    assert rec["media_sha256"] == rec["sha256"]
    assert json.loads((tmp_path / "e" / "dataset.json").read_text())["watermark"] is False
    assert Image.open(io.BytesIO((tmp_path / "e" / rec["file"]).read_bytes())).format == "PNG"
