"""The first detectors are simple measurements: check they measure what they claim."""

from __future__ import annotations

import numpy as np

from detector.base import create_detector
from detector.pipeline import load_plugins
from detector.types import MediaItem

load_plugins()
ITEM = MediaItem("x", "x", "0" * 64, "image", "image/png", 0)


def test_image_noise_floor_separates_clean_render_from_noisy_capture(rng) -> None:
    det = create_detector("image-noise-floor")
    y, x = np.mgrid[0:128, 0:128]
    clean = np.stack([x * 2, y * 2, (x + y)], -1).astype(np.uint8)
    noisy = np.clip(clean + rng.normal(0, 3.0, clean.shape), 0, 255).astype(np.uint8)
    f_clean, f_noisy = det.analyze(ITEM, clean), det.analyze(ITEM, noisy)
    assert f_clean.evidence["noise_sigma"] < 0.5 < 2.0 < f_noisy.evidence["noise_sigma"]
    assert f_clean.score > 0.5 > f_noisy.score
    assert f_clean.evidence["calibrated"] is False


def test_image_noise_floor_on_extreme_noise_does_not_overflow(rng) -> None:
    """Sigma in the hundreds (a one-pixel checkerboard, a clipped 16-bit scan) overflowed math.exp."""
    load_plugins()
    det = create_detector("image-noise-floor")
    y, x = np.mgrid[0:128, 0:128]
    board = np.repeat((((x + y) % 2) * 255).astype(np.uint8)[:, :, None], 3, axis=2)
    f = det.analyze(MediaItem("n.png", "n.png", "0" * 64, "image", "image/png", 1), board)
    assert f.status == "ok" and f.score == 0.0


def test_audio_noise_floor(rng) -> None:
    det = create_detector("audio-noise-floor")
    sr = 16000
    t = np.arange(sr) / sr
    tone = (0.3 * np.sin(2 * np.pi * 200 * t) * (t < 0.5)).astype(np.float32)  # digital silence after
    mic = (tone + rng.normal(0, 0.003, sr)).astype(np.float32)
    a, b = det.analyze(ITEM, (tone, sr)), det.analyze(ITEM, (mic, sr))
    assert a.evidence["noise_floor_dbfs"] < -150 and b.evidence["noise_floor_dbfs"] > -60
    assert a.score > 0.9 > 0.1 > b.score


def test_text_repetition() -> None:
    det = create_detector("text-repetition")
    loop = "the cat sat on the mat and " * 10
    prose = ("Provenance records tell an editor where a photograph came from, who changed it, and "
             "when; without them a newsroom must rely on reverse searches and phone calls.")
    assert det.analyze(ITEM, loop).score > 0.9
    assert det.analyze(ITEM, prose).score < 0.2
    assert det.analyze(ITEM, "too short").status == "skipped"
