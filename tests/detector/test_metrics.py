"""Metrics against hand-computed cases, plots, and the Platt calibrator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detector.eval.metrics import (
    compute_metrics,
    det_curve,
    eer,
    heat_inside_outside,
    plot_det,
    plot_reliability,
    plot_roc,
    reliability,
    roc_auc,
    tpr_at_fpr,
)
from detector.train.io import Platt, fit_platt


def test_auc_hand_computed() -> None:
    # Pairs (pos, neg): 0.8>0.3, 0.8>0.6, 0.4>0.3, 0.4<0.6 → 3 of 4 pairs ordered: AUC 0.75.
    assert roc_auc([1, 1, 0, 0], [0.8, 0.4, 0.3, 0.6]) == pytest.approx(0.75)
    # A tie counts half.
    assert roc_auc([1, 0], [0.5, 0.5]) == pytest.approx(0.5)
    assert roc_auc([1, 1], [0.1, 0.2]) is None


def test_det_curve_matches_asvspoof_reference() -> None:
    y = [1, 1, 1, 0, 0, 0]
    s = [0.9, 0.7, 0.4, 0.6, 0.3, 0.1]
    frr, far, thr = det_curve(y, s)
    # Sorted: 0.1(n) 0.3(n) 0.4(p) 0.6(n) 0.7(p) 0.9(p)
    np.testing.assert_allclose(frr, [0, 0, 0, 1 / 3, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(far, [1, 2 / 3, 1 / 3, 1 / 3, 0, 0, 0])
    assert thr[0] < 0.1 and thr[-1] == 0.9
    e, t = eer(y, s)
    # |frr - far| is 0 at index 3 (both 1/3): EER = 1/3 at threshold 0.4 (the 3rd sorted score).
    assert e == pytest.approx(1 / 3)
    assert t == pytest.approx(0.4)


def test_eer_perfect_and_inverted() -> None:
    assert eer([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1])[0] == 0.0
    assert eer([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9])[0] == 1.0


def test_tpr_at_fpr() -> None:
    # 100 real scored 0..0.99, 10 synthetic at 0.995 except 3 at 0.5: at FPR <= 1% the threshold
    # must sit above 0.98, catching the 7 high ones only.
    neg = np.arange(100) / 100
    pos = np.array([0.995] * 7 + [0.5] * 3)
    y = np.r_[np.zeros(100), np.ones(10)]
    s = np.r_[neg, pos]
    assert tpr_at_fpr(y, s, 0.01) == pytest.approx(0.7)
    assert tpr_at_fpr(y, s, 0.001) == pytest.approx(0.7)  # FPR 0 is also reachable here
    assert tpr_at_fpr(y, s, 0.5) == pytest.approx(1.0)


def test_reliability_and_ece_hand_computed() -> None:
    # Bin [0.0,0.1): p=0.05 x2, labels 0,0 → gap 0.05; bin [0.9,1.0]: p=0.95, 1.0 labels 1,0 → mean 0.975 vs 0.5.
    rel = reliability([0, 0, 1, 0], [0.05, 0.05, 0.95, 1.0], n_bins=10)
    assert rel.count[0] == 2 and rel.count[9] == 2 and sum(rel.count) == 4
    assert rel.frac_positive[9] == pytest.approx(0.5)
    assert rel.ece == pytest.approx(0.5 * 0.05 + 0.5 * 0.475)
    with pytest.raises(ValueError):
        reliability([0, 1], [0.2, 1.2])


def test_compute_metrics_summary() -> None:
    m = compute_metrics([1, 1, 0, 0], [0.9, 0.6, 0.4, 0.1])
    assert (m.n_pos, m.n_neg, m.auc, m.eer, m.accuracy) == (2, 2, 1.0, 0.0, 1.0)
    one_class = compute_metrics([1, 1], [0.9, 0.2])
    assert one_class.auc is None and one_class.eer is None and one_class.accuracy == 0.5


def test_plots_written(tmp_path: Path, rng: np.random.Generator) -> None:
    y = np.r_[np.zeros(50), np.ones(50)]
    s = np.clip(np.r_[rng.normal(0.3, 0.15, 50), rng.normal(0.7, 0.15, 50)], 0, 1)
    for p in (
        plot_roc({"a": (y, s)}, tmp_path / "roc.png"),
        plot_det({"a": (y, s)}, tmp_path / "det.png"),
        plot_reliability(y, s, tmp_path / "rel.png"),
    ):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000


def test_platt_is_monotone_and_calibrates(rng: np.random.Generator) -> None:
    # Raw scores whose true P(synthetic | raw) = sigmoid(2 * raw - 1).
    raw = rng.normal(0, 2, 4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(2 * raw - 1)))).astype(int)
    cal = fit_platt(raw, y)
    assert cal.a == pytest.approx(2.0, rel=0.15) and cal.b == pytest.approx(-1.0, abs=0.2)
    grid = np.linspace(-10, 10, 201)
    assert np.all(np.diff(cal(grid)) >= 0)
    assert reliability(y, cal(raw)).ece < 0.03
    # Perfectly separated data must not give 0/1 probabilities (Platt's target smoothing).
    sep = fit_platt([-1, -1, 1, 1], [0, 0, 1, 1])
    assert 0 < sep(-1) < 0.5 < sep(1) < 1
    assert Platt.from_dict(cal.to_dict()) == cal


def test_balanced_platt_ignores_class_counts(rng: np.random.Generator) -> None:
    # Same score distributions, 1:1 and 1:4 class counts: the plain fit moves its offset with the
    # prior (fewer synthetic -> lower probabilities), the balanced fit keeps a 50/50 prior.
    pos, neg = rng.normal(1, 1, 500), rng.normal(-1, 1, 500)
    neg4 = np.concatenate([neg] * 4)
    raw1, y1 = np.concatenate([pos, neg]), np.r_[np.ones(500), np.zeros(500)]
    raw4, y4 = np.concatenate([pos, neg4]), np.r_[np.ones(500), np.zeros(2000)]
    plain1, plain4 = fit_platt(raw1, y1), fit_platt(raw4, y4)
    bal1, bal4 = fit_platt(raw1, y1, balanced=True), fit_platt(raw4, y4, balanced=True)
    assert plain4(0.0) < plain1(0.0) - 0.15  # log(1/4) prior shift: 0.5 -> ~0.2
    assert bal4(0.0) == pytest.approx(bal1(0.0), abs=0.01) and bal4.a == pytest.approx(bal1.a, rel=0.02)
    assert bal1(0.0) == pytest.approx(plain1(0.0), abs=0.01)  # equal counts: the same map


def test_heatmap_inside_outside_compares_the_mask_region_of_the_box() -> None:
    # bench/heatmap_localisation's measure: a 2x2 heatmap over the box [2, 0, 4, 4] of a 4x6 image,
    # hot top-left cell; the mask covers exactly that cell's 2x2 pixels.
    mask = np.zeros((4, 6), bool)
    mask[0:2, 2:4] = True
    assert heat_inside_outside([[1.0, 0.0], [0.0, 0.0]], [2, 0, 4, 4], mask) == (1.0, 0.0)
    assert heat_inside_outside([[0.0, 1.0], [1.0, 1.0]], [2, 0, 4, 4], mask) == (0.0, 1.0)
    assert heat_inside_outside([[1.0, 1.0], [1.0, 1.0]], [2, 0, 4, 4], np.zeros((4, 6), bool)) is None
