"""Image trainer: a few steps on a tiny in-test dataset; weights load through the registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from detector.base import DETECTORS
from detector.media import load_image
from detector.train import train_detector
from detector.train.common import cpu_description
from detector.train.toy import make_image_dataset
from detector.types import MediaItem

# Detector modules are imported inside fixtures, not at collection: registry-wide tests elsewhere are
# parametrized at collection time and must not see weight-needing detectors they cannot build.
NAMES = ("image-residual-cnn", "image-npr-cnn", "image-fft-lr")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    import detector.image.baselines  # noqa: F401  (registers the baselines)
    import detector.image.residual  # noqa: F401  (registers the main detector)

    root = tmp_path_factory.mktemp("imgtrain")
    data = make_image_dataset(root / "data", per_source=3, size=112, seed=0)
    train_detector("image", data, root / "models", seed=0, epochs=1, per_image=2)
    return data, root / "models"


def _item() -> MediaItem:
    return MediaItem("x.png", "x.png", "0" * 64, "image", "image/png", 1)


def test_weights_cards_and_registry(trained: tuple[Path, Path], tmp_path: Path) -> None:
    data, models = trained
    img = load_image(next((data / "synthetic").glob("*.png")))
    for name in NAMES:
        w = models / "detectors" / f"{name}.pt"
        assert w.is_file() and w.stat().st_size < 3_000_000
        card = yaml.safe_load((models / "detectors" / f"{name}.yaml").read_text())
        assert card["name"] == name and card["seed"] == 0 and card["weights"] == f"detectors/{name}.pt"
        assert card["training_data"]["train"]["per_label"]["real"] > 0 and "test" in card["metrics"]
        # The recipe options a card must name so the weights can be rebuilt (defaults: off).
        assert card["training"]["mask_anchor"] is False and card["training"]["real_balance"] == 0.0
        # Which CPU made the weights (rebuilds match only on the same kind): this machine's, as /proc says.
        assert card["cpu"] == cpu_description() and card["cpu"] not in ("", "unknown")
        det = DETECTORS.create(name, models_dir=models)
        f = det.analyze(_item(), img)
        assert f.status == "ok" and 0.0 <= f.score <= 1.0 and f.name == name
        assert "+" in f.version  # code version + weights digest
        heat = np.asarray(f.evidence["heatmap"])
        assert heat.ndim == 2 and heat.shape[0] <= 16 and np.all((heat >= 0) & (heat <= 1))
    assert DETECTORS.tags("image-residual-cnn")["calibrated"] is True


def test_fft_baseline_learns_the_toy_fingerprint(trained: tuple[Path, Path]) -> None:
    # Re-upsampled crops have no energy above half Nyquist: even the linear baseline must see it.
    _, models = trained
    card = yaml.safe_load((models / "detectors" / "image-fft-lr.yaml").read_text())
    assert card["metrics"]["test"]["auc"] >= 0.9


def test_heatmap_overlay_png(trained: tuple[Path, Path], tmp_path: Path) -> None:
    from detector.image.residual import render_heatmap

    data, models = trained
    img = load_image(next((data / "real").glob("*.png")))
    f = DETECTORS.create("image-residual-cnn", models_dir=models).analyze(_item(), img)
    out = render_heatmap(img, f.evidence["heatmap"], tmp_path / "h.png", box=f.evidence["heatmap_box"])
    over = load_image(out)
    assert over.shape == img.shape and not np.array_equal(over, img)


def test_patch_sampler_is_full_resolution_and_label_blind() -> None:
    from detector.train.image import sample_patch

    img = np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8)
    mask = np.zeros((300, 300), bool)
    mask[200:260, 200:260] = True
    a = sample_patch(img, None, np.random.default_rng(1), 96)
    b = sample_patch(img, mask, np.random.default_rng(1), 96)
    assert a.shape == b.shape == (96, 96, 3) and a.dtype == np.uint8


def test_anchored_patches_keep_the_edited_pixels() -> None:
    # An inpainting stroke is thin: an unanchored crop of the region around a drawn stroke pixel
    # often misses the stroke yet is labelled synthetic; the anchored crop always holds it, and
    # items without a mask get the very same patches either way (same draws).
    from detector.train.image import sample_patch

    img = np.zeros((600, 600, 3), np.uint8)
    mask = np.zeros((600, 600), bool)
    mask[300:306, :] = True  # a 6-px horizontal stroke
    img[mask] = 255

    def hits(anchor: bool) -> list[bool]:
        return [bool((sample_patch(img, mask, np.random.default_rng(s), 96, None, anchor) > 128).any())
                for s in range(40)]

    assert all(hits(True)) and not all(hits(False))
    for s in range(5):
        a = sample_patch(img, None, np.random.default_rng(s), 96, None, False)
        b = sample_patch(img, None, np.random.default_rng(s), 96, None, True)
        assert np.array_equal(a, b)


def test_real_source_balance_reweights_only_the_real_draws(tmp_path: Path) -> None:
    # 80 % of the real training items are gcompris WebPs: with real_balance the other sources'
    # photos are drawn more often (weight n_source ** -balance); synthetic draws stay uniform.
    from detector.train import image as train_image_mod
    from detector.train.data import Record

    def rec(i: int, label: int, fam: str) -> Record:
        return Record(tmp_path / f"{i}.png", label, "real" if label == 0 else "synthetic", "image", None, fam, str(i), "train")

    recs = [rec(i, 0, "gcompris") for i in range(8)] + [rec(8, 0, "opencv"), rec(9, 1, "ddpm")]
    assert train_image_mod.real_source_weights(recs, 0.0).tolist() == [1.0] * 10
    w = train_image_mod.real_source_weights(recs, 1.0)
    assert w[:8].sum() == pytest.approx(w[8]) and w[9] == 1.0
    with pytest.raises(ValueError, match="real_balance"):
        train_image_mod.real_source_weights(recs, 1.5)

    # Pixel value = item index, so a patch says which item was drawn.
    data = [(np.full((120, 120, 3), i * 20, np.uint8), None, r.label) for i, r in enumerate(recs)]
    x, y = train_image_mod._epoch_patches(data, np.random.default_rng(0), 40, 96, weights=w)
    drawn = x[y == 0][:, 48, 48, 0].astype(int)
    opencv_share = float(np.mean(np.abs(drawn - 160) < 15))
    assert 0.35 < opencv_share < 0.65  # one item in nine, drawn half the time
    plain, y0 = train_image_mod._epoch_patches(data, np.random.default_rng(0), 40, 96)
    assert float(np.mean(np.abs(plain[y0 == 0][:, 48, 48, 0].astype(int) - 160) < 15)) < 0.3


def test_augmentation_reencodes_both_codecs_label_blind(monkeypatch: pytest.MonkeyPatch) -> None:
    # The corpus photos are JPEG/WebP and generated items PNG/JPEG: the shared final lossy encode
    # must draw WebP as well as JPEG (the real codecs still run; the wrapper only records calls),
    # and the draws depend on nothing but the rng.
    from detector.train import augment

    img = np.random.default_rng(0).integers(0, 255, (120, 120, 3), dtype=np.uint8)
    seen: list[tuple[str, int]] = []
    for name in ("jpeg", "webp"):
        real = getattr(augment, name)
        monkeypatch.setattr(augment, name, lambda x, q, _n=name, _f=real: seen.append((_n, q)) or _f(x, q))
    outs = [augment.augment_image(img, np.random.default_rng(s)) for s in range(60)]
    assert {k for k, _ in seen} == {"jpeg", "webp"} and 30 <= len(seen) <= 58
    assert all(40 <= q <= 95 for _, q in seen)
    assert np.array_equal(augment.augment_image(img, np.random.default_rng(7)), outs[7])


def test_webp_robustness_transform_is_lossy() -> None:
    from detector.train.augment import IMAGE_TRANSFORMS, image_transform

    img = np.random.default_rng(1).integers(0, 255, (64, 80, 3), dtype=np.uint8)
    out = image_transform(img, "webp75")
    assert "webp75" in IMAGE_TRANSFORMS and out.shape == img.shape and not np.array_equal(out, img)


def test_image_score_mean_topk_and_mixture() -> None:
    from detector.image.residual import image_score

    m = np.array([[4.0, 0.0], [0.0, 0.0]])
    assert image_score(m, 1.0) == 1.0
    assert image_score(m, 0.25) == 4.0
    assert image_score(m, [0.25, 1.0]) == 2.5


def test_synthetic_patches_get_the_real_photos_codec_histories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Real photos arrive with WebP/JPEG histories, generated items as PNG: with history matching
    # every synthetic patch first gets a codec drawn from the real photos' codecs (the real codec
    # still runs; the wrapper only records the calls), and real patches never do.
    from detector.train import image as train_image_mod
    from detector.train.augment import image_history, webp
    from detector.train.data import Record

    recs = [Record(tmp_path / n, lab, "real" if lab == 0 else "synthetic", "image", None, "x", n, "train")
            for n, lab in (("a.webp", 0), ("b.JPG", 0), ("c.png", 0), ("d.png", 1))]
    assert train_image_mod.real_histories(recs) == ["webp", "jpeg", "none"]
    img = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    assert np.array_equal(image_history(img, "none", np.random.default_rng(0)), img)
    lossy = image_history(img, "webp", np.random.default_rng(0))
    assert np.array_equal(lossy, webp(img, int(np.random.default_rng(0).integers(70, 96))))
    with pytest.raises(ValueError, match="unknown image history"):
        image_history(img, "gif", np.random.default_rng(0))

    seen: list[tuple[int, str]] = []
    real_fn = train_image_mod.image_history
    monkeypatch.setattr(train_image_mod, "image_history",
                        lambda x, h, rng: seen.append((int(x[0, 0, 0]), h)) or real_fn(x, h, rng))
    # Real pixels are 0, synthetic 200: the recorded first pixel says whose region got a history.
    real, synth = np.zeros((300, 300, 3), np.uint8), np.full((300, 300, 3), 200, np.uint8)
    data = [(real, None, 0), (synth, None, 1)]
    plain, y = train_image_mod._epoch_patches(data, np.random.default_rng(3), 4, 96)
    assert seen == []
    matched, y2 = train_image_mod._epoch_patches(data, np.random.default_rng(3), 4, 96, ["webp", "jpeg"])
    assert np.array_equal(y, y2) and np.array_equal(plain[y == 0], matched[y == 0])
    assert len(seen) == int((y == 1).sum()) and {px for px, _ in seen} == {200}
    assert {h for _, h in seen} <= {"webp", "jpeg"}



@pytest.mark.parametrize("balance", [-0.5, 1.5, float("nan")])
def test_bad_real_balance_is_refused_before_any_decoding(
    trained: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, balance: float
) -> None:
    from detector.train import image as train_image_mod

    def no_decode(*a: object, **k: object) -> None:
        raise AssertionError("decoded an image before refusing the option")

    monkeypatch.setattr(train_image_mod, "_load_all", no_decode)
    monkeypatch.setattr(train_image_mod, "_load", no_decode)
    data, _ = trained
    with pytest.raises(ValueError, match="real_balance"):
        train_image_mod.train_image(data, tmp_path, real_balance=balance)
    with pytest.raises(ValueError, match="real_balance"):
        train_image_mod.out_of_source_scores(data, ["skimage"], real_balance=balance)
