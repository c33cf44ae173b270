"""Train the audio detectors: LFCC segment CNN (main) and the LFCC-GMM baseline.

Every training clip is decoded, resampled to 16 kHz and augmented ``copies`` times with the
same label-blind recipe (gain, noise, Ogg/MP3/G.722 round trips at random bitrates), so neither
class owns a codec. Real clips also carry the codec their source shipped in (fillets-ng: 22 kHz
Vorbis, asterisk: G.722) while generators write PCM; so each synthetic copy first gets a codec
history drawn from the real training clips' histories (``history_roundtrip``), and a "has Vorbis
traces" cue no longer predicts the label. Val/test clips are not augmented (the evaluation's
robustness sweep is separate).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from detector import media
from detector.audio.cnn import KIND as CNN_KIND
from detector.audio.cnn import SegmentCNNDetector, build_net
from detector.audio.features import (
    FRONTS,
    SEG_FRAMES,
    SR,
    active_windows,
    features,
    lfcc,
    lowpass,
    resample,
    segments,
)
from detector.audio.gmm import KIND as GMM_KIND
from detector.audio.gmm import LFCCGMM
from detector.train.augment import (
    HISTORIES,
    augment_audio,
    freq_masks,
    history_roundtrip,
    noise_gate,
    spectral_denoise,
    speed_perturb,
)
from detector.train.common import finish, seed_everything, set_threads
from detector.train.data import Record, load_splits
from detector.train.io import Platt, fit_platt

VERSION = "0.1.0"
MAIN = "audio-lfcc-cnn"
GMM = "audio-lfcc-gmm"
MAX_SECONDS = 12.0
# How the CNN's Platt map is fitted: "source-cv" on scores of real voices the scoring model never
# heard (cross-fitting by real source, ``source_cv_calibration``); "val" on the validation split.
CALIBRATIONS = ("source-cv", "val")


def _decode(rec: Record) -> np.ndarray:
    y, sr = media.load_audio(rec.path)
    return resample(y, sr)[: int(MAX_SECONDS * SR)]


# Codec history of a real file from its container when the dataset does not say (``codec_history``).
SUFFIX_HISTORY = {".ogg": "vorbis22k", ".oga": "vorbis22k", ".mp3": "mp3"}


def codec_history(rec: Record) -> str:
    """The lossy codec a real clip went through before we got it (``HISTORIES``); synthetic: none."""
    if rec.label == 1:
        return "none"
    h = rec.extra.get("codec_history")
    if h in HISTORIES:
        return str(h)
    return SUFFIX_HISTORY.get(rec.path.suffix.lower(), "none")


def _augmented(
    clips: list[np.ndarray],
    seed: int,
    copies: int,
    histories: list[list[str]] | None = None,
    *,
    p_phone: float = 0.0,
    speed: float = 0.0,
    p_gate: float = 0.0,
    p_denoise: float = 0.0,
) -> list[np.ndarray]:
    """``copies`` augmented versions of every clip (ffmpeg runs in 2 threads).

    ``histories[i]`` lists the codec histories clip ``i``'s copies may be given before the
    label-blind augmentation (empty: none); the draw is seeded per copy. ``p_phone``: share of
    copies (either class) put through a telephone channel (``augment_audio``). ``speed``: each copy
    is first played at a speed drawn from 1 +- ``speed`` (``speed_perturb``; 0: off). ``p_gate``:
    share of copies (either class) noise-gated after their codec history (``noise_gate``; 0: off).
    ``p_denoise``: share of copies (either class) put through an editor's spectral noise reduction
    after their codec history (``spectral_denoise``; 0: off).
    """
    jobs = [(i, c) for i in range(len(clips)) for c in range(copies)]

    def one(job: tuple[int, int]) -> np.ndarray:
        i, c = job
        rng = np.random.default_rng([seed, i, c])
        y = clips[i]
        if speed:
            # Its own stream, so the other draws (and the weights of recipes without it) do not move.
            y = speed_perturb(y, float(np.random.default_rng([seed, i, c, 7]).uniform(1 - speed, 1 + speed)))
        pool = histories[i] if histories else []
        if pool:
            y = history_roundtrip(y, SR, str(pool[int(rng.integers(len(pool)))]), rng)
        if p_gate and np.random.default_rng([seed, i, c, 11]).random() < p_gate:
            # Own streams again: recipes without the gate keep their draws (and weights).
            y = noise_gate(y, np.random.default_rng([seed, i, c, 12]))
        if p_denoise and np.random.default_rng([seed, i, c, 13]).random() < p_denoise:
            y = spectral_denoise(y, np.random.default_rng([seed, i, c, 14]))
        return augment_audio(y, SR, rng, p_phone=p_phone)

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
    keep: list[np.ndarray] | None = None,
    width: int = 16,
    stem_stride: int = 1,
    freq_mask: int = 0,
    desc: str = f"train {MAIN}",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train the segment CNN on the 0.5 s windows of the given feature matrices.

    ``keep[i]`` (bool per window of clip ``i``) restricts training to those windows; ``desc``
    labels the progress bar. ``freq_mask``: half the windows of each batch get a band of up to this
    many frequency bins set to the feature mean (SpecAugment's frequency masking; 0: off).
    """
    import torch

    wins, ys = [], []
    for i, (f, y) in enumerate(zip(feats, labels, strict=True)):
        w, _ = segments(f, seg=SEG_FRAMES)
        if keep is not None:
            w = w[keep[i]]
        wins.append(w)
        ys.append(np.full(len(w), y, np.float32))
    x = np.concatenate(wins)
    yv = np.concatenate(ys)
    mean = x.mean(axis=(0, 2))
    std = x.std(axis=(0, 2)) + 1e-5
    x = (x - mean[None, :, None]) / std[None, :, None]
    if freq_mask and not 0 < freq_mask <= x.shape[1]:
        raise ValueError(f"freq_mask must be 1..{x.shape[1]} bins for front {front!r}, not {freq_mask}")
    config = {"front": front, "width": width, "topk": 0.5, "segment_s": 0.5}
    if stem_stride != 1:
        config["stem_stride"] = int(stem_stride)
    # Channels-last (oneDNN's fast layout): ~1.5x the training steps per second of the default
    # layout on CPU for this narrow net (bench/train_speed.py); same maths, other float rounding.
    net = build_net(config).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    # Class-balanced sampling: each step draws half real, half synthetic windows.
    idx = {c: np.nonzero(yv == c)[0] for c in (0, 1)}
    steps = max(1, len(yv) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps + 1)
    bar = tqdm(total=epochs * steps, desc=desc, file=sys.stderr)
    net.train()
    for _ in range(epochs):
        for _ in range(steps):
            b = np.concatenate([rng.choice(idx[0], batch // 2), rng.choice(idx[1], batch // 2)])
            xb = torch.from_numpy(x[b][:, None]).float()
            # Random time shift inside the window (roll) so segment boundaries carry no cue.
            xb = torch.roll(xb, int(rng.integers(SEG_FRAMES)), dims=3)
            if freq_mask:
                # No single band may carry the decision (a voice unlike the training voices moves
                # energy between bands).
                freq_masks(xb, rng, freq_mask)
            xb = xb.contiguous(memory_format=torch.channels_last)
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
    # Stored contiguous: the saved bytes do not depend on the layout the net trained in.
    state = {k: v.detach().contiguous().clone() for k, v in net.state_dict().items()}
    state["feat_mean"] = torch.from_numpy(mean.astype(np.float32))
    state["feat_std"] = torch.from_numpy(std.astype(np.float32))
    return config, state


def source_folds(recs: list[Record], k: int = 2) -> list[set[str]]:
    """The real-source families of ``recs`` dealt into ``k`` folds of similar clip counts.

    Largest family first, each to the fold with the fewest clips so far (ties: lower fold, then
    name), so the split is deterministic. Fewer than ``k`` families give fewer folds.
    """
    counts = Counter(r.family for r in recs if r.label == 0)
    folds: list[set[str]] = [set() for _ in range(k)]
    sizes = [0] * k
    for fam, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        i = min(range(k), key=lambda j: (sizes[j], j))
        folds[i].add(fam)
        sizes[i] += n
    return [f for f in folds if f]


def _of_sources(r: Record, families: set[str], clips: set[str]) -> bool:
    """A real clip of ``families``, or a synthetic clip made from their recordings (``clips`` or ``made_from``)."""
    if r.label == 0:
        return r.family in families
    return r.source in clips or r.extra.get("made_from") in families


def source_cv_scores(
    tr: list[Record],
    va: list[Record],
    clean: dict[int, np.ndarray],
    feats: list[np.ndarray],
    keep: list[np.ndarray] | None,
    *,
    copies: int,
    seed: int,
    train_kwargs: dict[str, Any],
    config_extra: dict[str, Any],
    folds: int = 2,
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """Raw scores of voices the scoring model never heard (``source_cv_calibration`` explains how).

    Also the out-of-source validation of a recipe (``bench/audio_source_cv.py``): the validation
    split shares its speakers with training, so only these scores say how a recipe treats new voices.

    Args:
        tr: Training records (``feats[j]`` is augmented copy ``j % copies`` of ``tr[j // copies]``).
        va: Validation records.
        clean: Decoded clips by ``id(record)`` for every train and val record.
        feats: Features of the augmented training copies.
        keep: Active windows per copy (None: all).
        copies: Augmented copies per training clip.
        seed: Training seed (each fold model gets its own seed derived from it).
        train_kwargs: ``train_segment_cnn`` options of the main model (front, epochs, width, ...).
        config_extra: Inference options the main model's config carries (lowpass_hz, active_db).
        folds: Number of folds.

    Returns:
        (raw scores, labels, one entry per fold); empty when there are fewer than two real-source families.
    """
    import torch

    fams = source_folds(tr + va, folds)
    raws: list[float] = []
    ys: list[int] = []
    report: list[dict[str, Any]] = []
    if len(fams) < 2:
        return np.array(raws), np.array(ys, int), report
    for f, held in enumerate(fams):
        heard = {r.source for r in tr + va if r.label == 0 and r.family in held}
        sel = [j for j in range(len(feats)) if not _of_sources(tr[j // copies], held, heard)]
        labels = np.array([tr[j // copies].label for j in sel])
        if len(set(labels.tolist())) < 2:
            continue
        torch.manual_seed(seed * 1009 + 101 + f)
        config, state = train_segment_cnn(
            [feats[j] for j in sel],
            labels,
            rng=np.random.default_rng([seed, 101, f]),
            keep=[keep[j] for j in sel] if keep is not None else None,
            desc=f"calibration model {f + 1}/{len(fams)} (without {', '.join(sorted(held))})",
            **train_kwargs,
        )
        det = SegmentCNNDetector(f"{MAIN}-fold{f}", {"config": {**config, **config_extra}, "state": state})
        real = [r for r in tr + va if r.label == 0 and r.family in held]
        synth = [r for r in va if r.label == 1 and not _of_sources(r, held, heard)]
        for r in tqdm(real + synth, desc=f"score fold {f}", file=sys.stderr, leave=False):
            raws.append(float(det.raw_score((clean[id(r)], SR))))
            ys.append(r.label)
        report.append({"held_out_real_sources": sorted(held), "n_real": len(real), "n_synthetic": len(synth),
                       "training_copies": len(sel)})
    return np.array(raws), np.array(ys, int), report


def source_cv_calibration(
    raws: np.ndarray, ys: np.ndarray, report: list[dict[str, Any]]
) -> tuple[Platt, dict[str, Any]] | None:
    """Platt map for the CNN fitted on scores of voices the scoring model never heard.

    The validation split shares its speakers with training, so a map fitted there says "real"
    with a confidence the model only has for voices it knows: unseen human voices then score far
    above their true odds (issue #5: 48 % of a held-out speaker at >= 0.5 while ranked below
    synthetic speech). Here the real sources are dealt into ``folds``; for each, a CNN with the same
    recipe is trained without that fold's real sources *and* without synthetic clips made from
    their recordings (vocoder re-syntheses, TTS twins in their language), then scores every clean (un-augmented)
    train+val clip of those sources and the synthetic val clips. One Platt map, classes weighted
    equally, is fitted on the pooled out-of-fold scores and put on the model trained on everything
    (cross-fitting, as scikit-learn's ``CalibratedClassifierCV(ensemble=False)``). Each fold model
    knows fewer voices than the final one, so the map errs towards lower probabilities.

    Args:
        raws, ys, report: What ``source_cv_scores`` returns.

    Returns:
        (calibrator, card entry), or None when there are fewer than two real-source families.
    """
    if len(set(ys.tolist())) < 2:
        return None
    cal = fit_platt(raws, ys, balanced=True)
    entry = {
        "method": f"platt on out-of-source scores: {len(report)}-fold cross-fitting by real source (each real "
        "clip scored by a model trained without its source and without synthetic clips made from its "
        "recordings; synthetic val clips), classes weighted equally",
        "folds": report,
    }
    return cal, entry


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


def training_copies(
    tr: list[Record],
    train_y: list[np.ndarray],
    *,
    seed: int,
    copies: int,
    front: str,
    match_history: bool = True,
    p_phone: float = 0.0,
    lowpass_hz: float | None = None,
    active_db: float | None = None,
    speed: float = 0.0,
    p_gate: float = 0.0,
    p_denoise: float = 0.0,
) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray], list[np.ndarray] | None, dict[str, Any]]:
    """The augmented training copies: (waveforms, labels, CNN features, active windows or None, card entries).

    Options as ``train_audio``'s.
    """
    real_hist = [codec_history(r) for r in tr if r.label == 0]
    hist = [real_hist if (match_history and r.label == 1) else [] for r in tr]
    aug = _augmented(train_y, seed, copies, hist, p_phone=p_phone, speed=speed, p_gate=p_gate,
                     p_denoise=p_denoise)
    if lowpass_hz:
        aug = [lowpass(y, lowpass_hz) for y in aug]
    aug_labels = np.repeat([r.label for r in tr], copies)
    counts = {h: real_hist.count(h) for h in sorted(set(real_hist))}
    extra = {
        "sample_rate": SR,
        "input": {"segment_s": 0.5, "stft": "n_fft 512, hop 160", "front": front, "lowpass_hz": lowpass_hz},
        "augmentation": "synthetic copies first get a codec history drawn from the real training clips' "
        f"histories {counts} (vorbis22k: Ogg Vorbis at 22.05 kHz 32-48 kbit/s; g722: G.722)"
        if match_history
        else "no codec-history matching",
        "augmentation_label_blind": (f"speed {1 - speed:g}-{1 + speed:g}x by resampling, then " if speed else "")
        + (f"(p={p_gate:g}) a noise gate at 35-60 dB below the loudest 10 ms frame, then " if p_gate else "")
        + (f"(p={p_denoise:g}) spectral noise reduction (12-30 dB), then " if p_denoise else "")
        + "gain -6..+3 dB, noise 10-40 dB SNR (p=0.3), then (p=0.5) "
        "Ogg/MP3 32-128 kbit/s (0.4/0.4) or G.722 (0.2)"
        + (f", then (p={p_phone:g}) a telephone channel: 8 kHz GSM / mu-law / A-law / PCM" if p_phone else ""),
    }
    feats = [features(y, front) for y in tqdm(aug, desc="features", file=sys.stderr, leave=False)]
    keep = None
    if active_db:
        keep = [
            active_windows(y, segments(f, seg=SEG_FRAMES)[0].shape[0], db=active_db)
            for y, f in zip(aug, feats, strict=True)
        ]
    return aug, aug_labels, feats, keep, extra


def _check_options(
    *, p_phone: float, speed: float, freq_mask: int, p_gate: float = 0.0, p_denoise: float = 0.0
) -> None:
    """Refuse bad recipe options before any decoding or training."""
    for name, share in (("p_phone", p_phone), ("p_gate", p_gate), ("p_denoise", p_denoise)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be in 0..1, not {share}")
    if not 0.0 <= speed < 0.5:
        raise ValueError(f"speed must be in 0..0.5, not {speed}")
    if freq_mask < 0:
        raise ValueError(f"freq_mask must be 0 (off) or a number of bins, not {freq_mask}")


def _cnn_options(*, front: str, epochs: int, width: int, stem_stride: int, freq_mask: int) -> dict[str, Any]:
    """``train_segment_cnn`` options of a recipe (the main model's and its fold models')."""
    out: dict[str, Any] = {"front": front, "epochs": int(epochs), "width": int(width), "stem_stride": int(stem_stride)}
    if freq_mask:
        out["freq_mask"] = int(freq_mask)
    return out


def _inference_options(lowpass_hz: float | None, active_db: float | None) -> dict[str, Any]:
    """What a recipe adds to the model's config for scoring (low-pass band, active-window floor)."""
    out: dict[str, Any] = {}
    if lowpass_hz:
        out["lowpass_hz"] = float(lowpass_hz)
    if active_db:
        out["active_db"] = float(active_db)
    return out


def out_of_source_scores(
    data_dir: str | Path,
    *,
    seed: int = 0,
    epochs: int = 8,
    copies: int = 2,
    front: str = "logspec128",
    match_history: bool = True,
    lowpass_hz: float | None = None,
    active_db: float | None = None,
    width: int = 16,
    stem_stride: int = 1,
    p_phone: float = 0.2,
    speed: float = 0.0,
    freq_mask: int = 0,
    threads: int | None = None,
    calibration: str | None = None,
    p_gate: float = 0.0,
    p_denoise: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """``source_cv_scores`` of the recipe ``train_audio(data_dir, ...)`` would train, without training the main model.

    Takes ``train_audio``'s recipe options (``calibration`` is accepted and ignored: these scores are
    what it is fitted on), so a recipe is judged exactly as it would be built (``bench/audio_source_cv.py``).
    """
    if front not in FRONTS:
        raise ValueError(f"unknown audio front end {front!r} (one of {', '.join(FRONTS)})")
    _check_options(p_phone=p_phone, speed=speed, freq_mask=freq_mask, p_gate=p_gate, p_denoise=p_denoise)
    seed_everything(seed)
    set_threads(threads)
    _, tr, va, _ = load_splits(data_dir, "audio", what="clips")
    dec = lambda rs, d: [_decode(r) for r in tqdm(rs, desc=f"decode {d}", file=sys.stderr, leave=False)]  # noqa: E731
    train_y, val_y = dec(tr, "train"), dec(va, "val")
    _, _, feats, keep, _ = training_copies(
        tr, train_y, seed=seed, copies=copies, front=front, match_history=match_history, p_phone=p_phone,
        lowpass_hz=lowpass_hz, active_db=active_db, speed=speed, p_gate=p_gate, p_denoise=p_denoise,
    )
    clean = {id(r): y for r, y in zip(tr + va, train_y + val_y, strict=True)}
    return source_cv_scores(
        tr, va, clean, feats, keep, copies=copies, seed=seed,
        train_kwargs=_cnn_options(front=front, epochs=epochs, width=width, stem_stride=stem_stride, freq_mask=freq_mask),
        config_extra=_inference_options(lowpass_hz, active_db),
    )


def train_audio(
    data_dir: str | Path,
    models_dir: str | Path,
    *,
    seed: int = 0,
    epochs: int = 8,
    holdout_generator: str | None = None,
    baselines: bool = True,
    copies: int = 2,
    front: str = "logspec128",
    threads: int | None = None,
    match_history: bool = True,
    lowpass_hz: float | None = None,
    active_db: float | None = None,
    width: int = 16,
    stem_stride: int = 1,
    p_phone: float = 0.2,
    calibration: str = "source-cv",
    speed: float = 0.0,
    freq_mask: int = 0,
    p_gate: float = 0.0,
    p_denoise: float = 0.0,
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
        front: CNN front end (``detector.audio.features.FRONTS``); the default is the shipped
            recipe's, so ``provscan train audio`` trains the same kind of model as ``make models``.
        threads: torch threads (None: 2, or 1 on an oversubscribed machine).
        match_history: Give synthetic training copies the codec histories of the real training
            clips (same distribution), so a codec the real sources shipped in is no label cue.
        lowpass_hz: Canonical band: low-pass every clip (training and inference) at this
            frequency; None keeps 0-8 kHz.
        active_db: Train and score only windows within this many dB of the clip's loudest one
            (speech, not pauses); None: every window.
        width: CNN base width (channels of the first block).
        stem_stride: Frequency stride of the CNN's first conv (2 halves the cost of a 257-bin front).
        p_phone: Share of training copies of both classes given a telephone channel (8 kHz GSM,
            mu-law, A-law or PCM), so phone-band speech is not out of distribution.
        calibration: ``"source-cv"``: fit the CNN's Platt map on scores of real voices the scoring
            model never heard (``source_cv_calibration``: two more CNNs are trained, about 1.2x the
            main model's training time); ``"val"``: on the validation split (the GMM always is).
        speed: Speed perturbation 1 +- ``speed`` of every training copy (0: off; tried, not shipped).
        freq_mask: SpecAugment frequency masks of up to this many bins (0: off; tried, not shipped).
        p_gate: Share of training copies of both classes noise-gated (``noise_gate``; 0: off; tried,
            not shipped).
        p_denoise: Share of training copies of both classes given an editor's spectral noise
            reduction (``spectral_denoise``; 0: off).

    Returns:
        The main detector's weights path.
    """
    if front not in FRONTS:
        raise ValueError(f"unknown audio front end {front!r} (one of {', '.join(FRONTS)})")
    if calibration not in CALIBRATIONS:
        raise ValueError(f"unknown calibration {calibration!r} (one of {', '.join(CALIBRATIONS)})")
    _check_options(p_phone=p_phone, speed=speed, freq_mask=freq_mask, p_gate=p_gate, p_denoise=p_denoise)
    started = time.perf_counter()
    models_dir = Path(models_dir)
    rng = seed_everything(seed)
    set_threads(threads)
    _, tr, va, te = load_splits(data_dir, "audio", holdout_generator=holdout_generator, what="clips")
    dec = lambda rs, d: [_decode(r) for r in tqdm(rs, desc=f"decode {d}", file=sys.stderr, leave=False)]  # noqa: E731
    train_y, val_y, test_y = dec(tr, "train"), dec(va, "val"), dec(te, "test")
    aug, aug_labels, feats, keep, extra = training_copies(
        tr, train_y, seed=seed, copies=copies, front=front, match_history=match_history, p_phone=p_phone,
        lowpass_hz=lowpass_hz, active_db=active_db, speed=speed, p_gate=p_gate, p_denoise=p_denoise,
    )
    if freq_mask:
        extra["augmentation_label_blind"] += f"; frequency masking in training (half the windows, 1-{freq_mask} bins)"
    train_kwargs = _cnn_options(front=front, epochs=epochs, width=width, stem_stride=stem_stride, freq_mask=freq_mask)
    config, state = train_segment_cnn(feats, aug_labels, rng=rng, keep=keep, **train_kwargs)
    config_extra = _inference_options(lowpass_hz, active_db)
    config.update(config_extra)
    det = SegmentCNNDetector(MAIN, {"config": config, "state": state, "version": VERSION})
    score = lambda d, ys: np.array([d.raw_score((y, SR)) for y in ys])  # noqa: E731
    cal = None
    if calibration == "source-cv":
        clean = {id(r): y for r, y in zip(tr + va, train_y + val_y, strict=True)}
        cal = source_cv_calibration(
            *source_cv_scores(
                tr, va, clean, feats, keep, copies=copies, seed=seed, train_kwargs=train_kwargs,
                config_extra=config_extra,
            )
        )
        if cal is None:
            print("audio: fewer than two real sources: CNN calibrated on the validation split", file=sys.stderr)
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
        calibration=cal,
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
