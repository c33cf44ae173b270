"""bench/image_recipe_variants.py on the toy image set: one run trains, scores both splits, tabulates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import image_recipe_variants as bench
from detector.train.toy import make_image_dataset


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_image_dataset(tmp_path_factory.mktemp("imgvar") / "data", per_source=3, size=112, seed=0)


def test_variant_run_and_report(toy: Path, tmp_path: Path) -> None:
    out = tmp_path / "balance_0.json"
    assert bench.main(["--data", str(toy), "--variant", "balance", "--seed", "0", "--epochs", "1",
                       "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["changes"] == {"real_balance": 0.5} and res["weights"] == "trained in this run"
    for split in ("val", "test"):
        r = res[split]
        assert len(r["scores"]) == len(r["labels"]) == len(r["items"]) == r["n_real"] + r["n_full"] + r["n_partial"]
        assert 0.0 <= r["all"] <= 1.0
    # Another variant and seed: the same items in the same order (paired comparisons stay possible).
    again = tmp_path / "base_1.json"
    assert bench.main(["--data", str(toy), "--variant", "base", "--seed", "1", "--epochs", "1",
                       "--json", str(again)]) == 0
    base = json.loads(again.read_text())
    assert base["val"]["items"] == res["val"]["items"] and base["changes"] == {}
    md = tmp_path / "t.md"
    assert bench.main(["--report", str(out), str(again), "--out", str(md)]) == 0
    text = md.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| base") or line.startswith("| balance")]
    assert rows[0].startswith("| base | shipped recipe | 1 |") and len(rows) == 4  # 2 runs + 2 means
    assert "Mean over seeds" in text


def test_bad_input_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--data", str(tmp_path), "--variant", "base", "--json", str(tmp_path / "o.json")]) == 2
    assert "no labels.jsonl" in capsys.readouterr().err
    (tmp_path / "labels.jsonl").write_text("")
    assert bench.main(["--data", str(tmp_path), "--variant", "base", "--json", str(tmp_path / "o.json"),
                       "--weights", str(tmp_path / "missing.pt")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert bench.main(["--report", str(bad)]) == 2
    assert "cannot read a result" in capsys.readouterr().err
    assert bench.main(["--variant", "base"]) == 2  # no --data / --json: said, not a traceback
    assert "--data, --variant and --json are needed" in capsys.readouterr().err


def test_out_of_source_check_keeps_the_held_photos_and_the_test_split_out(toy: Path, tmp_path: Path) -> None:
    # Relabel the toy's "camera" photos as another real source: the check must train without them
    # and without anything made from them, score each distinct held-out photo once (train and val
    # splits only) against the validation synthetic items, and refuse a source with no photos.
    import shutil

    data = tmp_path / "data"
    shutil.copytree(toy, data)
    lines = [json.loads(x) for x in (data / "labels.jsonl").read_text().splitlines() if x.strip()]
    for r in lines:
        if "camera" in str(r.get("source")):
            r["source"] = str(r["source"]).replace("skimage/", "opencv/").replace("skimage:", "opencv:")
    (data / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    held_real = {r["file"] for r in lines if r["label"] == "real" and r["split"] != "test"
                 and str(r["source"]).startswith("opencv")}
    assert held_real  # the toy has camera photos in train or val

    out = tmp_path / "o.json"
    assert bench.main(["--data", str(data), "--variant", "base", "--held", "opencv", "--epochs", "1",
                       "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["held_sources"] == ["opencv"] and res["mode"] == "out-of-source"
    names = {Path(f).name for f in held_real}
    real_items = [i for i, y in zip(res["items"], res["labels"], strict=True) if y == 0]
    assert set(real_items) <= names and len(real_items) == res["n_real"] >= 1
    test_files = {Path(r["file"]).name for r in lines if r["split"] == "test"}
    assert not (set(res["items"]) & test_files)
    assert res["n_synthetic"] == sum(res["labels"]) >= 1 and 0.0 <= res["auc"] <= 1.0
    md = tmp_path / "t.md"
    assert bench.main(["--report", str(out), "--out", str(md)]) == 0
    assert "| base | 0 | opencv (" in md.read_text()
    assert bench.main(["--data", str(data), "--variant", "base", "--held", "nosuch", "--epochs", "1",
                       "--json", str(out)]) == 2
