"""bench/image_pair_ensemble.py on the toy image set: both CNNs and their mean scored on val and test."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import image_pair_ensemble as bench
from detector.train import train_detector
from detector.train.toy import make_image_dataset


def test_pair_and_mean_rows_per_build(tmp_path: Path) -> None:
    import detector.image.baselines  # noqa: F401  (registers the NPR baseline)
    import detector.image.residual  # noqa: F401

    data = make_image_dataset(tmp_path / "data", per_source=3, size=112, seed=0)
    train_detector("image", data, tmp_path / "models", seed=0, epochs=1, per_image=2)
    out = tmp_path / "t.md"
    models = tmp_path / "models" / "detectors"
    assert bench.main(["--data", str(data), "--models", str(models), "--out", str(out)]) == 0
    rows = [line for line in out.read_text().splitlines() if line.startswith(f"| {models} |")]
    assert [r.split(" | ")[1] for r in rows] == ["residual", "npr", "mean"]
    for r in rows:
        cells = r.strip("| ").split(" | ")[2:]
        assert len(cells) == 6 and all(c == "-" or 0.0 <= float(c) <= 1.0 for c in cells)
    # The mean of two calibrated log-odds is finite even at a calibrated 0 or 1.
    det = type("D", (), {"calibrator": staticmethod(lambda raw: 1.0)})()
    assert bench.calibrated_logit(det, 5.0) == pytest.approx(13.8155, abs=1e-3)


def test_bad_input_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--data", str(tmp_path), "--models", str(tmp_path)]) == 2
    assert "no labels.jsonl" in capsys.readouterr().err
    (tmp_path / "labels.jsonl").write_text("")
    assert bench.main(["--data", str(tmp_path), "--models", str(tmp_path)]) == 2
    assert "missing weights" in capsys.readouterr().err
