"""Training entry points: ``train_detector(modality, data_dir, models_dir, ...) -> Path``.

Each modality's trainer writes weights (``models_dir/detectors/<name>.pt``, a ``torch.save`` dict
loaded with ``weights_only=True``) and a YAML card beside them. Imports are lazy so that
``import detector.train`` stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from detector.train.data import MODALITY_ALIASES

# Default epochs per modality, sized for minutes on 2 CPU cores with a few hundred items.
DEFAULT_EPOCHS = {"image": 12, "audio": 8, "text": None}
MAIN_DETECTOR = {"image": "image-residual-cnn", "audio": "audio-lfcc-cnn", "text": "text-lm-logreg"}


def train_detector(
    modality: str,
    data_dir: str | Path,
    models_dir: str | Path,
    *,
    seed: int = 0,
    epochs: int | None = None,
    holdout_generator: str | None = None,
    baselines: bool = True,
    **kw: Any,
) -> Path:
    """Train the detector(s) of one modality on a ``labels.jsonl`` dataset.

    Args:
        modality: ``image``, ``audio`` (or ``voice``) or ``text``.
        data_dir: Dataset folder (``provscan generate`` output, real items included).
        models_dir: Models root; writes ``detectors/<name>.pt`` and ``detectors/<name>.yaml``.
        seed: Seed for sampling, augmentation and initialisation.
        epochs: Training passes (None: the modality's default).
        holdout_generator: A generator (family) kept out of train/val and reported on test
            (leave-one-generator-family-out).
        baselines: Also train the modality's baselines (image: NPR CNN, FFT + LR; audio: LFCC-GMM).
        **kw: Passed to the modality trainer (e.g. ``per_image``, ``copies``, ``front``).

    Returns:
        The main detector's weights path.
    """
    from threadpoolctl import threadpool_limits

    # One BLAS thread for every training path (``provscan train`` as well as ``models build``):
    # OpenBLAS reductions inside the scikit-learn fits (the GMM's EM, the logistic regressions) sum
    # in a thread-count-dependent order, so the same seed would write different bytes on 1, 2 or 16
    # cores. Torch threads are set by each trainer.
    with threadpool_limits(limits=1, user_api="blas"):
        return _train(modality, data_dir, models_dir, seed=seed, epochs=epochs,
                      holdout_generator=holdout_generator, baselines=baselines, **kw)


def _train(
    modality: str,
    data_dir: str | Path,
    models_dir: str | Path,
    *,
    seed: int,
    epochs: int | None,
    holdout_generator: str | None,
    baselines: bool,
    **kw: Any,
) -> Path:
    mod = MODALITY_ALIASES.get(modality)
    if mod == "image":
        from detector.train.image import train_image

        return train_image(
            data_dir,
            models_dir,
            seed=seed,
            epochs=epochs or DEFAULT_EPOCHS["image"],
            holdout_generator=holdout_generator,
            baselines=baselines,
            **kw,
        )
    if mod == "audio":
        from detector.train.audio import train_audio

        return train_audio(
            data_dir,
            models_dir,
            seed=seed,
            epochs=epochs or DEFAULT_EPOCHS["audio"],
            holdout_generator=holdout_generator,
            baselines=baselines,
            **kw,
        )
    if mod == "text":
        from detector.train.text import train_text

        return train_text(data_dir, models_dir, seed=seed, holdout_generator=holdout_generator, **kw)
    raise ValueError(f"unknown modality {modality!r} (image, audio/voice, text)")
