"""Compact CNN over 0.5 s segments of audio features (``features.FRONTS``); per-segment scores as evidence.

The clip score is the mean of the top half of segment logits (a spliced synthetic stretch should
move the clip score, but one odd segment should not), mapped to P(synthetic) by a Platt
calibrator (fitted on out-of-source scores by the shipped recipe: ``detector.train.audio.source_cv_calibration``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from detector.audio.features import (
    SEG_FRAMES,
    active_windows,
    features,
    lowpass,
    narrow_band,
    resample,
    segments,
)
from detector.base import register_detector
from detector.trained import TrainedDetector, inference_net
from detector.types import Finding, MediaItem

KIND = "audio-seg-cnn"
# Shown with the score of a clip without its upper band (telephone audio): the detector's weakest channel.
NARROW_BAND_CAVEAT = (
    "Little or no audio above 4 kHz (telephone or low-passed): this detector's weakest channel; on unseen "
    "telephone voices it rarely scores human speech high, but it misses many synthetic clips, so a low score "
    "here is weak evidence (model card: heldout_evaluation_phone)."
)
MIN_SECONDS = 0.25


def build_net(config: dict[str, Any]) -> Any:
    """Conv(3x3)-BN-ReLU-MaxPool x3 → global average → linear, on (B, 1, F, 50) inputs."""
    import torch

    nn = torch.nn
    w = int(config.get("width", 16))
    # stem_stride: frequency stride of the first conv. A 257-bin spectrogram is seen at full
    # resolution by the first layer, then halved: half the compute of the rest of the net.
    strides = [(int(config.get("stem_stride", 1)), 1), (1, 1), (1, 1)]
    layers: list[Any] = []
    cin = 1
    for cout, stride in zip((w, 2 * w, 4 * w), strides, strict=True):
        layers += [
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        ]
        cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(cin, 1)]
    return nn.Sequential(*layers)


def aggregate(logits: np.ndarray, frac: float = 0.5) -> float:
    """Mean of the top ``frac`` of segment logits."""
    k = max(1, int(math.ceil(frac * len(logits))))
    return float(np.sort(logits)[-k:].mean())


class SegmentCNNDetector(TrainedDetector):
    """A trained segment CNN with its feature normalisation and calibrator."""

    modality = "audio"
    kind = KIND

    def __init__(self, name: str, payload: dict[str, Any]) -> None:
        import torch

        super().__init__(name, payload)
        st = dict(payload["state"])
        self.mean = np.asarray(st.pop("feat_mean"), np.float32)[:, None]
        self.std = np.asarray(st.pop("feat_std"), np.float32)[:, None]
        self.net = build_net(self.config)
        self.net.load_state_dict(st)
        self.net = inference_net(self.net.eval())
        self._torch = torch

    def segment_logits(self, y16: np.ndarray) -> tuple[np.ndarray, list[tuple[float, float]]]:
        y16 = lowpass(y16, self.config.get("lowpass_hz"))
        feat = (features(y16, self.config["front"]) - self.mean) / self.std
        wins, times = segments(feat, seg=SEG_FRAMES)
        with self._torch.inference_mode():
            x = self._torch.from_numpy(wins[:, None]).float().contiguous(memory_format=self._torch.channels_last)
            out = self.net(x)[:, 0].numpy()
        return out, times

    def clip_logit(self, y16: np.ndarray, logits: np.ndarray) -> float:
        """Top-half mean over the speech-active windows (all windows for older weights)."""
        keep = active_windows(y16, len(logits), db=self.config.get("active_db"))
        return aggregate(logits[keep], self.config.get("topk", 0.5))

    def raw_score(self, signal: tuple[np.ndarray, int]) -> float:
        y16 = resample(*signal)
        logits, _ = self.segment_logits(y16)
        return self.clip_logit(y16, logits)

    def analyze(self, item: MediaItem, signal: tuple[np.ndarray, int]) -> Finding:
        y, sr = signal
        if len(y) < MIN_SECONDS * sr:
            return self.skipped(f"audio shorter than {MIN_SECONDS} s")
        y16 = resample(y, sr)
        logits, times = self.segment_logits(y16)
        raw = self.clip_logit(y16, logits)
        probs = self.calibrator(logits)
        segs = [
            {"start": round(a, 2), "end": round(b, 2), "score": round(float(p), 3)}
            for (a, b), p in zip(times, probs, strict=True)
        ]
        extra = {}
        if narrow_band(y16, sr):
            extra = {"band": "narrow (little or no audio above 4 kHz)", "caveat": NARROW_BAND_CAVEAT}
        return self.finding(raw, front=self.config["front"], segment_s=0.5, **extra, segments=segs[:2000])


@register_detector("audio-lfcc-cnn", modality="audio", calibrated=True)
def audio_lfcc_cnn(*, models_dir: Path | None = None, **kw: Any) -> SegmentCNNDetector:
    """Compact CNN on 0.5 s segments of the card's front end; needs ``detectors/audio-lfcc-cnn.pt``.

    The registry name predates the switch from LFCC to a log-spectrogram front end (``config.front``);
    it is kept so stored reports, API clients and fusion settings keep referring to the same detector.
    """
    return SegmentCNNDetector.from_models_dir(models_dir, "audio-lfcc-cnn")
