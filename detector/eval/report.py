"""``evaluate(model, data_dir, out_dir=...)``: held-out metrics, robustness sweep, calibration, plots.

Only items never trained on count: the ``test`` split (plus, with ``holdout_generator``, every
item of that generator family). The robustness sweep applies each transform to BOTH classes
(a JPEG'd real photo next to a JPEG'd synthetic one), so a codec cannot stand in for the label.
Writes ``results.json``, ``summary.md`` and PNG plots into ``out_dir``.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from detector import media
from detector.eval.metrics import compute_metrics, plot_det, plot_reliability, plot_roc, reliability
from detector.train.augment import AUDIO_TRANSFORMS, IMAGE_TRANSFORMS, audio_transform, image_transform
from detector.train.data import Record, holdout_family, load_records
from detector.train.io import load_weights, resolve_models_dir, weights_path

KIND_CLASSES = {
    "image-patch-cnn": ("detector.image.residual", "PatchCNNDetector", "image"),
    "image-fft-lr": ("detector.image.baselines", "FFTLogReg", "image"),
    "audio-seg-cnn": ("detector.audio.cnn", "SegmentCNNDetector", "audio"),
    "audio-lfcc-gmm": ("detector.audio.gmm", "LFCCGMM", "audio"),
    "text-lm-logreg": ("detector.text.detector", "TextLMDetector", "text"),
}


def load_model(model: str | Path, *, models_dir: Path | str | None = None) -> tuple[Any, str]:
    """A trained detector from a weights path or a registered name; returns (detector, modality).

    Args:
        model: ``path/to/name.pt`` or a detector name (resolved under ``models_dir/detectors``).
        models_dir: Models root for names (default: ``PROVSCAN_MODELS_DIR``).
    """
    import importlib

    p = Path(model)
    if p.suffix == ".pt" or p.is_file():
        path, name = p, p.stem
    else:
        name = str(model)
        path = weights_path(resolve_models_dir(models_dir), name)
    payload = load_weights(path, name=name)
    kind = payload.get("kind")
    if kind not in KIND_CLASSES:
        raise ValueError(f"{path}: unknown weights kind {kind!r}")
    mod, cls, modality = KIND_CLASSES[kind]
    return getattr(importlib.import_module(mod), cls)(name, payload), modality


def _decode(rec: Record, modality: str) -> Any:
    if modality == "image":
        return media.load_image(rec.path)
    if modality == "audio":
        return media.load_audio(rec.path)
    return media.load_text(rec.path)


def _transformed(signal: Any, modality: str, name: str, seed: int) -> Any:
    if name == "none":
        return signal
    if modality == "image":
        return image_transform(signal, name)
    if modality == "audio":
        y, sr = signal
        return audio_transform(y, sr, name, seed=seed), sr
    raise ValueError(f"no transform {name!r} for {modality}")


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None:
        return "–"
    return f"{v:.1%}" if pct else f"{v:.3f}"


def _group_tables(recs: list[Record], y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    """Per-generator (its synthetic items vs all real) and per-real-source (its items vs all synthetic)."""
    real_idx = [i for i, r in enumerate(recs) if r.label == 0]
    syn_idx = [i for i, r in enumerate(recs) if r.label == 1]
    per_gen: dict[str, Any] = {}
    gens: dict[str, list[int]] = defaultdict(list)
    for i in syn_idx:
        gens[recs[i].generator or "unknown"].append(i)
    for g, idx in sorted(gens.items()):
        m = compute_metrics(y[idx + real_idx], p[idx + real_idx], threshold=threshold)
        per_gen[g] = {
            "n": len(idx),
            "auc": m.auc,
            "eer": m.eer,
            "tpr_at_1fpr": m.tpr_at_1fpr,
            "detected_at_threshold": float(np.mean(p[idx] >= threshold)),
            "mean_score": float(p[idx].mean()),
        }
    per_src: dict[str, Any] = {}
    srcs: dict[str, list[int]] = defaultdict(list)
    for i in real_idx:
        srcs[recs[i].family].append(i)
    for s, idx in sorted(srcs.items()):
        m = compute_metrics(y[idx + syn_idx], p[idx + syn_idx], threshold=threshold)
        per_src[s] = {
            "n": len(idx),
            "auc": m.auc,
            "eer": m.eer,
            "false_positive_rate": float(np.mean(p[idx] >= threshold)),
            "mean_score": float(p[idx].mean()),
        }
    return {"per_generator": per_gen, "per_real_source": per_src}


def evaluate(
    model_name_or_path: str | Path,
    data_dir: str | Path,
    *,
    out_dir: str | Path,
    robustness: bool = True,
    models_dir: str | Path | None = None,
    split: str = "test",
    holdout_generator: str | None = None,
    max_items: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Evaluate one trained detector on held-out items and write a report.

    Args:
        model_name_or_path: Weights ``.pt`` path or detector name.
        data_dir: Dataset folder with ``labels.jsonl``.
        out_dir: Where ``results.json``, ``summary.md`` and the plots go.
        robustness: Also score every item after each transform (images: JPEG 95/75/50, WebP 75, resize
            0.5; audio: Ogg and MP3 at 64 kbit/s, white noise at 20 dB SNR, an 8 kHz GSM phone
            channel), both classes.
        models_dir: Models root for names.
        split: Which split counts as held out (``test``; ``all`` for every item — only honest for
            data from another source than training).
        holdout_generator: Add every item of this generator family (the one left out in training).
        max_items: Cap per class (seeded sample) for quick runs.
        seed: Seed for the sample and the noise transform.

    Returns:
        The results dict (also written to ``results.json``).
    """
    from detector.train.common import set_threads

    set_threads()
    det, modality = load_model(model_name_or_path, models_dir=models_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    recs = load_records(data_dir, modality=modality)
    held = holdout_family(recs, holdout_generator)
    recs = [
        r for r in recs if split == "all" or r.split == split or (held and r.label == 1 and r.family == held)
    ]
    if max_items:
        rng = np.random.default_rng(seed)
        keep = []
        for c in (0, 1):
            idx = [i for i, r in enumerate(recs) if r.label == c]
            keep += sorted(rng.choice(idx, min(max_items, len(idx)), replace=False).tolist()) if idx else []
        recs = [recs[i] for i in sorted(keep)]
    if {r.label for r in recs} != {0, 1}:
        raise ValueError(
            f"held-out set needs both classes; {split!r} split has labels {sorted({r.raw_label for r in recs})}"
        )
    transforms = ["none"]
    if robustness and modality == "image":
        transforms = list(IMAGE_TRANSFORMS)
    elif robustness and modality == "audio":
        transforms = list(AUDIO_TRANSFORMS)
    threshold = float(getattr(det, "threshold", 0.5))
    scores: dict[str, list[float]] = {t: [] for t in transforms}
    for i, r in enumerate(tqdm(recs, desc=f"evaluate {det.name}", file=sys.stderr)):
        sig = _decode(r, modality)
        for t in transforms:
            scores[t].append(det.score(_transformed(sig, modality, t, seed + i)))
    y = np.array([r.label for r in recs])
    results: dict[str, Any] = {
        "model": det.name,
        "version": det.version,
        "modality": modality,
        "data_dir": str(data_dir),
        "split": split,
        "holdout_generator": holdout_generator,
        "holdout_family": held,
        # Which generators that family is in this data (a labels.jsonl family field may group them).
        "holdout_generators": sorted({r.generator for r in recs if held and r.label == 1 and r.family == held}),
        "threshold": threshold,
        "n_real": int((y == 0).sum()),
        "n_synthetic": int((y == 1).sum()),
        "transforms": {},
    }
    for t in transforms:
        p = np.array(scores[t])
        m = compute_metrics(y, p, threshold=threshold)
        results["transforms"][t] = {"overall": m.to_dict(), **_group_tables(recs, y, p, threshold)}
    p0 = np.array(scores["none"])
    rel = reliability(y, p0)
    results["calibration"] = {
        "ece": rel.ece,
        "bins": {
            "edges": rel.edges,
            "mean_score": rel.mean_score,
            "frac_synthetic": rel.frac_positive,
            "count": rel.count,
        },
    }
    curves = {t: (y, np.array(scores[t])) for t in transforms}
    plots = {
        "roc": plot_roc(curves, out / "roc.png", title=f"{det.name}: ROC under transforms"),
        "det": plot_det(curves, out / "det.png", title=f"{det.name}: DET under transforms"),
        "reliability": plot_reliability(y, p0, out / "reliability.png", title=f"{det.name} calibration"),
    }
    gen_curves = {}
    for g in sorted({r.generator for r in recs if r.label == 1 and r.generator}):
        idx = [i for i, r in enumerate(recs) if r.label == 0 or r.generator == g]
        gen_curves[g] = (y[idx], p0[idx])
    if gen_curves:
        plots["roc_per_generator"] = plot_roc(
            gen_curves, out / "roc_per_generator.png", title=f"{det.name}: per generator"
        )
    results["plots"] = {k: v.name for k, v in plots.items()}
    (out / "results.json").write_text(json.dumps(results, indent=2, default=float), "utf-8")
    (out / "summary.md").write_text(summary_markdown(results), "utf-8")
    return results


def summary_markdown(results: dict[str, Any]) -> str:
    """The report's Markdown summary (tables per transform, generator and real source)."""
    r = results
    lines = [
        f"## Evaluation of `{r['model']}` ({r['version']})",
        "",
        f"Held-out items: {r['n_synthetic']} synthetic, {r['n_real']} real (split `{r['split']}`"
        + (
            f", generator family `{r.get('holdout_family')}` held out of training"
            if r["holdout_generator"]
            else ""
        )
        + f"), data `{r['data_dir']}`. Scores are calibrated P(synthetic); threshold {r['threshold']:.2f}. "
        "Every transform is applied to both classes.",
        "",
        "| transform | AUC | EER | TPR@1%FPR | TPR@0.1%FPR | accuracy | ECE |",
        "|---|---|---|---|---|---|---|",
    ]
    for t, v in r["transforms"].items():
        o = v["overall"]
        lines.append(
            f"| {t} | {_fmt(o['auc'])} | {_fmt(o['eer'], True)} | {_fmt(o['tpr_at_1fpr'], True)} | "
            f"{_fmt(o['tpr_at_01fpr'], True)} | {_fmt(o['accuracy'], True)} | {_fmt(o['ece'])} |"
        )
    none = r["transforms"]["none"]
    lines += [
        "",
        "Per generator (its synthetic items vs all real items, no transform):",
        "",
        "| generator | n | AUC | EER | TPR@1%FPR | detected at threshold |",
        "|---|---|---|---|---|---|",
    ]
    for g, v in none["per_generator"].items():
        lines.append(
            f"| {g} | {v['n']} | {_fmt(v['auc'])} | {_fmt(v['eer'], True)} | {_fmt(v['tpr_at_1fpr'], True)} | "
            f"{_fmt(v['detected_at_threshold'], True)} |"
        )
    lines += [
        "",
        "Per real source (its real items vs all synthetic items, no transform):",
        "",
        "| real source | n | AUC | false-positive rate at threshold | mean score |",
        "|---|---|---|---|---|",
    ]
    for s, v in none["per_real_source"].items():
        lines.append(
            f"| {s} | {v['n']} | {_fmt(v['auc'])} | {_fmt(v['false_positive_rate'], True)} | {_fmt(v['mean_score'])} |"
        )
    lines += [
        "",
        f"Calibration (no transform): ECE {r['calibration']['ece']:.3f}.",
        "",
        "Plots: " + ", ".join(f"[{k}]({v})" for k, v in r["plots"].items()),
        "",
    ]
    n = min(r["n_real"], r["n_synthetic"])
    if n < 1000:
        lines.append(
            f"Note: with {r['n_real']} real items, TPR at 0.1% FPR is only resolvable when there are at "
            "least 1,000 real items; below that it is the TPR at zero false positives."
        )
    return "\n".join(lines) + "\n"
