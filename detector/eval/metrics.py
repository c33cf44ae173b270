"""Detection metrics: ROC AUC, EER (ASVspoof style), TPR at fixed FPR, ECE and reliability bins.

Convention everywhere: ``labels`` are 1 for synthetic (the positive class, "spoof") and 0 for
real ("bona fide"); ``scores`` are higher for "more likely synthetic". EER follows the ASVspoof
evaluation package (``compute_det_curve`` / ``compute_eer``): sort all scores once, sweep the
threshold over them, and take the point where the miss rate (FRR: synthetic called real) equals
the false-alarm rate (FAR: real called synthetic).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Metrics:
    """Summary of one score set.

    Attributes:
        n_pos: Synthetic items.
        n_neg: Real items.
        auc: ROC AUC (None when a class is missing).
        eer: Equal error rate in 0..1 (None when a class is missing).
        eer_threshold: Score at the EER point.
        tpr_at_1fpr: TPR where FPR <= 1 %.
        tpr_at_01fpr: TPR where FPR <= 0.1 %.
        accuracy: At ``threshold``.
        threshold: Decision threshold used for ``accuracy``.
        ece: Expected calibration error (only meaningful for probability scores).
    """

    n_pos: int
    n_neg: int
    auc: float | None
    eer: float | None
    eer_threshold: float | None
    tpr_at_1fpr: float | None
    tpr_at_01fpr: float | None
    accuracy: float
    threshold: float
    ece: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _check(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).astype(int).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"labels and scores differ in length: {y.shape} vs {s.shape}")
    if not np.all(np.isin(y, (0, 1))):
        raise ValueError("labels must be 0 (real) or 1 (synthetic)")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite")
    return y, s


def roc_auc(labels: Any, scores: Any) -> float | None:
    """Area under the ROC curve (ties count half), or None when one class is absent.

    Args:
        labels: 1 synthetic, 0 real.
        scores: Higher means more likely synthetic.
    """
    from sklearn.metrics import roc_auc_score

    y, s = _check(labels, scores)
    if y.min(initial=1) == y.max(initial=0) or len(y) == 0:
        return None
    return float(roc_auc_score(y, s))


def det_curve(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Miss and false-alarm rates at every threshold, as in the ASVspoof ``compute_det_curve``.

    Args:
        labels: 1 synthetic (target of detection), 0 real.
        scores: Higher means more likely synthetic.

    Returns:
        ``(frr, far, thresholds)``: at threshold ``t`` an item is called synthetic when
        ``score >= t``; ``frr`` is the fraction of synthetic items below ``t``, ``far`` the
        fraction of real items at or above ``t``. The first point (``t`` below every score)
        has ``frr = 0, far = 1``.
    """
    y, s = _check(labels, scores)
    pos, neg = s[y == 1], s[y == 0]
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("det_curve needs both classes")
    all_scores = np.concatenate([pos, neg])
    lab = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    # Stable sort, synthetic first among ties (the ASVspoof package's exact ordering).
    order = np.argsort(all_scores, kind="mergesort")
    lab = lab[order]
    tar_trial_sums = np.cumsum(lab)
    nontarget_trial_sums = len(neg) - (np.arange(1, len(lab) + 1) - tar_trial_sums)
    frr = np.concatenate([[0.0], tar_trial_sums / len(pos)])
    far = np.concatenate([[1.0], nontarget_trial_sums / len(neg)])
    thr = np.concatenate([[all_scores[order[0]] - 1e-3], all_scores[order]])
    return frr, far, thr


def eer(labels: Any, scores: Any) -> tuple[float, float]:
    """Equal error rate and its threshold (ASVspoof ``compute_eer``).

    Args:
        labels: 1 synthetic, 0 real.
        scores: Higher means more likely synthetic.

    Returns:
        ``(eer, threshold)``: the mean of FRR and FAR at the threshold where they are closest.
    """
    frr, far, thr = det_curve(labels, scores)
    idx = int(np.nanargmin(np.abs(frr - far)))
    return float((frr[idx] + far[idx]) / 2.0), float(thr[idx])


def tpr_at_fpr(labels: Any, scores: Any, fpr: float) -> float | None:
    """Highest TPR reachable while the false-positive rate stays at or below ``fpr``.

    Args:
        labels: 1 synthetic, 0 real.
        scores: Higher means more likely synthetic.
        fpr: Maximum false-positive rate (e.g. 0.01).

    Returns:
        TPR in 0..1, or None when a class is absent. With fewer than ``1/fpr`` real items the
        only admissible operating point is FPR = 0, which is what this then reports.
    """
    from sklearn.metrics import roc_curve

    y, s = _check(labels, scores)
    if y.min(initial=1) == y.max(initial=0) or len(y) == 0:
        return None
    f, t, _ = roc_curve(y, s, drop_intermediate=False)
    ok = f <= fpr + 1e-12
    return float(t[ok].max()) if ok.any() else 0.0


@dataclass(frozen=True)
class Reliability:
    """Reliability diagram data: per equal-width bin, mean confidence, observed rate, count."""

    edges: list[float]
    mean_score: list[float | None]
    frac_positive: list[float | None]
    count: list[int]
    ece: float


def reliability(labels: Any, probs: Any, *, n_bins: int = 10) -> Reliability:
    """Equal-width reliability bins and the expected calibration error.

    ECE = sum over bins of (bin count / N) * |observed synthetic rate - mean predicted P(synthetic)|.

    Args:
        labels: 1 synthetic, 0 real.
        probs: Predicted P(synthetic) in 0..1.
        n_bins: Number of equal-width bins over [0, 1].
    """
    y, p = _check(labels, probs)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("probabilities must lie in [0, 1]")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Right-closed last bin so p == 1.0 lands in it.
    idx = np.clip(np.digitize(p, edges[1:-1], right=False), 0, n_bins - 1)
    mean_s: list[float | None] = []
    frac: list[float | None] = []
    count: list[int] = []
    ece = 0.0
    for b in range(n_bins):
        m = idx == b
        c = int(m.sum())
        count.append(c)
        if c == 0:
            mean_s.append(None)
            frac.append(None)
            continue
        ms, fp = float(p[m].mean()), float(y[m].mean())
        mean_s.append(ms)
        frac.append(fp)
        ece += c / len(y) * abs(fp - ms)
    return Reliability([float(e) for e in edges], mean_s, frac, count, float(ece))


def compute_metrics(
    labels: Any, scores: Any, *, threshold: float = 0.5, probabilities: bool = True
) -> Metrics:
    """Every summary figure for one score set.

    Args:
        labels: 1 synthetic, 0 real.
        scores: Higher means more likely synthetic.
        threshold: Operating point for ``accuracy``.
        probabilities: When True, ``scores`` are P(synthetic) and ECE is computed.
    """
    y, s = _check(labels, scores)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    both = n_pos > 0 and n_neg > 0
    e, et = eer(y, s) if both else (None, None)
    acc = float(np.mean((s >= threshold).astype(int) == y)) if len(y) else float("nan")
    ece = reliability(y, s).ece if probabilities and len(y) else None
    return Metrics(
        n_pos=n_pos,
        n_neg=n_neg,
        auc=roc_auc(y, s) if both else None,
        eer=e,
        eer_threshold=et,
        tpr_at_1fpr=tpr_at_fpr(y, s, 0.01) if both else None,
        tpr_at_01fpr=tpr_at_fpr(y, s, 0.001) if both else None,
        accuracy=acc,
        threshold=threshold,
        ece=ece,
    )


def heat_inside_outside(
    heatmap: Any, box: list[int] | tuple[int, ...], mask: np.ndarray
) -> tuple[float, float] | None:
    """Localisation of a heatmap: its mean inside / outside a true edit ``mask`` over ``box``.

    ``heatmap`` is a detector's per-cell grid covering ``box`` = ``[x, y, w, h]`` of the image
    (``evidence["heatmap"]`` / ``["heatmap_box"]``); it is resized to the box (nearest cell) and
    compared with ``mask`` (bool, image-sized). None when the box holds only one side of the mask.
    """
    import cv2

    x, y, w, h = box
    m = np.asarray(mask, bool)[y : y + h, x : x + w]
    hm = cv2.resize(np.asarray(heatmap, np.float32), (w, h), interpolation=cv2.INTER_NEAREST)
    if m.shape != hm.shape or not m.any() or m.all():
        return None
    return float(hm[m].mean()), float(hm[~m].mean())


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_roc(curves: dict[str, tuple[Any, Any]], path: str | Path, *, title: str = "ROC") -> Path:
    """ROC curves (one per named ``(labels, scores)`` pair) on log-FPR axes, saved as PNG.

    Args:
        curves: Name → (labels, scores).
        path: Output PNG.
        title: Figure title.
    """
    from sklearn.metrics import roc_curve

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    for name, (y, s) in curves.items():
        y, s = _check(y, s)
        if y.min(initial=1) == y.max(initial=0):
            continue
        f, t, _ = roc_curve(y, s)
        ax.plot(np.maximum(f, 1e-4), t, label=f"{name} (AUC {roc_auc(y, s):.3f})")
    ax.plot([1e-4, 1], [1e-4, 1], ls=":", c="grey")
    ax.set_xscale("log")
    ax.set_xlim(1e-3, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false-positive rate (real called synthetic)")
    ax.set_ylabel("true-positive rate")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_det(curves: dict[str, tuple[Any, Any]], path: str | Path, *, title: str = "DET") -> Path:
    """DET curves (miss rate vs false-alarm rate on probit axes), saved as PNG.

    Args:
        curves: Name → (labels, scores).
        path: Output PNG.
        title: Figure title.
    """
    from scipy.stats import norm

    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    lo = 1e-3
    for name, (y, s) in curves.items():
        y, s = _check(y, s)
        if y.min(initial=1) == y.max(initial=0):
            continue
        frr, far, _ = det_curve(y, s)
        e, _ = eer(y, s)
        ax.plot(
            norm.ppf(np.clip(far, lo, 1 - lo)),
            norm.ppf(np.clip(frr, lo, 1 - lo)),
            label=f"{name} (EER {e:.1%})",
        )
    ticks = [0.001, 0.01, 0.05, 0.2, 0.5, 0.8, 0.95, 0.99]
    ax.set_xticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    ax.set_yticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    ax.plot(norm.ppf([lo, 1 - lo]), norm.ppf([lo, 1 - lo]), ls=":", c="grey")
    ax.set_xlabel("false-alarm rate (real called synthetic)")
    ax.set_ylabel("miss rate (synthetic called real)")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_reliability(
    labels: Any, probs: Any, path: str | Path, *, n_bins: int = 10, title: str = "Reliability"
) -> Path:
    """Reliability diagram (observed synthetic rate vs mean predicted probability), saved as PNG.

    Args:
        labels: 1 synthetic, 0 real.
        probs: Predicted P(synthetic).
        path: Output PNG.
        n_bins: Equal-width bins.
        title: Figure title.
    """
    rel = reliability(labels, probs, n_bins=n_bins)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    centers = [(a + b) / 2 for a, b in zip(rel.edges[:-1], rel.edges[1:], strict=True)]
    xs = [c for c, f in zip(centers, rel.frac_positive, strict=True) if f is not None]
    ys = [f for f in rel.frac_positive if f is not None]
    ax.bar(xs, ys, width=1.0 / n_bins, alpha=0.6, edgecolor="k", label="observed")
    ax.plot([0, 1], [0, 1], ls=":", c="grey", label="perfect")
    ax.set_xlabel("predicted P(synthetic)")
    ax.set_ylabel("fraction synthetic")
    ax.set_title(f"{title} (ECE {rel.ece:.3f})")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
