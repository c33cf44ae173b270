"""bench/image_lofo.py on real leave-one-family-out runs of the toy image set: every figure of its
table is one of the evaluation reports', the family's figure is its weakest generator's."""

from __future__ import annotations

import json
from pathlib import Path

from bench import image_lofo as bench
from detector.eval.report import evaluate
from detector.train import train_detector
from detector.train.toy import make_image_dataset


def test_table_comes_from_the_reports_of_each_held_out_family(tmp_path: Path, capsys) -> None:
    import detector.image.baselines  # noqa: F401  (registers the NPR and FFT baselines)
    import detector.image.residual  # noqa: F401

    data = make_image_dataset(tmp_path / "data", per_source=3, size=112, seed=0)
    # The toy's two upsamplers share a dashed family name; label each its own family (a family
    # field in labels.jsonl wins) so either can be held out while the other is trained on.
    labels = data / "labels.jsonl"
    recs = [json.loads(x) for x in labels.read_text().splitlines() if x]
    labels.write_text("".join(json.dumps({**r, "family": r["generator"]} if r["generator"] else r) + "\n"
                              for r in recs))
    reports = tmp_path / "reports"
    for held in ("toy-upsample-nearest", "toy-upsample-bilinear"):
        models = tmp_path / "models" / held
        train_detector("image", data, models, seed=0, epochs=1, per_image=2, holdout_generator=held)
        for det in bench.DETECTORS:
            evaluate(models / "detectors" / f"{det}.pt", data, out_dir=reports / held / det, holdout_generator=held)

    out, png = tmp_path / "lofo.json", tmp_path / "lofo.png"
    assert bench.main(["--reports", str(reports), "--out", str(out), "--png", str(png)]) == 0
    s = json.loads(out.read_text())
    assert set(s["families"]) == {"toy-upsample-nearest", "toy-upsample-bilinear"}
    for fam, rows in s["families"].items():
        for det in bench.DETECTORS:
            rep = json.loads((reports / fam / det / "results.json").read_text())
            row = rows[det]
            for t, res in rep["transforms"].items():
                assert row["auc_overall"][t] == res["overall"]["auc"]
                assert row["auc_heldout_family"][t] == res["per_generator"][fam]["auc"]
        main_row = rows[bench.DETECTORS[0]]
        for t, ahead in s["beats_baselines"][fam]["auc_overall"].items():
            assert ahead == all(main_row["auc_overall"][t] > rows[d]["auc_overall"][t] for d in bench.DETECTORS[1:])
    assert png.stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "| toy-upsample-nearest | image-residual-cnn |" in printed

    # A family folder without one detector's report: a clear message and exit code, no traceback.
    (reports / "toy-upsample-nearest" / "image-fft-lr" / "results.json").unlink()
    assert bench.main(["--reports", str(reports)]) == 2
    assert "image-fft-lr" in capsys.readouterr().err
