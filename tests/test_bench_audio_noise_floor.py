"""bench/audio_noise_floor: noise floor vs detector score per real voice and generator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bench.audio_noise_floor import FLOOR_DB, main, noise_floor_db

MODELS = Path(__file__).resolve().parents[1] / "models"


def _word(rng: np.random.Generator, noise: float) -> np.ndarray:
    """0.4 s of a vowel-like tone between two 0.3 s pauses, with room noise of amplitude ``noise``."""
    t = np.arange(int(0.4 * 16000)) / 16000
    voiced = 0.3 * np.sin(2 * np.pi * 140 * t) * np.hanning(len(t))
    y = np.concatenate([np.zeros(4800), voiced, np.zeros(4800)])
    return (y + noise * rng.normal(size=len(y))).astype(np.float32)


def test_noise_floor_reads_digital_silence_and_room_noise() -> None:
    rng = np.random.default_rng(0)
    assert noise_floor_db(_word(rng, 0.0)) == FLOOR_DB  # gated: the pauses are zeros
    room = noise_floor_db(_word(rng, 0.003))
    assert -60 < room < -45  # white noise of amplitude 0.003 is -50.5 dBFS
    with pytest.raises(ValueError, match="shorter than one"):
        noise_floor_db(np.zeros(100, np.float32))


def test_noise_floor_bench_groups_voices_and_generators(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    recs = []
    for voice, noise in (("kde-gated", 0.0), ("kde-room", 0.003), ("kde-hiss", 0.01)):
        for i in range(2):
            f = f"real/{voice}-{i}.wav"
            (tmp_path / "real").mkdir(exist_ok=True)
            sf.write(tmp_path / f, _word(rng, noise), 16000, "PCM_16")
            recs.append({"file": f, "label": "real", "split": "test", "corpus_source": voice})
    (tmp_path / "syn").mkdir()
    sf.write(tmp_path / "syn" / "0.wav", _word(rng, 0.0), 16000, "PCM_16")
    recs.append({"file": "syn/0.wav", "label": "synthetic", "split": "test", "generator": "espeak_ng"})
    recs.append({"file": "syn/0.wav", "label": "synthetic", "split": "train", "generator": "not_read"})
    (tmp_path / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))

    out, png = tmp_path / "floor.json", tmp_path / "floor.png"
    assert main(["--data", str(tmp_path), "--models", str(MODELS), "--out", str(out), "--png", str(png)]) == 0
    got = json.loads(out.read_text())
    assert set(got["real"]) == {"kde-gated", "kde-room", "kde-hiss"} and set(got["synthetic"]) == {"espeak_ng"}
    assert got["real"]["kde-gated"]["median_floor_db"] == FLOOR_DB
    assert got["real"]["kde-gated"]["median_floor_db"] < got["real"]["kde-room"]["median_floor_db"] < got["real"]["kde-hiss"]["median_floor_db"]
    assert all(0.0 <= v["mean_score"] <= 1.0 and v["n"] == 2 for v in got["real"].values())
    assert got["real_gated"]["n"] == 2 and got["real_not_gated"]["n"] == 4
    assert got["spearman_floor_vs_mean_score_over_real_voices"]["voices"] == 3
    assert png.stat().st_size > 10_000

    assert main(["--data", str(tmp_path / "none"), "--out", str(out)]) == 2
    assert main(["--data", str(tmp_path), "--models", str(tmp_path), "--out", str(out)]) == 2  # no weights there
