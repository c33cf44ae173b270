"""What every trainer does after fitting: calibrate on validation, measure on test, save, write a card."""

from __future__ import annotations

import platform
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from detector.eval.metrics import compute_metrics
from detector.train.data import Record, describe, holdout_family
from detector.train.io import Platt, card_path, fit_platt, save_weights, weights_path, write_card

CARDS_DIR = Path(__file__).resolve().parent.parent / "cards"


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and torch (single-threaded determinism is not promised by torch)."""
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def set_threads(threads: int | None = None) -> int:
    """Set torch's thread count for training and return it.

    Default: 2 (the target machine), but 1 when the machine is already oversubscribed (1-min
    load >= cores): OpenMP threads then spin at barriers and 2 threads run many times slower.
    """
    import os

    import torch

    if threads is None:
        cores = os.cpu_count() or 1
        try:
            busy = os.getloadavg()[0] >= cores
        except OSError:
            busy = False
        threads = 1 if busy else min(2, cores)
    torch.set_num_threads(threads)
    return threads


def load_card_template(name: str) -> dict[str, Any]:
    """The card template ``detector/cards/<name>.yaml`` (empty dict when there is none)."""
    import yaml

    p = CARDS_DIR / f"{name}.yaml"
    return yaml.safe_load(p.read_text("utf-8")) if p.is_file() else {}


def cpu_description() -> str:
    """CPU model and its widest x86 vector extension, for the card: a rebuild gives the same float
    weights only on the same kind of CPU (docs/benchmarks.md), so a card says which one made it."""
    try:
        lines = Path("/proc/cpuinfo").read_text("utf-8", errors="replace").splitlines()
    except OSError:
        return platform.processor() or platform.machine() or "unknown"
    model = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "") or (
        platform.processor() or platform.machine() or "unknown")
    flags = next((ln.split(":", 1)[1].split() for ln in lines if ln.startswith(("flags", "Features"))), [])
    isa = next((f for f in ("avx512f", "avx2", "avx", "sse4_2", "asimd") if f in flags), None)
    return f"{model} ({isa})" if isa else model


def finish(
    *,
    name: str,
    kind: str,
    version: str,
    config: dict[str, Any],
    state: dict[str, Any],
    models_dir: Path,
    val: tuple[list[Record], np.ndarray],
    test: tuple[list[Record], np.ndarray],
    train_recs: list[Record],
    seed: int,
    started: float,
    holdout_generator: str | None,
    card_extra: dict[str, Any] | None = None,
    calibration: tuple[Platt, dict[str, Any]] | None = None,
) -> Path:
    """Fit the Platt calibrator on validation raw scores, measure the test split, save weights + card.

    Args:
        name: Detector name (file stem under ``models_dir/detectors``).
        kind: Weights kind (which class reads them).
        version: Code version of the detector.
        config: Architecture / front-end config stored with the weights.
        state: Tensors (state dict or fitted arrays).
        models_dir: Root models folder.
        val: (records, raw scores) of the validation split.
        test: (records, raw scores) of the test split (held-out family included).
        train_recs: Training records (for the card's data section).
        seed: Training seed.
        started: ``time.perf_counter()`` at the start of training.
        holdout_generator: Family held out, if any.
        card_extra: More card fields (input size, sample rate, ...).
        calibration: A calibrator fitted elsewhere and its card entry (``method`` and the data it
            saw); None: Platt fitted here on the validation raw scores.

    Returns:
        The weights path.
    """
    vrecs, vraw = val
    vy = np.array([r.label for r in vrecs])
    if calibration is None:
        cal = fit_platt(vraw, vy) if len(vrecs) else fit_platt([], [])
        cal_card = {"method": "platt (fitted on the validation split)"}
    else:
        cal, cal_card = calibration
    payload = {
        "kind": kind,
        "version": version,
        "config": config,
        "state": state,
        "calibrator": cal.to_dict(),
        "threshold": 0.5,
    }
    wpath = save_weights(weights_path(models_dir, name), payload)
    trecs, traw = test
    metrics: dict[str, Any] = {}
    if len(trecs):
        ty = np.array([r.label for r in trecs])
        tp = cal(traw)
        metrics["test"] = compute_metrics(ty, tp).to_dict()
        if holdout_generator:
            fam = holdout_family(trecs, holdout_generator)
            held = [
                i
                for i, r in enumerate(trecs)
                if r.label == 0 or r.family == fam or r.generator == holdout_generator
            ]
            if held:
                metrics["test_heldout_family_vs_real"] = compute_metrics(ty[held], tp[held]).to_dict()
    if len(vrecs):
        metrics["val"] = compute_metrics(vy, cal(vraw)).to_dict()
    card = load_card_template(name)
    card.update(
        {
            "name": name,
            "version": version,
            "weights": str(wpath.relative_to(models_dir)),
            "weights_bytes": wpath.stat().st_size,
            "threshold": 0.5,
            "calibration": {**cal_card, **cal.to_dict()},
            "config": config,
            **(card_extra or {}),
            "training_data": {
                "train": describe(train_recs),
                "val": describe(vrecs) if vrecs else {},
                "test": describe(trecs) if trecs else {},
                "holdout_generator_family": holdout_generator,
            },
            "seed": seed,
            "metrics": metrics,
            "metrics_note": "test = items never trained on (test split + held-out family); "
            "both classes through the same decode path; no robustness transform here "
            "(see provscan evaluate for the sweep).",
            "train_seconds": round(time.perf_counter() - started, 1),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "platform": f"{platform.machine()} python {platform.python_version()}",
            "cpu": cpu_description(),
        }
    )
    write_card(card_path(models_dir, name), card)
    return wpath
