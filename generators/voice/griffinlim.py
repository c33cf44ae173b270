"""Griffin-Lim mel inversion (librosa): the classic "vocoder" of early neural TTS (Tacotron 1).

Input is a real clip (a vocoder twin: same words, speaker, timing) or TTS output. The mel
spectrogram is inverted to a linear magnitude (NNLS) and the phase is estimated iteratively,
which leaves the typical phasiness/metallic artefacts detectors should learn.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from generators.base import Generated, register_generator
from generators.voice.common import family_rng, finish, pick, resample
from generators.voice.inputs import resolve_vocoder_input

#: Rate the mel front-end works at (common TTS setting).
GL_SR = 22_050


def griffinlim_mel_inversion(
    y: np.ndarray,
    sr: int,
    *,
    n_fft: int = 1024,
    hop_length: int = 256,
    n_mels: int = 80,
    power: float = 1.0,
    n_iter: int = 32,
    momentum: float = 0.99,
    seed: int = 0,
) -> np.ndarray:
    """Mel spectrogram of ``y`` -> linear magnitude -> Griffin-Lim phase -> waveform (same length)."""
    import librosa
    from threadpoolctl import threadpool_limits

    y = np.asarray(y, dtype=np.float32)
    # mel_to_stft solves a least-squares problem with BLAS; multi-threaded BLAS sums in a
    # machine-dependent order and changed ~8 LSB of the output, so a seeded dataset (and the
    # detector trained on it) differed between machines. One BLAS thread makes it reproducible.
    with threadpool_limits(limits=1):
        mel = librosa.feature.melspectrogram(
            y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, power=power, fmin=0.0, fmax=sr / 2
        )
        mag = librosa.feature.inverse.mel_to_stft(mel, sr=sr, n_fft=n_fft, power=power, fmin=0.0, fmax=sr / 2)
        out = librosa.griffinlim(
            mag,
            n_iter=n_iter,
            hop_length=hop_length,
            n_fft=n_fft,
            momentum=momentum,
            init="random",
            random_state=np.random.RandomState(seed),
            length=len(y),
        )
    return np.asarray(out, dtype=np.float32)


class GriffinLimMel:
    """Registered as ``griffinlim_mel``; see :meth:`generate`."""

    name = "griffinlim_mel"
    version = "1"
    modality = "voice"

    def generate(
        self,
        prompt: str = "",
        *,
        seed: int,
        source_path: str | os.PathLike[str] | None = None,
        language: str = "en",
        tts: str | None = None,
        n_mels: int | None = None,
        n_iter: int | None = None,
        power: float | None = None,
        target_sr: int | None = None,
        peak: float | None = None,
        **_: Any,
    ) -> Generated:
        """Mel-invert a real clip (``source_path``) or the TTS of ``prompt`` with Griffin-Lim.

        Args:
            prompt: Text to speak through TTS first, or a clip path, or "" for a seeded real clip.
            seed: Seeds mel settings, iterations, phase init, TTS choice and level.
            source_path: Real clip to re-synthesise (takes precedence over ``prompt``).
            language: Language of ``prompt`` for the TTS input.
            tts: TTS family for the text input (seeded among espeak_ng / festival_* otherwise).
            n_mels: Mel bands (seeded 64, 80 or 128).
            n_iter: Griffin-Lim iterations (seeded 8-64; fewer = more artefacts).
            power: 1.0 (magnitude) or 2.0 (power) mel (seeded).
            target_sr: Output rate (None: 22050 Hz, the mel front-end's rate).
            peak: Output peak (seeded 0.5-0.95).

        Raises:
            SourceClipError, GeneratorUnavailableError: see ``resolve_vocoder_input``.
        """
        rng = family_rng(self.name, seed)
        r_mels = pick(rng, (64, 80, 80, 128))
        r_iter = int(rng.integers(8, 65))
        r_power = pick(rng, (1.0, 2.0))
        r_momentum = round(float(rng.uniform(0.9, 0.99)), 3)
        r_peak = round(float(rng.uniform(0.5, 0.95)), 3)
        phase_seed = int(rng.integers(2**31))
        n_mels = int(n_mels or r_mels)
        n_iter = int(n_iter or r_iter)
        power = float(power or r_power)
        peak = r_peak if peak is None else float(peak)
        src = resolve_vocoder_input(
            prompt, seed=seed, family=self.name, source_path=source_path, tts=tts, language=language
        )
        y = src.audio
        if src.sample_rate != GL_SR:
            y = resample(y, src.sample_rate, GL_SR)
        out = griffinlim_mel_inversion(
            y, GL_SR, n_mels=n_mels, power=power, n_iter=n_iter, momentum=r_momentum, seed=phase_seed
        )
        out, sr = finish(out, GL_SR, target_sr=target_sr, peak=peak)
        return Generated(
            modality="voice",
            data=out,
            generator=self.name,
            version=self.version,
            seed=int(seed),
            sample_rate=sr,
            params={
                **src.params,
                "n_fft": 1024,
                "hop_length": 256,
                "n_mels": n_mels,
                "n_iter": n_iter,
                "power": power,
                "momentum": r_momentum,
                "phase_seed": phase_seed,
                "peak": peak,
                "target_sr": target_sr,
                "engine": "librosa Griffin-Lim mel inversion",
            },
            prompt=prompt or None,
            source=src.source,
        )


@register_generator(modality="voice", family="vocoder", needs_source=False)
def griffinlim_mel(**kw: Any) -> GriffinLimMel:
    """Griffin-Lim mel inversion of a real clip or of TTS output (librosa)."""
    return GriffinLimMel(**kw)
