"""Train the audio detectors: LFCC segment CNN (main) and the LFCC-GMM baseline.

Every training clip is decoded, resampled to 16 kHz and augmented ``copies`` times with the
same label-blind recipe (gain, noise, Ogg/MP3 round trips at random bitrates), so neither class
owns a codec. Val/test clips are not augmented (the evaluation's robustness sweep is separate).
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from detector import media
from detector.audio.cnn import KIND as CNN_KIND
from detector.audio.cnn import SegmentCNNDetector, build_net
from detector.audio.features import SEG_FRAMES, SR, features, lfcc, resample, segments
from detector.audio.gmm import KIND as GMM_KIND
from detector.audio.gmm import LFCCGMM
from detector.train.augment import augment_audio
from detector.train.common import finish, seed_everything, set_threads
from detector.train.data import DatasetError, Record, load_records, split_records

VERSION = "0.1.0"
MAIN = "audio-lfcc-cnn"
GMM = "audio-lfcc-gmm"
MAX_SECONDS = 12.0


def _decode(rec: Record) -> np.ndarray:
    y, sr = media.load_audio(rec.path)
    return resample(y, sr)[: int(MAX_SECONDS * SR)]


def _augmented(clips: list[np.ndarray], seed: int, copies: int) -> list[np.ndarray]:
    """``copies`` label-blind augmented versions of every clip (ffmpeg runs in 2 threads)."""
    jobs = [(i, c) for i in range(len(clips)) for c in range(copies)]

    def one(job: tuple[int, int]) -> np.ndarray:
        i, c = job
        return augment_audio(clips[i], SR, np.random.default_rng([seed, i, c]))

    with ThreadPoolExecutor(2) as ex:
        return list(
            tqdm(ex.map(one, jobs), total=len(jobs), desc="augment audio", file=sys.stderr, leave=False)
        )


def train_segment_cnn(
    feats: list[np.ndarray],
    labels: np.ndarray,
    *,
    front: str,
    rng: np.random.Generator,
    epochs: int,
    batch: int = 64,
    lr: float = 2e-3,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train the segment CNN on all 0.5 s windows of the given feature matrices."""
    import torch

    wins, ys = [], []
    for f, y in zip(feats, labels, strict=True):
        w, _ = segments(f, seg=SEG_FRAMES)
        wins.append(w)
        ys.append(np.full(len(w), y, np.float32))
    x = np.concatenate(wins)
    yv = np.concatenate(ys)
    mean = x.mean(axis=(0, 2))
    std = x.std(axis=(0, 2)) + 1e-5
    x = (x - mean[None, :, None]) / std[None, :, None]
    config = {"front": front, "width": 16, "topk": 0.5, "segment_s": 0.5}
    net = build_net(config)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    # Class-balanced sampling: each step draws half real, half synthetic windows.
    idx = {c: np.nonzero(yv == c)[0] for c in (0, 1)}
    steps = max(1, len(yv) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps + 1)
    bar = tqdm(total=epochs * steps, desc=f"train {MAIN}", file=sys.stderr)
    net.train()
    for _ in range(epochs):
        for _ in range(steps):
            b = np.concatenate([rng.choice(idx[0], batch // 2), rng.choice(idx[1], batch // 2)])
            xb = torch.from_numpy(x[b][:, None]).float()
            # Random time shift inside the window (roll) so segment boundaries carry no cue.
            xb = torch.roll(xb, int(rng.integers(SEG_FRAMES)), dims=3)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                net(xb)[:, 0], torch.from_numpy(yv[b])
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    net.eval()
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    state["feat_mean"] = torch.from_numpy(mean.astype(np.float32))
    state["feat_std"] = torch.from_numpy(std.astype(np.float32))
    return config, state


def train_gmm(
    feats: list[np.ndarray], labels: np.ndarray, *, seed: int, components: int = 32, max_frames: int = 60000
) -> dict[str, Any]:
    """Fit one diagonal GMM per class on LFCC frames (subsampled to ``max_frames`` per class)."""
    import torch
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(seed)
    state: dict[str, Any] = {}
    for c, name in ((0, "real"), (1, "synthetic")):
        x = np.concatenate([f.T for f, y in zip(feats, labels, strict=True) if y == c]).astype(np.float64)
        if len(x) > max_frames:
            x = x[rng.choice(len(x), max_frames, replace=False)]
        k = min(components, max(1, len(x) // 20))
        g = GaussianMixture(k, covariance_type="diag", max_iter=100, random_state=seed, reg_covar=1e-3).fit(x)
        state[f"{name}_weights"] = torch.from_numpy(g.weights_)
        state[f"{name}_means"] = torch.from_numpy(g.means_)
        state[f"{name}_variances"] = torch.from_numpy(g.covariances_)
    return state


def train_audio(
    data_dir: str | Path,
    models_dir: str | Path,
    *,
    seed: int = 0,
    epochs: int = 8,
    holdout_generator: str | None = None,
    baselines: bool = True,
    copies: int = 2,
    front: str = "lfcc",
    threads: int | None = None,
) -> Path:
    """Train ``audio-lfcc-cnn`` (and, with ``baselines``, ``audio-lfcc-gmm``).

    Args:
        data_dir: Dataset folder with ``labels.jsonl`` (voice/audio items).
        models_dir: Models root; weights and cards go to ``models_dir/detectors/``.
        seed: Seed.
        epochs: Passes over the training windows.
        holdout_generator: Generator (family) kept out of training and reported on test.
        baselines: Also fit the LFCC-GMM baseline.
        copies: Augmented copies of each training clip.
        front: CNN front end, ``lfcc`` or ``logmel``.
        threads: torch threads (None: 2, or 1 on an oversubscribed machine).

    Returns:
        The main detector's weights path.
    """
    started = time.perf_counter()
    models_dir = Path(models_dir)
    rng = seed_everything(seed)
    set_threads(threads)
    recs = load_records(data_dir, modality="audio")
    tr, va, te = split_records(recs, holdout_generator=holdout_generator)
    if not va:
        raise DatasetError("no validation clips (needed to calibrate); add a val split or more items")
    dec = lambda rs, d: [_decode(r) for r in tqdm(rs, desc=f"decode {d}", file=sys.stderr, leave=False)]  # noqa: E731
    train_y, val_y, test_y = dec(tr, "train"), dec(va, "val"), dec(te, "test")
    aug = _augmented(train_y, seed, copies)
    aug_labels = np.repeat([r.label for r in tr], copies)
    extra = {
        "sample_rate": SR,
        "input": {"segment_s": 0.5, "stft": "n_fft 512, hop 160", "front": front},
        "augmentation": "label-blind: gain -6..+3 dB, noise 10-40 dB SNR (p=0.3), Ogg/MP3 32-128 kbit/s (p=0.5)",
    }
    feats = [features(y, front) for y in tqdm(aug, desc="features", file=sys.stderr, leave=False)]
    config, state = train_segment_cnn(feats, aug_labels, front=front, rng=rng, epochs=epochs)
    det = SegmentCNNDetector(MAIN, {"config": config, "state": state, "version": VERSION})
    score = lambda d, ys: np.array([d.raw_score((y, SR)) for y in ys])  # noqa: E731
    out = finish(
        name=MAIN,
        kind=CNN_KIND,
        version=VERSION,
        config=config,
        state=state,
        models_dir=models_dir,
        val=(va, score(det, val_y)),
        test=(te, score(det, test_y)),
        train_recs=tr,
        seed=seed,
        started=started,
        holdout_generator=holdout_generator,
        card_extra=extra,
    )
    if baselines:
        lf = feats if front == "lfcc" else [lfcc(y) for y in aug]
        gstate = train_gmm(lf, aug_labels, seed=seed)
        gconfig = {
            "features": "20 LFCC + delta + delta-delta",
            "components": int(gstate["real_weights"].shape[0]),
        }
        g = LFCCGMM(GMM, {"config": gconfig, "state": gstate, "version": VERSION})
        finish(
            name=GMM,
            kind=GMM_KIND,
            version=VERSION,
            config=gconfig,
            state=gstate,
            models_dir=models_dir,
            val=(va, score(g, val_y)),
            test=(te, score(g, test_y)),
            train_recs=tr,
            seed=seed,
            started=started,
            holdout_generator=holdout_generator,
            card_extra={**extra, "input": {"features": gconfig["features"]}},
        )
    return out
