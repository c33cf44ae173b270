"""Generator registry and the labelled output every generator returns.

A generator family is a factory registered with ``@register_generator(modality=...)`` returning an
object with ``name``, ``version``, ``modality`` and ``generate(prompt, *, seed, **params)``.
Signing (C2PA) and watermarking are applied afterwards by ``generators.dataset``, so every
family gets them the same way and they can be switched off for "unmarked" test sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from detector.registry import Registry

Modality = Literal["text", "image", "voice"]

GENERATORS: Registry[Any] = Registry("generator")
register_generator = GENERATORS.register


@dataclass(frozen=True)
class Generated:
    """One labelled synthetic item.

    Attributes:
        modality: "text", "image" or "voice".
        data: str (text), HxWx3 uint8 RGB ndarray (image), or float32 mono ndarray (voice).
        sample_rate: Hz for voice, else None.
        label: "synthetic", or "partial" for edits of a real item (then ``mask`` marks the edit).
        generator: Registered family name.
        version: Generator version (bump when outputs change for the same seed).
        seed: The seed that reproduces this item.
        params: Everything else needed to reproduce it (temperature, steps, voice, ...).
        prompt: The text prompt / script it was made from, if any.
        source: Identifier of the real item it was derived from (vocoder twins, edits), if any.
        mask: HxW bool (image) or per-sample bool (voice) marking synthetic regions of partial edits.
    """

    modality: Modality
    data: Any
    generator: str
    version: str
    seed: int
    label: Literal["synthetic", "partial"] = "synthetic"
    sample_rate: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    prompt: str | None = None
    source: str | None = None
    mask: np.ndarray | None = None


class Generator(Protocol):
    name: str
    version: str
    modality: Modality

    def generate(self, prompt: str, *, seed: int, **params: Any) -> Generated: ...


def list_generators(pattern: str = "*", *, modality: str | None = None) -> list[str]:
    tags = {"modality": modality} if modality else {}
    return GENERATORS.list(pattern, **tags)


def create_generator(name: str, **kw: Any) -> Any:
    return GENERATORS.create(name, **kw)
