"""Detector registry: ``@register_detector(modality="image")`` on a factory ``def name(**kw)``.

A detector object has ``name``, ``version``, ``modality`` and ``analyze(item, signal) -> Finding``,
where ``signal`` is the decoded media the pipeline already holds (decode once, judge many times):
image → HxWx3 uint8 RGB; audio → (float32 mono, sample_rate); text → str; video → VideoSignal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from detector.registry import Registry
from detector.types import Finding, MediaItem

DETECTORS: Registry[Any] = Registry("detector")
register_detector = DETECTORS.register


class Detector(Protocol):
    name: str
    version: str
    modality: str

    def analyze(self, item: MediaItem, signal: Any) -> Finding: ...


@dataclass(frozen=True)
class VideoSignal:
    frames: list[np.ndarray]
    fps: float
    frame_times: list[float]


def create_detector(name: str, **kw: Any) -> Any:
    return DETECTORS.create(name, **kw)


def list_detectors(pattern: str = "*", *, modality: str | None = None) -> list[str]:
    tags = {"modality": modality} if modality else {}
    return DETECTORS.list(pattern, **tags)
