"""Voice generator families; importing this package registers them all.

Registered: espeak_ng, festival_diphone, festival_hts (TTS); world_resynth, world_convert,
griffinlim_mel, neural_vocoder (vocoders / conversion of real clips or of TTS output). Same-text
twins of real clips: :func:`make_twin`. Neural vocoder weights: :func:`train_neural_vocoder`.
"""

from __future__ import annotations

from generators.voice import espeak, festival, griffinlim, neural, world  # noqa: F401  (registration)
from generators.voice.neural import train_neural_vocoder
from generators.voice.twins import make_twin

__all__ = ["make_twin", "train_neural_vocoder"]
