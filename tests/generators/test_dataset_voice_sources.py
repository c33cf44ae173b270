"""Where the vocoder families' real source clips come from in a dataset, and what happens when a
source is too short to carry our audio watermark."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from generators.base import create_generator
from generators.corpus import CorpusItem, sha256_file
from generators.dataset import DatasetError, generate_dataset, load_labels
from generators.verify import verify_dataset
from generators.voice.common import default_clip_roots
from generators.voice.espeak import EspeakNG

try:
    EspeakNG()
    HAS_ESPEAK = True
except Exception:  # noqa: BLE001 - any failure to start espeak-ng means "not available"
    HAS_ESPEAK = False
needs_espeak = pytest.mark.skipif(not HAS_ESPEAK, reason="espeak-ng not installed (makes the test speech)")


def _speech(path: Path, text: str, seed: int) -> Path:
    """A spoken clip on disk (espeak-ng), standing in for a real recording."""
    g = create_generator("espeak_ng").generate(text, seed=seed, voice="en", variant="")
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, g.data, g.sample_rate)
    return path


def test_default_clip_roots_follow_the_given_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine, other = tmp_path / "mine", tmp_path / "other"
    for d in (mine, other):
        (d / "corpus" / "audio" / "x").mkdir(parents=True)
        sf.write(d / "corpus" / "audio" / "x" / "a.wav", np.zeros(1600, dtype=np.float32), 16000)
    monkeypatch.setenv("PROVSCAN_DATA_DIR", str(other))
    assert default_clip_roots(mine) == [mine / "corpus" / "audio"]
    assert default_clip_roots() == [other / "corpus" / "audio"]  # no data dir given: the environment's


@needs_espeak
def test_dataset_draws_vocoder_sources_from_its_own_instance(
    tmp_path: Path, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dataset made with explicit settings and no corpus manifest picks its WORLD sources among
    its own instance's clips, never among those of the instance the environment names (before,
    the family's fallback read ``$PROVSCAN_DATA_DIR``, so a test's set depended on ./data)."""
    mine = _speech(settings.data_dir / "corpus" / "audio" / "mine" / "a.wav", "Welcome to the city.", 1)
    other_dir = tmp_path / "other-instance"
    _speech(other_dir / "corpus" / "audio" / "other" / "b.wav", "Good morning to you all.", 2)
    monkeypatch.setenv("PROVSCAN_DATA_DIR", str(other_dir))
    out = tmp_path / "set"
    summary = generate_dataset(modality="voice", count=3, out=out, seed=4, generators=["world_resynth"],
                               watermark=False, c2pa=False, settings=settings, progress=False)
    assert not summary.failed, summary.failed
    recs = load_labels(out)
    assert len(recs) == 3
    assert {Path(r["params"]["source_path"]) for r in recs} == {mine}


def _manifest(corpus: Path, clips: dict[str, Path]) -> None:
    lines = []
    for name, path in clips.items():
        rel = path.relative_to(corpus)
        info = sf.info(path)
        item = CorpusItem(id=f"test/{name}", path=rel.as_posix(), sha256=sha256_file(path), licence="CC0-1.0",
                          source="test", package="test", modality="audio", split="train", group=name,
                          origin=name, bytes=path.stat().st_size, language="en", duration_s=info.duration)
        lines.append(json.dumps(item.to_json()))
    (corpus / "manifest.jsonl").write_text("\n".join(lines) + "\n")


@needs_espeak
def test_watermarked_set_leaves_out_sources_too_short_for_the_mark(tmp_path: Path, settings) -> None:
    """The phone voices' letters are under a second; a WORLD twin is as long as its source and our
    audio mark needs a second. A marked set pairs the families with the long clips only, and every
    item it writes carries a detectable mark."""
    corpus = tmp_path / "corpus"
    long_clip = _speech(corpus / "audio" / "test" / "long.wav", "Welcome to the most beautiful city.", 1)
    short_clip = corpus / "audio" / "test" / "short.wav"
    y, sr = sf.read(long_clip, dtype="float32")
    sf.write(short_clip, y[: int(0.6 * sr)], sr)
    _manifest(corpus, {"long": long_clip, "short": short_clip})
    out = tmp_path / "marked"
    summary = generate_dataset(modality="voice", count=2, out=out, seed=3, generators=["world_resynth"],
                               corpus=corpus, watermark=True, c2pa=False, settings=settings, progress=False)
    assert not summary.failed, summary.failed
    recs = load_labels(out)
    assert [Path(r["params"]["source_path"]).name for r in recs] == ["long.wav", "long.wav"]
    tallies = verify_dataset(out, settings=settings, progress=False)
    assert tallies["world_resynth"].watermark_detected == 2, tallies["world_resynth"].failures
    # Unmarked (detector training) sets keep every source: their plans are unchanged.
    plain = tmp_path / "plain"
    generate_dataset(modality="voice", count=2, out=plain, seed=3, generators=["world_resynth"], corpus=corpus,
                     watermark=False, c2pa=False, settings=settings, progress=False)
    assert sorted(Path(r["params"]["source_path"]).name for r in load_labels(plain)) == ["long.wav", "short.wav"]


@needs_espeak
def test_item_that_cannot_carry_the_mark_fails_with_the_reason(tmp_path: Path, settings) -> None:
    """No manifest to filter by (the fallback clips): a sub-second source gives an item that is
    reported failed with why (here the only item, so the set refuses), not one labelled as marked
    without the mark."""
    clip = _speech(tmp_path / "speech.wav", "Welcome.", 1)
    y, sr = sf.read(clip, dtype="float32")
    short = settings.data_dir / "corpus" / "audio" / "test" / "short.wav"
    short.parent.mkdir(parents=True)
    sf.write(short, y[: int(0.6 * sr)], sr)
    out = tmp_path / "set"
    with pytest.raises(DatasetError, match=r"watermark is not detectable on this 0\.60 s output \(shorter than 1 s\)"):
        generate_dataset(modality="voice", count=1, out=out, seed=3, generators=["world_resynth"],
                         watermark=True, c2pa=False, settings=settings, progress=False)
    assert load_labels(out) == []
