"""bench/image_new_cameras.py on the toy image set: per-photo scores of new and familiar real photos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import image_new_cameras as bench
from detector.train import train_detector
from detector.train.toy import make_image_dataset


def test_every_photo_scored_by_every_detector_with_familiar_photos_as_the_peer(tmp_path: Path) -> None:
    import detector.image.baselines  # noqa: F401  (registers the NPR and FFT baselines)
    import detector.image.residual  # noqa: F401

    data = make_image_dataset(tmp_path / "data", per_source=3, size=112, seed=0)
    train_detector("image", data, tmp_path / "models", seed=0, epochs=1, per_image=2)
    recs = [json.loads(x) for x in (data / "labels.jsonl").read_text().splitlines() if x]
    # A stand-in new-cameras set: the toy set's real training photos under another source name
    # (as make_new_cameras_set tags them), with its synthetic test items.
    new = tmp_path / "new"
    rows = [{**r, "corpus_source": "toy-new-camera", "split": "test", "author": f"A{k}"}
            for k, r in enumerate(r for r in recs if r["label"] == "real" and r["split"] == "train")]
    rows += [r for r in recs if r["label"] != "real" and r["split"] == "test"]
    for r in rows:
        (new / r["file"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / r["file"], new / r["file"])
    (new / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    out, png = tmp_path / "r.json", tmp_path / "r.png"
    args = ["--data", str(new), "--train-set", str(data), "--models", str(tmp_path / "models"), "--out", str(out)]
    assert bench.main([*args, "--png", str(png)]) == 0
    res = json.loads(out.read_text())
    n_new = sum(r["label"] == "real" for r in rows)
    n_ref_real = sum(r["label"] == "real" and r["split"] == "test" for r in recs)
    assert res["counts"]["new cameras"] == n_new and res["counts"]["familiar real"] == n_ref_real
    assert len(res["photos"]) == n_new + sum(r["split"] == "test" for r in recs)
    for p in res["photos"]:
        assert set(p["scores"]) == set(bench.DETECTORS) and all(0.0 <= s <= 1.0 for s in p["scores"].values())
    news = [p for p in res["photos"] if p["group"] == "new cameras"]
    assert {p["source"] for p in news} == {"toy-new-camera"} and all(p["author"].startswith("A") for p in news)
    for name, s in res["summary"].items():
        flagged = sum(p["scores"][name] >= 0.5 for p in news) / n_new
        assert s["flagged_new_cameras"] == pytest.approx(flagged)
        assert 0.0 <= s["auc_new_cameras_vs_synthetic"] <= 1.0
        assert s["auc_familiar_real_vs_full_frame"] is not None
        assert s["auc_new_cameras_vs_partial_edits"] is None  # the toy set has no partial edits
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The recipe-choice form: val peers, one detector (a run that trained the main CNN only).
    assert bench.main([*args, "--split", "val", "--detectors", "image-residual-cnn", "--png", str(png)]) == 0
    res = json.loads(out.read_text())
    assert list(res["summary"]) == ["image-residual-cnn"] and res["split"] == "val"
    assert res["counts"]["familiar real"] == sum(r["label"] == "real" and r["split"] == "val" for r in recs)


def test_bad_input_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--data", str(tmp_path), "--train-set", str(tmp_path)]) == 2
    assert "no labels.jsonl" in capsys.readouterr().err
