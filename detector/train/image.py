"""Train the image detectors: residual CNN (main), NPR CNN and FFT + logistic regression baselines.

All three learn from the same label-blind augmented patches: a square region around a random
point (inside the mask for partial items) is resized 0.5-1.5, blurred, noised and re-encoded as
JPEG or WebP with the same probabilities for both classes (real photos arrive as JPEG/WebP,
generated ones as PNG/JPEG: the shared final lossy encode keeps the codec from telling the classes
apart), then cropped to the patch size at full resolution.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from detector import media
from detector.image.baselines import KIND as FFT_KIND
from detector.image.baselines import PATCH as FFT_PATCH
from detector.image.baselines import FFTLogReg, fft_features
from detector.image.residual import KIND as CNN_KIND
from detector.image.residual import (
    MAX_SIDE,
    PatchCNNDetector,
    _rgb,
    build_net,
    centre_crop,
    image_score,
    topk_mean,
)
from detector.train.augment import augment_image, image_history
from detector.train.common import finish, seed_everything, set_threads
from detector.train.data import Record, load_splits

CNN_VERSION = "0.1.0"
PATCH = 96
MAIN = "image-residual-cnn"
NPR = "image-npr-cnn"
FFT = "image-fft-lr"
# topk: patch score in training (mean of the top quarter of a 96-px patch's cells). The image
# score at inference (score_topk) is chosen per detector on the validation split among
# SCORE_TOPK (see _choose_score_topk), the same rule for both CNNs.
CONFIGS = {
    MAIN: {"front": "highpass+npr", "body": "small", "width": 16, "topk": 0.25, "patch": PATCH},
    NPR: {"front": "npr", "body": "small", "width": 16, "topk": 0.25, "patch": PATCH},
}
SCORE_TOPK: tuple[float | list[float], ...] = ([0.05, 1.0], 1.0, 0.25, 0.05)


# Training patches may come from anywhere in a photo: the 2560x1600 wallpapers then give real
# patches from their whole frame, not only the centre 1024 px that inference looks at.
TRAIN_MAX_SIDE = 4096


def _load(rec: Record, max_side: int = MAX_SIDE) -> tuple[np.ndarray, np.ndarray | None]:
    img, box = centre_crop(_rgb(media.load_image(rec.path)), max_side)
    mask = None
    if rec.mask is not None and rec.mask.is_file():
        import cv2

        m = cv2.imread(str(rec.mask), cv2.IMREAD_GRAYSCALE)
        if m is not None:
            x, y, w, h = box
            mask = m[y : y + h, x : x + w] > 127
            if mask.shape != img.shape[:2] or not mask.any():
                mask = None
    return img, mask


def _load_all(
    rs: list[Record], desc: str, max_side: int = MAX_SIDE
) -> list[tuple[np.ndarray, np.ndarray | None, int]]:
    """Decode records once each; byte-identical files (a corpus photo drawn twice) share one array."""
    seen: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    out = []
    for r in tqdm(rs, desc=f"decode {desc}", file=sys.stderr, leave=False):
        key = hashlib.sha256(r.path.read_bytes()).hexdigest() if r.mask is None else str(r.path)
        if key not in seen:
            seen[key] = _load(r, max_side)
        out.append((*seen[key], r.label))
    return out


def real_histories(recs: list[Record]) -> list[str]:
    """The codec history of each real training record (its file's codec: ``webp``, ``jpeg`` or ``none``)."""
    codec = {".webp": "webp", ".jpg": "jpeg", ".jpeg": "jpeg"}
    return [codec.get(r.path.suffix.lower(), "none") for r in recs if r.label == 0]


def check_real_balance(balance: float) -> None:
    """Refuse a ``real_balance`` outside 0..1 (called before any image is decoded)."""
    if not 0 <= balance <= 1:
        raise ValueError(f"real_balance must be in 0..1, got {balance}")


def real_source_weights(recs: list[Record], balance: float) -> np.ndarray:
    """Draw weight per record: real items ``n_source ** -balance`` (``Record.family``), synthetic 1."""
    check_real_balance(balance)
    counts: dict[str, int] = {}
    for r in recs:
        if r.label == 0:
            counts[r.family] = counts.get(r.family, 0) + 1
    return np.array([counts[r.family] ** -balance if r.label == 0 else 1.0 for r in recs])


def sample_patch(
    img: np.ndarray,
    mask: np.ndarray | None,
    rng: np.random.Generator,
    size: int,
    history: str | None = None,
    anchor: bool = False,
) -> np.ndarray:
    """One augmented full-resolution patch (label-blind; inside ``mask`` when given).

    ``history``: a codec history (``image_history``) given to the region before the augmentation.
    ``anchor``: with a mask, the final crop keeps the drawn masked pixel in its central half.
    Without it the crop lands anywhere in the ~2x-patch region around that pixel, and a patch of an
    inpainting item (strokes 2-6 % of the image wide) often holds few or no edited pixels yet is
    labelled synthetic. The same number of random draws either way, so patches of items without a
    mask are unchanged.
    """
    h, w = img.shape[:2]
    region = min(2 * size + 8, h, w)
    if mask is not None:
        ys, xs = np.nonzero(mask)
        i = int(rng.integers(len(ys)))
        cy, cx = int(ys[i]), int(xs[i])
    else:
        cy, cx = int(rng.integers(h)), int(rng.integers(w))
    y0 = int(np.clip(cy - region // 2, 0, h - region))
    x0 = int(np.clip(cx - region // 2, 0, w - region))
    out = img[y0 : y0 + region, x0 : x0 + region]
    if history is not None:
        out = image_history(out, history, rng)
    rh, rw = out.shape[:2]
    out = augment_image(out, rng)
    oh, ow = out.shape[:2]
    # The drawn pixel in the augmented region (the resize scales it; padding only adds on the far side).
    ay, ax = (cy - y0) * oh / rh, (cx - x0) * ow / rw
    if oh < size or ow < size:
        out = np.pad(out, ((0, max(size - oh, 0)), (0, max(size - ow, 0)), (0, 0)), mode="reflect")
        oh, ow = out.shape[:2]
    if anchor and mask is not None:
        py, px = _anchored(ay, oh, size, rng), _anchored(ax, ow, size, rng)
    else:
        py, px = int(rng.integers(oh - size + 1)), int(rng.integers(ow - size + 1))
    return out[py : py + size, px : px + size]


def _anchored(a: float, n: int, size: int, rng: np.random.Generator) -> int:
    """A crop start in ``0..n-size`` that puts coordinate ``a`` in the central half of the crop."""
    lo = int(np.clip(np.ceil(a - 0.75 * size), 0, n - size))
    hi = int(np.clip(np.floor(a - 0.25 * size), lo, n - size))
    return int(rng.integers(lo, hi + 1))


def _epoch_patches(
    data: list[tuple[np.ndarray, np.ndarray | None, int]],
    rng: np.random.Generator,
    per_image: int,
    size: int,
    histories: list[str] | None = None,
    anchor: bool = False,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Class-balanced patches for one epoch: each class contributes the same number of patches.

    ``anchor``: partial-edit patches keep their drawn masked pixel in the central half (``sample_patch``).
    ``weights``: per-item draw weights within each class (``real_source_weights``); None: uniform.

    ``histories`` (the real training photos' codecs, ``real_histories``): each synthetic patch first
    gets one drawn from them, so synthetic and real patches share the same mix of codec histories
    (79 % of the real photos are WebP, 14 % JPEG, 7 % PNG; the generators write PNG or JPEG) and
    "has WebP history = real" / "lossless = synthetic" stop separating the classes.
    """
    by = {c: [i for i, d in enumerate(data) if d[2] == c] for c in (0, 1)}
    n = max(len(by[0]), len(by[1])) * per_image
    xs, ys = [], []
    for c in (0, 1):
        if weights is None:
            draws = rng.choice(by[c], size=n, replace=True)
        else:
            w = np.asarray(weights, float)[by[c]]
            draws = rng.choice(by[c], size=n, replace=True, p=w / w.sum())
        for i in draws:
            img, mask, _ = data[int(i)]
            history = str(histories[int(rng.integers(len(histories)))]) if histories and c == 1 else None
            xs.append(sample_patch(img, mask, rng, size, history, anchor))
            ys.append(c)
    return np.stack(xs), np.array(ys, np.float32)


def train_patch_cnn(
    name: str,
    train: list[tuple[np.ndarray, np.ndarray | None, int]],
    *,
    rng: np.random.Generator,
    epochs: int,
    per_image: int = 8,
    batch: int = 32,
    lr: float = 2e-3,
    progress: bool = True,
    histories: list[str] | None = None,
    anchor: bool = False,
    weights: np.ndarray | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train one patch CNN; returns (config, state dict). ``histories``, ``anchor``, ``weights``: see ``_epoch_patches``."""
    import torch

    config = dict(CONFIGS[name])
    # Channels-last (oneDNN's fast layout): 1.25-1.5x the training steps per second of the default
    # layout on CPU for these narrow nets (bench/train_speed.py); same maths, other float rounding.
    net = build_net(config).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps_per_epoch = max(
        1, (2 * max(sum(d[2] == 0 for d in train), sum(d[2] == 1 for d in train)) * per_image) // batch
    )
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch + 1)
    bar = tqdm(total=epochs * steps_per_epoch, desc=f"train {name}", file=sys.stderr, disable=not progress)
    for _ in range(epochs):
        x, y = _epoch_patches(train, rng, per_image, config["patch"], histories, anchor, weights)
        order = rng.permutation(len(y))
        net.train()
        for s in range(steps_per_epoch):
            idx = order[s * batch : (s + 1) * batch]
            if len(idx) < 2:
                continue
            # (B, H, W, C) patches viewed as (B, C, H, W) are already channels-last in memory.
            xb = torch.from_numpy(x[idx]).float().permute(0, 3, 1, 2)
            yb = torch.from_numpy(y[idx])
            logit = topk_mean(net(xb), config["topk"])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    net.eval()
    # Stored contiguous: the saved bytes do not depend on the layout the net trained in.
    return config, {k: v.detach().contiguous().clone() for k, v in net.state_dict().items()}


def _fit_patch_cnn(
    name: str,
    train_d: list[tuple[np.ndarray, np.ndarray | None, int]],
    val_d: list[tuple[np.ndarray, np.ndarray | None, int]],
    **train_kw: Any,
) -> tuple[PatchCNNDetector, dict[str, Any], dict[str, Any]]:
    """Train one patch CNN (``train_patch_cnn``) and choose its image aggregation on ``val_d``."""
    config, state = train_patch_cnn(name, train_d, **train_kw)
    det = PatchCNNDetector(name, {"config": config, "state": state, "version": CNN_VERSION})
    config["score_topk"] = det.topk = _choose_score_topk(det, val_d)
    return det, config, state


def train_fft_lr(
    train: list[tuple[np.ndarray, np.ndarray | None, int]],
    *,
    rng: np.random.Generator,
    per_image: int = 16,
    histories: list[str] | None = None,
    anchor: bool = False,
    weights: np.ndarray | None = None,
) -> dict[str, Any]:
    """Fit the FFT + logistic-regression baseline on augmented 64-px grey patches."""
    import torch
    from sklearn.linear_model import LogisticRegression

    x, y = _epoch_patches(train, rng, per_image, FFT_PATCH, histories, anchor, weights)
    grey = (x.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.uint8)
    f = fft_features(grey)
    mean, std = f.mean(0), f.std(0) + 1e-6
    clf = LogisticRegression(C=0.05, max_iter=3000)
    clf.fit((f - mean) / std, y.astype(int))
    return {
        "mean": torch.from_numpy(mean),
        "std": torch.from_numpy(std),
        "coef": torch.from_numpy(clf.coef_[0].astype(np.float32)),
        "intercept": torch.tensor([float(clf.intercept_[0])]),
    }


def _dataset_facts(data_dir: str | Path) -> dict[str, Any]:
    """The recipe of the training set (``dataset.json`` from ``provscan generate``) for the card."""
    import json

    path = Path(data_dir) / "dataset.json"
    try:
        cfg = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {"folder": Path(data_dir).name}
    keys = ("count", "seed", "real_ratio", "image_format", "watermark", "c2pa", "generators")
    return {"folder": Path(data_dir).name, **{k: cfg[k] for k in keys if k in cfg}}


def _choose_score_topk(
    det: PatchCNNDetector, val_d: list[tuple[np.ndarray, np.ndarray | None, int]]
) -> float | list[float]:
    """The image aggregation (see ``image_score``) with the best validation AUC.

    Full-frame generators favour the mean of all cells (single cells are noisy), local edits a small
    top fraction; which wins depends on the detector, so it is measured, not assumed. Ties go to
    the earlier candidate.
    """
    from sklearn.metrics import roc_auc_score

    y = np.array([d[2] for d in val_d])
    if len(set(y.tolist())) < 2:
        return det.topk
    maps = [det.logit_map(centre_crop(img)[0]) for img, _, _ in val_d]
    aucs = [round(float(roc_auc_score(y, [image_score(m, c) for m in maps])), 4) for c in SCORE_TOPK]
    return SCORE_TOPK[int(np.argmax(aucs))]


def _raw_scores(det: Any, items: list[tuple[np.ndarray, np.ndarray | None, int]], desc: str) -> np.ndarray:
    return np.array(
        [det.raw_score(img) for img, _, _ in tqdm(items, desc=desc, file=sys.stderr, leave=False)]
    )


def train_image(
    data_dir: str | Path,
    models_dir: str | Path,
    *,
    seed: int = 0,
    epochs: int = 12,
    holdout_generator: str | None = None,
    baselines: bool = True,
    per_image: int = 8,
    threads: int | None = None,
    match_history: bool = False,
    mask_anchor: bool = False,
    real_balance: float = 0.0,
) -> Path:
    """Train ``image-residual-cnn`` (and, with ``baselines``, ``image-npr-cnn`` and ``image-fft-lr``).

    Args:
        data_dir: Dataset folder with ``labels.jsonl`` (image items).
        models_dir: Models root; weights and cards go to ``models_dir/detectors/``.
        seed: Seed for sampling, augmentation and initialisation.
        epochs: Passes over the (class-balanced) training images.
        holdout_generator: Generator (family) kept out of training and reported on test.
        baselines: Also train the two baselines on the same patches.
        per_image: Patches drawn per image per epoch.
        threads: torch threads (None: 2, or 1 on an oversubscribed machine).
        match_history: Give synthetic training patches the real photos' codec histories
            (``_epoch_patches``); the same for all three detectors.
        mask_anchor: Partial-edit patches keep a drawn edited pixel in their central half
            (``sample_patch``); the same for all three detectors.
        real_balance: Real items are drawn with weight ``n_source ** -real_balance`` (0: every item
            alike, so the 636 gcompris items give ~80 % of the real patches; 0.5: in proportion to
            the square root of each source's size; 1: every source alike).

    Returns:
        The main detector's weights path.
    """
    started = time.perf_counter()
    models_dir = Path(models_dir)
    rng = seed_everything(seed)
    set_threads(threads)
    _, tr, va, te = load_splits(data_dir, "image", holdout_generator=holdout_generator, what="images")
    weights = real_source_weights(tr, real_balance) if real_balance else None  # checked before decoding

    train_d = _load_all(tr, "train", TRAIN_MAX_SIDE)
    val_d, test_d = _load_all(va, "val"), _load_all(te, "test")
    histories = real_histories(tr) if match_history else None
    extra = {
        "input": {
            "patch_px": PATCH,
            "inference": "full resolution, centre crop <= 1024 px, fully convolutional",
        },
        "augmentation": (
            "label-blind: resize 0.5-1.5 (p=0.5), blur and noise (p=0.25 each), then JPEG or WebP "
            "40-95 (p=0.75; WebP 40 %); training patches from the whole photo (<= 4096 px)"
            + (
                "; every synthetic patch first gets a codec history drawn from the real training "
                "photos' codecs (WebP 70-95 / JPEG 75-95 / none, in their proportions)"
                if match_history
                else ""
            )
        ),
        "dataset": _dataset_facts(data_dir),
        "training": {
            "epochs": epochs,
            "per_image": per_image,
            "threads": threads,
            "match_history": match_history,
            "mask_anchor": mask_anchor,
            "real_balance": real_balance,
        },
    }
    names = [MAIN, NPR] if baselines else [MAIN]
    out = None
    for name in names:
        det, config, state = _fit_patch_cnn(
            name, train_d, val_d, rng=rng, epochs=epochs, per_image=per_image, histories=histories,
            anchor=mask_anchor, weights=weights,
        )
        path = finish(
            name=name,
            kind=CNN_KIND,
            version=CNN_VERSION,
            config=config,
            state=state,
            models_dir=models_dir,
            val=(va, _raw_scores(det, val_d, f"val {name}")),
            test=(te, _raw_scores(det, test_d, f"test {name}")),
            train_recs=tr,
            seed=seed,
            started=started,
            holdout_generator=holdout_generator,
            card_extra=extra,
        )
        out = out or path
    if baselines:
        state = train_fft_lr(train_d, rng=rng, histories=histories, anchor=mask_anchor, weights=weights)
        config = {"patch": FFT_PATCH, "grid": 4}
        det = FFTLogReg(FFT, {"config": config, "state": state, "version": CNN_VERSION})
        finish(
            name=FFT,
            kind=FFT_KIND,
            version=CNN_VERSION,
            config=config,
            state=state,
            models_dir=models_dir,
            val=(va, _raw_scores(det, val_d, "val fft")),
            test=(te, _raw_scores(det, test_d, "test fft")),
            train_recs=tr,
            seed=seed,
            started=started,
            holdout_generator=holdout_generator,
            card_extra={
                "input": {"patch_px": FFT_PATCH, "grid": "4x4 grey patches of the centre crop"},
                "augmentation": extra["augmentation"],
                "dataset": extra["dataset"],
                # Its patches are drawn with the same options as the CNNs' (one epoch of 16 per image).
                "training": {k: v for k, v in extra["training"].items() if k not in ("epochs", "per_image", "threads")}
                | {"per_image": 16},
            },
        )
    assert out is not None
    return out


def out_of_source_scores(
    data_dir: str | Path,
    held_sources: list[str],
    *,
    seed: int = 0,
    epochs: int = 12,
    per_image: int = 8,
    threads: int | None = None,
    match_history: bool = False,
    mask_anchor: bool = False,
    real_balance: float = 0.0,
) -> dict[str, Any]:
    """Main-CNN scores of real photos from sources it never saw, against the validation synthetic items.

    The validation split shares its real sources with training; when a recipe change targets how
    the detector treats *unfamiliar* cameras (e.g. ``real_balance``), val cannot see it. Here the
    real items of ``held_sources`` (real-source families, e.g. ``opencv``) are removed from train
    and val, together with any synthetic item made from them (its ``source`` names the photo); a
    main CNN is trained exactly as ``train_image`` would (same seed, options and draws) and scores
    those real photos (train and val splits only, each distinct file once; the test split is never
    read) and the remaining validation synthetic items. Returns scores, labels and item names.
    """
    import torch

    check_real_balance(real_balance)  # before any decoding
    rng = seed_everything(seed)
    set_threads(threads)
    _, tr, va, _ = load_splits(data_dir, "image", what="images")
    held = set(held_sources)

    def from_held(r: Record) -> bool:
        fam = r.family if r.label == 0 else r.source.split(":")[0].split("/")[0]
        return fam in held

    unseen = {hashlib.sha256(r.path.read_bytes()).hexdigest(): r for r in tr + va if r.label == 0 and from_held(r)}
    if not unseen:
        raise ValueError(f"no real training or validation item from {sorted(held)}")
    tr = [r for r in tr if not from_held(r)]
    va = [r for r in va if not from_held(r)]
    weights = real_source_weights(tr, real_balance) if real_balance else None
    train_d = _load_all(tr, "train", TRAIN_MAX_SIDE)
    val_d = _load_all(va, "val")
    histories = real_histories(tr) if match_history else None
    det, _, _ = _fit_patch_cnn(
        MAIN, train_d, val_d, rng=rng, epochs=epochs, per_image=per_image, histories=histories,
        anchor=mask_anchor, weights=weights,
    )
    scored = [(r, d) for r, d in zip(va, val_d, strict=True) if r.label == 1] + [
        (r, _load(r)) for r in sorted(unseen.values(), key=lambda r: str(r.path))
    ]
    with torch.inference_mode():
        raws = _raw_scores(det, [(d[0], None, r.label) for r, d in scored], "out-of-source")
    return {
        "held_sources": sorted(held),
        "scores": [round(float(x), 5) for x in raws],
        "labels": [r.label for r, _ in scored],
        "items": [r.path.name for r, _ in scored],
        "n_real": len(unseen),
        "n_synthetic": sum(r.label == 1 for r, _ in scored),
    }
