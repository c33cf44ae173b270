"""Image baselines, trained by the same script as the main detector and evaluated beside it.

- ``image-fft-lr``: log-magnitude spectrum of 64-px grey residual patches + logistic regression
  (Durall et al. / Wang et al.: generator upsampling leaves periodic peaks in the spectrum).
- ``image-npr-cnn``: NPR residual + small CNN (the ``npr`` front of ``detector.image.residual``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from detector.base import register_detector
from detector.image.residual import PatchCNNDetector, _rgb, centre_crop
from detector.trained import TrainedDetector
from detector.types import Finding, MediaItem

KIND = "image-fft-lr"
PATCH = 64
GRID = 4  # GRID x GRID patches per image at inference


def fft_features(patches: np.ndarray) -> np.ndarray:
    """Spectral features of grey uint8 patches (N, 64, 64) → (N, 32*32).

    The patch minus its 3x3 box blur (content removed), windowed, FFT log-magnitude, shifted,
    then 2x2-averaged: periodic upsampling peaks survive, scene content mostly does not.
    """
    import cv2

    x = patches.astype(np.float32)
    blur = np.stack([cv2.blur(p, (3, 3)) for p in x]) if len(x) else x
    r = x - blur
    win = np.outer(np.hanning(PATCH), np.hanning(PATCH)).astype(np.float32)
    spec = np.log1p(np.abs(np.fft.fftshift(np.fft.fft2(r * win), axes=(-2, -1))))
    n = spec.shape[0]
    return spec.reshape(n, PATCH // 2, 2, PATCH // 2, 2).mean(axis=(2, 4)).reshape(n, -1).astype(np.float32)


def grid_patches(img: np.ndarray, *, grid: int = GRID, size: int = PATCH) -> np.ndarray:
    """``grid x grid`` evenly spaced grey patches of ``size`` px (fewer if the image is small)."""
    grey = (_rgb(img).astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.uint8)
    h, w = grey.shape
    if h < size or w < size:
        return np.zeros((0, size, size), np.uint8)
    ys = np.linspace(0, h - size, grid).astype(int)
    xs = np.linspace(0, w - size, grid).astype(int)
    return np.stack([grey[y : y + size, x : x + size] for y in ys for x in xs])


class FFTLogReg(TrainedDetector):
    """Standardised FFT features → logistic regression; image raw score = mean patch logit."""

    modality = "image"
    kind = KIND

    def __init__(self, name: str, payload: dict[str, Any]) -> None:
        super().__init__(name, payload)
        st = payload["state"]
        self.mean = np.asarray(st["mean"], np.float32)
        self.std = np.asarray(st["std"], np.float32)
        self.coef = np.asarray(st["coef"], np.float32)
        self.intercept = float(np.asarray(st["intercept"]).ravel()[0])

    def patch_logits(self, patches: np.ndarray) -> np.ndarray:
        f = (fft_features(patches) - self.mean) / self.std
        return f @ self.coef + self.intercept

    def raw_score(self, img: np.ndarray) -> float:
        crop, _ = centre_crop(_rgb(img))
        p = grid_patches(crop)
        return float(self.patch_logits(p).mean()) if len(p) else 0.0

    def analyze(self, item: MediaItem, signal: np.ndarray) -> Finding:
        crop, box = centre_crop(_rgb(signal))
        p = grid_patches(crop)
        if not len(p):
            return self.skipped(f"image smaller than {PATCH} px")
        logits = self.patch_logits(p)
        g = int(round(len(logits) ** 0.5))
        return self.finding(
            float(logits.mean()),
            heatmap=np.round(self.calibrator(logits.reshape(g, g)), 3).tolist(),
            heatmap_box=box,
            method="FFT log-spectrum of residual patches + logistic regression (baseline)",
        )


@register_detector("image-fft-lr", modality="image", calibrated=True, baseline=True)
def image_fft_lr(*, models_dir: Path | None = None, **kw: Any) -> FFTLogReg:
    """FFT + logistic regression baseline; needs ``detectors/image-fft-lr.pt``."""
    return FFTLogReg.from_models_dir(models_dir, "image-fft-lr")


@register_detector("image-npr-cnn", modality="image", calibrated=True, baseline=True)
def image_npr_cnn(*, models_dir: Path | None = None, **kw: Any) -> PatchCNNDetector:
    """NPR residual + small CNN baseline; needs ``detectors/image-npr-cnn.pt``."""
    return PatchCNNDetector.from_models_dir(models_dir, "image-npr-cnn")
