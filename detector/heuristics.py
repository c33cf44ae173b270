"""First, deliberately simple detectors: one measured signal per modality, reported honestly.

They are *not* trained classifiers: each measures one property that differs between camera /
microphone / human output and naive generators, maps it to 0..1 with a fixed, documented curve,
and says so in its evidence. Fusion gives them no weight until they are calibrated on held-out
data (see detector/fusion.py); they are here so every modality has a working detector slot, and
so reviewers see the raw measurement.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

import numpy as np

from detector.base import VideoSignal, create_detector, list_detectors, register_detector
from detector.errors import DetectorError
from detector.types import Finding, MediaItem


def _sigmoid(x: float) -> float:
    # tanh form: no overflow for very noisy images (sigma in the hundreds made exp(-x) overflow).
    return 0.5 * (1.0 + math.tanh(0.5 * x))


class ImageNoiseFloor:
    """Sensor-noise floor: cameras leave noise in flat regions, clean renders do not.

    Estimates noise sigma with Immerkær's fast method (a Laplacian-difference kernel whose
    response is pure noise on locally linear image content), on the grey image.
    """

    name = "image-noise-floor"
    version = "0.1.0"
    modality = "image"

    def analyze(self, item: MediaItem, signal: np.ndarray) -> Finding:
        grey = signal.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        h, w = grey.shape
        if h < 3 or w < 3:
            return Finding(self.name, self.version, None, "skipped", {"reason": "image smaller than 3x3"})
        k = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
        from scipy.signal import convolve2d

        # Cap the work on huge images: noise statistics converge on a centre crop.
        if h * w > 2048 * 2048:
            cy, cx = h // 2, w // 2
            grey = grey[max(cy - 1024, 0) : cy + 1024, max(cx - 1024, 0) : cx + 1024]
            h, w = grey.shape
        resp = np.abs(convolve2d(grey, k, mode="valid"))
        sigma = float(math.sqrt(math.pi / 2.0) * resp.sum() / (6.0 * (w - 2) * (h - 2)))
        # sigma < ~0.5 grey levels is far below any camera sensor's floor.
        score = _sigmoid((0.8 - sigma) * 4.0)
        return Finding(
            self.name,
            self.version,
            round(score, 4),
            "ok",
            {"noise_sigma": round(sigma, 4), "calibrated": False, "method": "Immerkaer 1996 fast noise estimate"},
        )


class AudioNoiseFloor:
    """Noise floor of the quietest frames: microphones never record digital silence."""

    name = "audio-noise-floor"
    version = "0.1.0"
    modality = "audio"

    def analyze(self, item: MediaItem, signal: tuple[np.ndarray, int]) -> Finding:
        y, sr = signal
        frame = max(int(sr * 0.02), 1)
        n = len(y) // frame
        if n < 5:
            return Finding(self.name, self.version, None, "skipped", {"reason": "audio shorter than 0.1 s"})
        rms = np.sqrt(np.mean(y[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-20)
        floor_db = float(20 * np.log10(np.percentile(rms, 5) + 1e-10))
        zero_frac = float(np.mean(y == 0.0))
        score = _sigmoid((-75.0 - floor_db) / 6.0)
        return Finding(
            self.name,
            self.version,
            round(score, 4),
            "ok",
            {
                "noise_floor_dbfs": round(floor_db, 2),
                "exact_zero_fraction": round(zero_frac, 4),
                "duration_s": round(len(y) / sr, 3),
                "calibrated": False,
            },
        )


_WORD = re.compile(r"[A-Za-z\u00C0-\u024F']+")


class TextRepetition:
    """Repeated word trigrams: small language models loop; people rarely repeat 3-word runs."""

    name = "text-repetition"
    version = "0.1.0"
    modality = "text"

    def analyze(self, item: MediaItem, signal: str) -> Finding:
        words = [w.lower() for w in _WORD.findall(signal)]
        if len(words) < 20:
            return Finding(self.name, self.version, None, "skipped", {"reason": "fewer than 20 words"})
        tri = Counter(zip(words, words[1:], words[2:], strict=False))
        repeated = sum(c - 1 for c in tri.values() if c > 1) / max(len(words) - 2, 1)
        ttr = len(set(words)) / len(words)
        score = _sigmoid((repeated - 0.05) * 40.0)
        return Finding(
            self.name,
            self.version,
            round(score, 4),
            "ok",
            {"repeated_trigram_ratio": round(repeated, 4), "type_token_ratio": round(ttr, 4), "words": len(words), "calibrated": False},
        )


class VideoFrames:
    """Scores sampled frames with every image detector and reports the frame timeline."""

    name = "video-frames"
    version = "0.1.0"
    modality = "video"

    def __init__(self, models_dir: Any = None) -> None:
        self.models_dir = models_dir
        self._dets: list[Any] | None = None

    def _image_detectors(self) -> list[Any]:
        # Created once per process: loading CNN weights for every video would dominate its scan.
        if self._dets is None:
            dets = []
            for n in list_detectors(modality="image"):
                try:
                    dets.append(create_detector(n, models_dir=self.models_dir))
                except DetectorError:
                    continue  # weights missing: that detector is reported as skipped for images too
            self._dets = dets
        return self._dets

    def analyze(self, item: MediaItem, signal: VideoSignal) -> Finding:
        timeline: list[dict[str, Any]] = []
        per_frame: list[float] = []
        dets = self._image_detectors()
        for t, frame in zip(signal.frame_times, signal.frames, strict=False):
            scores = {}
            for d in dets:
                f = d.analyze(item, frame)
                if f.status == "ok" and f.score is not None:
                    scores[d.name] = f.score
            if scores:
                per_frame.append(float(np.mean(list(scores.values()))))
            timeline.append({"t": round(t, 3), "scores": scores})
        score = float(np.median(per_frame)) if per_frame else None
        return Finding(self.name, self.version, score, "ok" if per_frame else "skipped",
                       {"frames": len(signal.frames), "fps": signal.fps, "timeline": timeline})


@register_detector("image-noise-floor", modality="image", calibrated=False)
def image_noise_floor(**kw: Any) -> ImageNoiseFloor:
    return ImageNoiseFloor()


@register_detector("audio-noise-floor", modality="audio", calibrated=False)
def audio_noise_floor(**kw: Any) -> AudioNoiseFloor:
    return AudioNoiseFloor()


@register_detector("text-repetition", modality="text", calibrated=False)
def text_repetition(**kw: Any) -> TextRepetition:
    return TextRepetition()


@register_detector("video-frames", modality="video", calibrated=False)
def video_frames(**kw: Any) -> VideoFrames:
    return VideoFrames(kw.get("models_dir"))
