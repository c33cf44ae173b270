"""The watermark scheme interface and registry: embed and detect live side by side per scheme."""

from __future__ import annotations

from typing import Any, Protocol

from detector.registry import Registry
from detector.types import WatermarkResult

WATERMARKS: Registry[Any] = Registry("watermark scheme")
register_watermark = WATERMARKS.register


class WatermarkScheme(Protocol):
    """A scheme for one modality.

    ``embed`` takes and returns the decoded signal (image: HxWx3 uint8 RGB ndarray; audio:
    (float32 mono ndarray, sample_rate); text: str). ``detect`` never raises for "no mark":
    it returns ``WatermarkResult(detected=False, ...)``.
    """

    name: str
    modality: str

    def embed(self, signal: Any, *, payload: str | None = None) -> Any: ...

    def detect(self, signal: Any) -> WatermarkResult: ...
