"""The audio CNN's per-voice verdict threshold (worker/audio_threshold.py): fit, check, card, CLI refusal."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from detector.eval.threshold import group_rates, per_group_threshold, pooled_rate, read_from_card
from detector.types import Finding
from tests.conftest import run_cli


def test_per_group_threshold_bounds_every_group_where_a_pooled_one_does_not() -> None:
    groups = {"big": [0.1] * 99 + [0.9], "small": [0.2] * 30 + [0.7]}
    t = per_group_threshold(groups, target_fpr=0.01)
    # big may keep 1 of its 100 clips above (0.9), small (31 clips) none: just above 0.7.
    assert t == 0.700001
    rates = group_rates(groups, t)
    assert rates["big"]["flagged"] == 1 and rates["small"]["flagged"] == 0
    # One group below even odds everywhere: the floor.
    assert per_group_threshold({"quiet": [0.1, 0.3]}, target_fpr=0.01) == 0.5
    # A pooled 1 % rule over the same 131 clips may flag one clip: the 0.9, and then small's 0.7 too
    # once the threshold is fitted without big's outlier: pooled rates hide a loud small group.
    assert pooled_rate(groups, 0.65)["flagged"] == 2 and group_rates(groups, 0.65)["small"]["fpr"] > 0.03
    with pytest.raises(ValueError):
        per_group_threshold({}, target_fpr=0.01)


class PeakDetector:
    """Scores a clip by its peak amplitude: a stand-in whose scores are known exactly."""

    name, version, modality = "peak", "1", "audio"

    def analyze(self, item, signal) -> Finding:
        y, _ = signal
        return Finding(self.name, self.version, round(float(np.abs(y).max()), 4))


def _wav(path: Path, peak: float) -> bytes:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(8000) / 16000
    sf.write(path, (peak * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000, subtype="FLOAT")
    return path.read_bytes()


def _corpus(tmp: Path, clips: list[tuple[str, str | None, str, float]]) -> Path:
    corpus = tmp / "speech"
    lines = []
    for i, (source, language, split, peak) in enumerate(clips):
        rel = f"audio/{source}/{language}/{i}.wav"
        data = _wav(corpus / rel, peak)
        lines.append(json.dumps({
            "id": f"{source}/{i}", "path": rel, "sha256": hashlib.sha256(data).hexdigest(), "licence": "CC0",
            "source": source, "package": "p", "modality": "audio", "split": split, "group": f"{source}/{i}",
            "origin": rel, "bytes": len(data), "language": language}))
    (corpus / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return corpus


def _eval_set(tmp: Path, peaks: list[float]) -> Path:
    """An evaluation set: synthetic test clips (and a real and a training one that are not scored)."""
    data = tmp / "eval"
    recs = [{"file": "real/0.wav", "label": "real", "split": "test", "peak": 0.99},
            {"file": "synthetic/train.wav", "label": "synthetic", "generator": "g", "split": "train", "peak": 0.99}]
    recs += [{"file": f"synthetic/{i}.wav", "label": "synthetic", "generator": f"g{i % 2}", "split": "test", "peak": p}
             for i, p in enumerate(peaks)]
    for r in recs:
        _wav(data / r["file"], r.pop("peak"))
    (data / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    return data


# Validation voices (fitted on): klettres-de peaks at 0.6, ktuberling-ru at 0.3; a training language
# and the training split of a training source are neither fitted on nor checked.
FIT = ([("klettres", "de", "train", p) for p in np.linspace(0.1, 0.6, 20)]
       + [("ktuberling", "ru", "test", p) for p in np.linspace(0.1, 0.3, 10)]
       + [("klettres", "ca", "train", 0.95), ("fillets-cs", "cs", "train", 0.99)])


def test_voice_threshold_is_withheld_when_a_held_out_voice_or_the_catch_rate_fails(tmp_path: Path) -> None:
    from worker.audio_threshold import fit_voice_threshold, write_voice_threshold

    clips = FIT + [("klettres", "fr", "test", p) for p in np.linspace(0.1, 0.7, 25)]  # held out: 0.625 .. 0.7 (4) above
    clips += [("alsa", None, "test", 0.2)] * 3  # held-out wideband source
    entry = fit_voice_threshold(PeakDetector(), _corpus(tmp_path, clips), _eval_set(tmp_path, [0.9] + [0.3] * 9))
    # Every validation voice has < 100 clips: none may be flagged; klettres-de peaks at 0.6.
    assert entry["value"] == 0.600001
    assert entry["fit"]["voices"] == 2 and entry["fit"]["clips"] == 30
    held = entry["held_out"]
    assert held["pooled"]["n"] == 28 and set(held["per_voice"]) == {"klettres-fr", "alsa"}
    assert held["per_voice"]["klettres-fr"]["flagged"] == 4 and held["worst_voice"]["voice"] == "klettres-fr"
    assert entry["synthetic"]["n"] == 10 and entry["synthetic"]["tpr"] == 0.1
    assert entry["synthetic"]["per_generator"] == {"g0": {"n": 5, "tpr": 0.2}, "g1": {"n": 5, "tpr": 0.0}}
    # 4 of 28 held-out clips flagged (not bounded by 1 %), one voice at 16 %, 10 % caught: three reasons.
    reasons = entry["withheld_because"]
    assert not entry["published"] and len(reasons) == 3
    assert "klettres-fr 16.0% (4/25)" in reasons[1] and "catches 10.0%" in reasons[2]

    card = tmp_path / "peak.yaml"
    card.write_text("name: peak\nverdict_threshold: {value: 0.9}\n")
    write_voice_threshold(card, entry)  # a refusal removes the stale threshold
    assert read_from_card(card) is None


def test_voice_threshold_is_published_when_every_check_holds(tmp_path: Path) -> None:
    from worker.audio_threshold import fit_voice_threshold, write_voice_threshold

    clips = FIT + [("alsa", None, "test", 0.2)] * 300  # 0 of 300: 95 % upper bound 0.99 %
    entry = fit_voice_threshold(PeakDetector(), _corpus(tmp_path, clips), _eval_set(tmp_path, [0.9] * 3 + [0.3] * 7))
    assert entry["published"] and entry["withheld_because"] == []
    assert entry["held_out"]["pooled"] == {"n": 300, "flagged": 0, "fpr": 0.0, "fpr_upper_95": 0.009936}
    assert entry["synthetic"]["tpr"] == 0.3
    card = tmp_path / "peak.yaml"
    card.write_text("name: peak\nverdict_threshold_withheld: {reason: old}\n")
    write_voice_threshold(card, entry)
    assert read_from_card(card) == 0.600001 and "verdict_threshold_withheld" not in card.read_text()
    # Without an evaluation set nothing says the band catches anything: withheld.
    assert not fit_voice_threshold(PeakDetector(), _corpus(tmp_path, clips))["published"]


def test_voice_threshold_needs_the_validation_voices(tmp_path: Path) -> None:
    from worker.audio_threshold import fit_voice_threshold

    corpus = _corpus(tmp_path, [("alsa", None, "test", 0.2)])
    with pytest.raises(ValueError, match="validation voices"):
        fit_voice_threshold(PeakDetector(), corpus)


@pytest.mark.slow
def test_cli_per_voice_refuses_bad_arguments_clearly(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path, FIT + [("alsa", None, "test", 0.2)])
    cases = [
        (("text-lm-logreg", "--per-voice", "--synthetic", str(tmp_path)), "--per-voice is for audio detectors"),
        (("audio-lfcc-cnn", "--per-voice"), "--per-voice and --synthetic SET go together"),
        (("audio-lfcc-cnn", "--synthetic", str(tmp_path)), "--per-voice and --synthetic SET go together"),
        (("audio-lfcc-cnn", "--per-voice", "--synthetic", str(tmp_path / "nothing")), "no labels.jsonl"),
    ]
    for args, message in cases:
        res = run_cli("threshold", args[0], "--corpus", str(corpus), *args[1:])
        assert res.returncode == 2, (args, res.stderr[-500:])
        assert message in res.stderr and "Traceback" not in res.stderr, args
