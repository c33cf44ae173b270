"""LFCC-GMM baseline (ASVspoof 2019/2021 baseline B1): two GMMs, frame log-likelihood ratio.

Features: 20 LFCC + delta + delta-delta. One diagonal GMM is fitted on real frames, one on
synthetic frames; a clip's raw score is the mean over frames of log p(x|synthetic) - log p(x|real).
(The ASVspoof baseline uses 512 full-EM components; 32 diagonal ones train in seconds here.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from detector.audio.features import SEG_FRAMES, lfcc, resample
from detector.base import register_detector
from detector.trained import TrainedDetector
from detector.types import Finding, MediaItem

KIND = "audio-lfcc-gmm"


def gmm_loglik(x: np.ndarray, weights: np.ndarray, means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """Per-frame log-likelihood under a diagonal GMM. x: (N, D); means/variances: (K, D)."""
    from scipy.special import logsumexp

    prec = 1.0 / variances
    log_det = np.sum(np.log(variances), axis=1)
    d = x.shape[1]
    # (x-m)^2/v expanded so it is one matrix product per term, not an (N, K, D) tensor.
    quad = (x**2) @ prec.T - 2 * x @ (means * prec).T + np.sum(means**2 * prec, axis=1)
    comp = -0.5 * (d * np.log(2 * np.pi) + log_det + quad) + np.log(weights)
    return logsumexp(comp, axis=1)


class LFCCGMM(TrainedDetector):
    """Two-GMM log-likelihood-ratio detector."""

    modality = "audio"
    kind = KIND

    def __init__(self, name: str, payload: dict[str, Any]) -> None:
        super().__init__(name, payload)
        st = payload["state"]
        self.gmms = {
            c: tuple(np.asarray(st[f"{c}_{k}"], np.float64) for k in ("weights", "means", "variances"))
            for c in ("real", "synthetic")
        }

    def frame_llr(self, y16: np.ndarray) -> np.ndarray:
        x = lfcc(y16).T.astype(np.float64)
        return gmm_loglik(x, *self.gmms["synthetic"]) - gmm_loglik(x, *self.gmms["real"])

    def raw_score(self, signal: tuple[np.ndarray, int]) -> float:
        y, sr = signal
        return float(self.frame_llr(resample(y, sr)).mean())

    def analyze(self, item: MediaItem, signal: tuple[np.ndarray, int]) -> Finding:
        y, sr = signal
        if len(y) < 0.1 * sr:
            return self.skipped("audio shorter than 0.1 s")
        llr = self.frame_llr(resample(y, sr))
        raw = float(llr.mean())
        n = max(1, int(np.ceil(len(llr) / SEG_FRAMES)))
        segs = []
        for i in range(n):
            part = llr[i * SEG_FRAMES : (i + 1) * SEG_FRAMES]
            segs.append(
                {
                    "start": round(i * 0.5, 2),
                    "end": round(i * 0.5 + len(part) * 0.01, 2),
                    "score": round(float(self.calibrator(part.mean())), 3),
                }
            )
        return self.finding(raw, method="LFCC-GMM log-likelihood ratio (ASVspoof baseline)", segments=segs[:2000])


@register_detector("audio-lfcc-gmm", modality="audio", calibrated=True, baseline=True)
def audio_lfcc_gmm(*, models_dir: Path | None = None, **kw: Any) -> LFCCGMM:
    """LFCC-GMM baseline; needs ``detectors/audio-lfcc-gmm.pt``."""
    return LFCCGMM.from_models_dir(models_dir, "audio-lfcc-gmm")
