"""bench/audio_seed_pair: two seeds of an audio recipe and the mean of their log-odds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from bench.audio_seed_pair import main, pair_mean

WEIGHTS = Path(__file__).resolve().parents[1] / "models" / "detectors" / "audio-lfcc-cnn.pt"


def test_pair_mean_averages_log_odds() -> None:
    got = pair_mean([np.array([0.5, 0.9, 0.1]), np.array([0.5, 0.5, 0.9])])
    # log-odds 0 / 2.197 / -2.197 and 0 / 0 / 2.197: means 0, 1.099, 0 -> 0.5, 0.75, 0.5
    assert np.allclose(got, [0.5, 0.75, 0.5], atol=1e-4)


def test_seed_pair_bench_scores_every_member_and_their_mean(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    recs = []
    (tmp_path / "real").mkdir()
    (tmp_path / "syn").mkdir()
    for i in range(4):
        voice = f"kde-{i % 2}"
        y = 0.2 * np.sin(2 * np.pi * (120 + 10 * i) * t) * (1 + 0.3 * np.sin(2 * np.pi * 3 * t)) + 0.003 * rng.normal(size=t.size)
        sf.write(tmp_path / "real" / f"{i}.wav", y.astype(np.float32), 16000, "PCM_16")
        recs.append({"file": f"real/{i}.wav", "label": "real", "split": "test", "corpus_source": voice,
                     "modality": "voice"})
        sf.write(tmp_path / "syn" / f"{i}.wav", (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000, "PCM_16")
        recs.append({"file": f"syn/{i}.wav", "label": "synthetic", "split": "test", "generator": "espeak_ng",
                     "modality": "voice"})
    (tmp_path / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))

    out = tmp_path / "pair.json"
    other = tmp_path / "copy" / "detectors" / "audio-lfcc-cnn.pt"
    other.parent.mkdir(parents=True)
    other.write_bytes(WEIGHTS.read_bytes())
    assert main(["--weights", str(WEIGHTS), "--weights", str(other), "--data", str(tmp_path), "--out", str(out)]) == 0
    got = json.loads(out.read_text())["sets"][str(tmp_path)]
    assert got["n_real"] == 4 and got["n_synthetic"] == 4
    a, b, mean = got["models/audio-lfcc-cnn.pt"], got["copy/audio-lfcc-cnn.pt"], got["mean of members"]
    # Two copies of one model: the mean of their log-odds is that model, figure for figure.
    assert a == b == mean
    assert set(a["fpr_at_0.5_per_real_source"]) == {"kde-0", "kde-1"} and 0.0 <= a["auc"] <= 1.0

    assert main(["--weights", str(WEIGHTS), "--data", str(tmp_path), "--out", str(out)]) == 2  # one member
    assert main(["--weights", str(WEIGHTS), "--weights", str(tmp_path / "no.pt"), "--data", str(tmp_path),
                 "--out", str(out)]) == 2
    assert main(["--weights", str(WEIGHTS), "--weights", str(other), "--data", str(tmp_path / "none"),
                 "--out", str(out)]) == 2
