"""What the mel-vocoder families (Griffin-Lim, neural) re-synthesise: a real clip, or TTS output.

Rules, shared so both families behave alike:
- ``source_path`` given, or ``prompt`` is the path of a file -> that real clip (a vocoder twin);
- else a non-empty ``prompt`` -> seeded TTS of it (espeak-ng in any language, festival for English);
- else a seeded pick among the real clips found on this machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from generators.voice.common import (
    clip_id,
    family_rng,
    load_source_clip,
    pick,
    resolve_source,
)


@dataclass(frozen=True)
class VocoderInput:
    """Audio handed to a vocoder plus what to record about where it came from."""

    audio: np.ndarray
    sample_rate: int
    source: str | None
    params: dict[str, Any] = field(default_factory=dict)


def _is_path(prompt: str) -> bool:
    if not prompt or len(prompt) > 4096 or "\n" in prompt:
        return False
    try:
        return Path(prompt).expanduser().is_file()
    except OSError:
        return False


def resolve_vocoder_input(
    prompt: str,
    *,
    seed: int,
    family: str,
    source_path: str | os.PathLike[str] | None = None,
    tts: str | None = None,
    language: str = "en",
) -> VocoderInput:
    """Load the real clip or synthesise the TTS input for a mel-vocoder family (rules above)."""
    if source_path is not None or _is_path(prompt) or not prompt.strip():
        path = resolve_source(prompt, seed, source_path, family=family)
        y, sr = load_source_clip(path)
        return VocoderInput(y, sr, clip_id(path), {"input": "real", "source_path": str(path)})
    from generators.base import create_generator

    rng = family_rng(family + "/tts", seed)
    options = ("espeak_ng", "festival_diphone", "festival_hts") if language == "en" else ("espeak_ng",)
    tts = tts or pick(rng, options)
    tts_seed = int(rng.integers(2**31))
    g = create_generator(tts).generate(prompt, seed=tts_seed, language=language)
    return VocoderInput(
        g.data,
        int(g.sample_rate or 0),
        None,
        {"input": "tts", "tts": tts, "tts_seed": tts_seed, "tts_params": g.params, "language": language},
    )
