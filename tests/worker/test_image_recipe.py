"""worker/image_recipe.py: the new-camera photos, split by photographer, for evaluation and training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generators.corpus import build_corpus
from worker.image_recipe import (
    NEW_CAMERA_SPLIT,
    NewCameraPhotosError,
    add_new_camera_photos,
    make_new_cameras_set,
    new_camera_split_of,
    photographer,
)

# Palapeli authors as the package states them: two train-split photographers and one val.
AUTHORS = {"castle": "Eric Pouhier", "fruit": "US Department of Agriculture", "bridge": "Derek Jensen"}


def _photo(path: Path, k: int, size: tuple[int, int] = (48, 64)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(k)  # distinct bytes per file
    Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(path, quality=90)


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    cache = tmp_path / "cache"
    root = cache / "x" / "palapeli-data"
    root.mkdir(parents=True)
    (root / ".provscan-unpacked").write_text("test\n")
    pal = root / "usr/share/palapeli/collection"
    for k, (stem, author) in enumerate(AUTHORS.items()):
        _photo(pal / f"{stem}.jpg", 10 + k)
        (pal / f"{stem}.desktop").write_text(f"Name={stem}\nX-KDE-PluginInfo-License=FDL\nX-KDE-PluginInfo-Author={author}\n")
    (cache / "debs").mkdir()
    (cache / "debs" / "palapeli-data_0_all.deb").write_bytes(b"")  # a cache as apt leaves it (unpacked above)
    dest = tmp_path / "corpus"
    build_corpus(dest, sources=["palapeli"], use_apt=False, cache_dir=cache, progress=False)
    return dest


@pytest.fixture()
def image_set(tmp_path: Path) -> Path:
    out = tmp_path / "set"
    recs = [{"file": "real/000000.jpg", "label": "real", "split": "train", "generator": None, "mask": None},
            {"file": "synthetic/000001.png", "label": "synthetic", "split": "test", "generator": "ddpm_32", "mask": None},
            {"file": "partial/000002.png", "label": "partial", "split": "test", "generator": "edit_region",
             "mask": "partial/000002.mask.png"},
            {"file": "synthetic/000003.png", "label": "synthetic", "split": "val", "generator": "ddpm_32", "mask": None}]
    for k, r in enumerate(recs):
        _photo(out / r["file"], 20 + k)
        if r["mask"]:
            _photo(out / r["mask"], 30)
    (out / "labels.jsonl").write_text("".join(json.dumps({**r, "index": k}) + "\n" for k, r in enumerate(recs)))
    return out


def test_split_is_the_seeded_draw_over_22_photographers_and_never_splits_one() -> None:
    names = [n for part in NEW_CAMERA_SPLIT.values() for n in part]
    assert len(names) == len(set(names)) == 22
    assert new_camera_split_of(list(reversed(names))) == NEW_CAMERA_SPLIT  # order-free: sorted first
    assert new_camera_split_of(names, seed="another") != NEW_CAMERA_SPLIT
    assert photographer("2018. Sander Klootwijk") == "sander klootwijk" in NEW_CAMERA_SPLIT["train"]
    assert photographer("2008, Charles Barbin <barbinch@free.fr>´") == "charles barbin" in NEW_CAMERA_SPLIT["test"]
    assert photographer('Trevor "Freespace", 2018') == "trevor freespace" in NEW_CAMERA_SPLIT["val"]
    assert photographer('2008, "blackcombwhistler07" <b@x.com>') == "blackcombwhistler"
    assert photographer(None) == ""


def test_training_set_gets_copies_of_train_photographers_photos_only(corpus: Path, image_set: Path, tmp_path: Path) -> None:
    out = add_new_camera_photos(image_set, corpus, tmp_path / "plus", per_photo=3)
    rows = [json.loads(x) for x in (out / "labels.jsonl").read_text().splitlines()]
    before = [json.loads(x) for x in (image_set / "labels.jsonl").read_text().splitlines()]
    assert rows[: len(before)] == before  # the generated set is unchanged...
    assert (out / "synthetic").is_symlink() and (out / "synthetic/000001.png").read_bytes()  # ...and linked, not copied
    added = rows[len(before):]
    assert [r["index"] for r in rows] == list(range(len(rows)))
    # Three copies of each train-split photographer's photo; the val photographer's is left for validation.
    assert sorted(r["source"] for r in added) == ["palapeli/castle.jpg"] * 3 + ["palapeli/fruit.jpg"] * 3
    assert {r["split"] for r in added} == {"train"} and {r["label"] for r in added} == {"real"}
    assert {r["file"] for r in added} == {"newcam/palapeli/castle.jpg", "newcam/palapeli/fruit.jpg"}
    assert (out / "newcam/palapeli/castle.jpg").read_bytes() == (corpus / "image/palapeli/castle.jpg").read_bytes()
    with pytest.raises(ValueError, match="per_photo must be >= 1"):
        add_new_camera_photos(image_set, corpus, tmp_path / "p0", per_photo=0)


def test_new_cameras_set_pairs_photos_of_a_split_with_that_splits_synthetic_items(
    corpus: Path, image_set: Path, tmp_path: Path
) -> None:
    out = make_new_cameras_set(corpus, image_set, tmp_path / "out")
    rows = [json.loads(x) for x in (out / "labels.jsonl").read_text().splitlines()]
    real = [r for r in rows if r["label"] == "real"]
    syn = [r for r in rows if r["label"] != "real"]
    # Every new photo, whatever its corpus split; none of the training set's own real photos.
    assert sorted(r["source"] for r in real) == ["palapeli/bridge.jpg", "palapeli/castle.jpg", "palapeli/fruit.jpg"]
    assert {r["corpus_source"] for r in real} == {"palapeli"} and {r["licence"] for r in real} == {"GFDL"}
    # Only the test split's synthetic items, masks kept beside them.
    assert sorted(r["generator"] for r in syn) == ["ddpm_32", "edit_region"]
    assert {r["split"] for r in rows} == {"test"} and [r["index"] for r in rows] == list(range(5))
    assert (out / "partial/000002.mask.png").is_file()
    for r in rows:
        src = corpus / "image/palapeli" / Path(r["file"]).name if r["label"] == "real" else image_set / r["file"]
        assert (out / r["file"]).read_bytes() == src.read_bytes()

    val = make_new_cameras_set(corpus, image_set, tmp_path / "val", split="val", synthetic_split="val")
    rows = [json.loads(x) for x in (val / "labels.jsonl").read_text().splitlines()]
    assert [r["file"] for r in rows] == ["real/palapeli/bridge.jpg", "synthetic/000003.png"]  # Derek Jensen: val


def test_missing_inputs_are_clear_errors(corpus: Path, image_set: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    build_corpus(other, sources=["matplotlib"], use_apt=False, progress=False)
    with pytest.raises(NewCameraPhotosError, match="has no photos of lomiri-wallpapers, mate-backgrounds, palapeli"):
        make_new_cameras_set(other, image_set, tmp_path / "o2")
    with pytest.raises(NewCameraPhotosError, match="no corpus manifest .* provscan corpus build --dest"):
        make_new_cameras_set(tmp_path / "never-built", image_set, tmp_path / "o2b")
    with pytest.raises(ValueError, match="by the test photographers"):
        make_new_cameras_set(corpus, image_set, tmp_path / "o3", split="test")
    with pytest.raises(ValueError, match="unknown new-camera split 'dev'"):
        make_new_cameras_set(corpus, image_set, tmp_path / "o4", split="dev")
    with pytest.raises(ValueError, match="has no labels.jsonl"):
        make_new_cameras_set(corpus, tmp_path / "nowhere", tmp_path / "o5")
    with pytest.raises(ValueError, match="has no synthetic train items"):
        make_new_cameras_set(corpus, image_set, tmp_path / "o6", synthetic_split="train")


def test_builder_without_apt_trains_without_the_new_camera_photos(tmp_path: Path) -> None:
    """On a machine with no apt-get and no cached packages the image builder's new-camera steps do
    not fail the whole `make models`: the prepare step says what it skips, and the builder trains
    on the generated set alone and says the weights will differ (the builder's own code, run in a
    process whose PATH has no apt-get)."""
    import os
    import subprocess
    import sys

    code = (
        "from pathlib import Path\n"
        "from worker.model_builders import new_camera_corpus, with_new_camera_photos\n"
        "p = new_camera_corpus()\n"
        "print('manifest', (p / 'manifest.jsonl').exists())\n"
        "data = p.parent / 'set'\n"
        "print('trains on', with_new_camera_photos(data, per_photo=16) == data)\n"
    )
    (tmp_path / "data" / "set").mkdir(parents=True)
    (tmp_path / "data" / "set" / "labels.jsonl").write_text('{"index": 0, "label": "real", "split": "train"}\n')
    env = {**os.environ, "PROVSCAN_DATA_DIR": str(tmp_path / "data"), "PATH": str(tmp_path / "no-bin")}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "manifest False" in res.stdout and "trains on True" in res.stdout
    assert "no new-camera photos on this machine" in res.stderr and "apt-get/dpkg not found" in res.stderr
    assert "training without the new-camera photos" in res.stderr
    assert not (tmp_path / "data" / "set-newcam").exists()
