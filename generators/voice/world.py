"""WORLD vocoder (pip ``pyworld``) re-synthesis and voice conversion of real clips.

``world_resynth`` is a vocoder twin: analysis -> (optionally coded envelope/aperiodicity, as a
parametric TTS would produce) -> synthesis, same words, speaker and timing as the real clip.
``world_convert`` changes the voice: pitch shift, formant (frequency-axis) warp and spectral
envelope smoothing. Both label the output synthetic with ``source`` = the real clip's id.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from generators.base import Generated, register_generator
from generators.voice.common import (
    clip_id,
    family_rng,
    finish,
    import_pyworld,
    load_source_clip,
    pick,
    resample,
    resolve_source,
)

#: WORLD works best at speech rates; 48 kHz alsa clips are analysed at this rate.
MAX_ANALYSIS_SR = 24_000


def world_analyze(
    y: np.ndarray, sr: int, *, f0_method: str = "dio", frame_period: float = 5.0
) -> dict[str, Any]:
    """WORLD analysis: F0 (dio+stonemask or harvest), spectral envelope, aperiodicity."""
    pw = import_pyworld()
    x = np.ascontiguousarray(y, dtype=np.float64)
    if f0_method == "harvest":
        f0, t = pw.harvest(x, sr, frame_period=frame_period)
    elif f0_method == "dio":
        f0, t = pw.dio(x, sr, frame_period=frame_period)
        f0 = pw.stonemask(x, f0, t, sr)
    else:
        raise ValueError(f"unknown f0_method {f0_method!r} (dio or harvest)")
    sp = pw.cheaptrick(x, f0, t, sr)
    ap = pw.d4c(x, f0, t, sr)
    return {"f0": f0, "sp": sp, "ap": ap, "sr": sr, "frame_period": frame_period}


def world_synthesize(
    f0: np.ndarray, sp: np.ndarray, ap: np.ndarray, sr: int, frame_period: float
) -> np.ndarray:
    pw = import_pyworld()
    return pw.synthesize(
        np.ascontiguousarray(f0, dtype=np.float64),
        np.ascontiguousarray(sp, dtype=np.float64),
        np.ascontiguousarray(ap, dtype=np.float64),
        sr,
        frame_period,
    ).astype(np.float32)


def code_envelope(sp: np.ndarray, sr: int, dims: int) -> np.ndarray:
    """Round-trip the envelope through ``dims`` mel-cepstral coefficients (a smoothing that removes
    the fine detail a statistical TTS model never predicts)."""
    pw = import_pyworld()
    fft_size = (sp.shape[1] - 1) * 2
    coded = pw.code_spectral_envelope(np.ascontiguousarray(sp), sr, dims)
    return pw.decode_spectral_envelope(coded, sr, fft_size)


def aperiodicity_bands(sr: int) -> int:
    """Bands WORLD codes aperiodicity into at ``sr`` (its GetNumberOfAperiodicities): none below
    12 kHz, so 8 kHz telephone clips cannot be band-coded."""
    return int(min(15000.0, sr / 2.0 - 3000.0) / 3000.0) if sr / 2.0 > 3000.0 else 0


def code_aperiodicity(ap: np.ndarray, sr: int) -> np.ndarray:
    """Round-trip aperiodicity through WORLD's band coding (a few bands, as TTS front-ends store it).

    Raises:
        ValueError: ``sr`` below 12 kHz (no band to code into; pyworld would fail on a buffer index).
    """
    if aperiodicity_bands(sr) < 1:
        raise ValueError(f"aperiodicity band coding needs a sample rate of at least 12 kHz, got {sr} Hz")
    pw = import_pyworld()
    fft_size = (ap.shape[1] - 1) * 2
    return pw.decode_aperiodicity(pw.code_aperiodicity(np.ascontiguousarray(ap), sr), sr, fft_size)


def warp_formants(sp: np.ndarray, factor: float) -> np.ndarray:
    """Scale the envelope's frequency axis by ``factor`` (>1 raises formants: a smaller vocal tract)."""
    bins = sp.shape[1]
    src = np.arange(bins) / factor
    out = np.empty_like(sp)
    for i in range(sp.shape[0]):
        out[i] = np.interp(src, np.arange(bins), sp[i], right=sp[i, -1])
    return np.maximum(out, 1e-16)


def _analysis_input(path: os.PathLike[str] | str) -> tuple[np.ndarray, int]:
    y, sr = load_source_clip(path)
    if sr > MAX_ANALYSIS_SR:
        y = resample(y, sr, MAX_ANALYSIS_SR)
        sr = MAX_ANALYSIS_SR
    return y, sr


class _WorldBase:
    name = ""
    version = "1"
    modality = "voice"

    def _transform(
        self, feats: dict[str, Any], rng: np.random.Generator, given: dict[str, Any]
    ) -> dict[str, Any]:
        raise NotImplementedError

    def generate(
        self,
        prompt: str = "",
        *,
        seed: int,
        source_path: str | os.PathLike[str] | None = None,
        f0_method: str | None = None,
        frame_period: float | None = None,
        target_sr: int | None = None,
        peak: float | None = None,
        **params: Any,
    ) -> Generated:
        """Re-synthesise a real clip through WORLD.

        Args:
            prompt: Ignored, unless it is the path of a clip (used when ``source_path`` is None).
            seed: Seeds the analysis settings and transform amounts not given explicitly, and
                the clip picked when neither ``source_path`` nor a path ``prompt`` is given.
            source_path: The real clip (wav/ogg/flac).
            f0_method: "dio" (seeded, 75%) or "harvest".
            frame_period: Analysis hop in ms (seeded 5.0 or 10.0 for the plain twin).
            target_sr: Output rate (None: the analysis rate, the clip's native rate up to 24 kHz).
            peak: Output peak (seeded 0.5-0.95).
            **params: Family options (see ``world_resynth`` / ``world_convert``).

        Returns:
            ``Generated`` labelled synthetic, ``source`` = the clip's id, ``params["source_path"]``.

        Raises:
            SourceClipError: the clip is missing, undecodable or too short.
            GeneratorUnavailableError: pyworld missing, or no clip given and none found.
        """
        path = resolve_source(prompt, seed, source_path, family=self.name)
        rng = family_rng(self.name, seed)
        r_method = "harvest" if rng.random() < 0.25 else "dio"
        r_period = pick(rng, (5.0, 5.0, 10.0))
        r_peak = round(float(rng.uniform(0.5, 0.95)), 3)
        f0_method = f0_method or r_method
        frame_period = float(frame_period or r_period)
        peak = r_peak if peak is None else float(peak)
        y, sr = _analysis_input(path)
        feats = world_analyze(y, sr, f0_method=f0_method, frame_period=frame_period)
        drawn = self._transform(feats, rng, params)
        out = world_synthesize(feats["f0"], feats["sp"], feats["ap"], sr, frame_period)
        # Same length as the source: twins must not differ in duration (a shortcut feature).
        out = np.pad(out, (0, max(0, len(y) - len(out))))[: len(y)]
        out, out_sr = finish(out, sr, target_sr=target_sr, peak=peak)
        src = clip_id(path)
        return Generated(
            modality="voice",
            data=out,
            generator=self.name,
            version=self.version,
            seed=int(seed),
            sample_rate=out_sr,
            params={
                "source_path": str(path),
                "f0_method": f0_method,
                "frame_period": frame_period,
                **drawn,
                "peak": peak,
                "target_sr": target_sr,
                "engine": "WORLD (pyworld)",
            },
            prompt=prompt or None,
            source=src,
        )


def _given(given: dict[str, Any], key: str, default: Any) -> Any:
    v = given.get(key)
    return default if v is None else v


class WorldResynth(_WorldBase):
    """Registered as ``world_resynth``: vocoder twin of a real clip."""

    name = "world_resynth"

    def _transform(
        self, feats: dict[str, Any], rng: np.random.Generator, given: dict[str, Any]
    ) -> dict[str, Any]:
        # None = the analysed envelope as is; 24-60 dims = what a parametric TTS front-end stores.
        r_dims = pick(rng, (None, 60, 40, 24))
        r_code_ap = bool(rng.random() < 0.5)
        sp_dims = _given(given, "sp_dims", r_dims)
        code_ap = bool(_given(given, "code_ap", r_code_ap))
        if code_ap and aperiodicity_bands(feats["sr"]) < 1 and given.get("code_ap") is None:
            code_ap = False  # a telephone-band source: the seeded draw cannot apply; the label says so
        if sp_dims:
            feats["sp"] = code_envelope(feats["sp"], feats["sr"], int(sp_dims))
        if code_ap:
            feats["ap"] = code_aperiodicity(feats["ap"], feats["sr"])
        return {"sp_dims": sp_dims, "code_ap": code_ap}


class WorldConvert(_WorldBase):
    """Registered as ``world_convert``: voice conversion (pitch, formants, envelope smoothing)."""

    name = "world_convert"

    def _transform(
        self, feats: dict[str, Any], rng: np.random.Generator, given: dict[str, Any]
    ) -> dict[str, Any]:
        # At least 2 semitones away from the original, up or down, so it is a different voice.
        r_semi = round(float(rng.uniform(2.0, 7.0) * (1 if rng.random() < 0.5 else -1)), 2)
        # Formants move with pitch in real voices (children/women): same direction, milder.
        r_warp = round(float(np.clip(2 ** (r_semi / 12 * rng.uniform(0.3, 0.8)), 0.8, 1.25)), 3)
        r_dims = pick(rng, (None, 40, 30))
        r_f0_range = round(float(rng.uniform(0.6, 1.4)), 2)
        semitones = float(_given(given, "semitones", r_semi))
        warp = float(_given(given, "formant_warp", r_warp))
        sp_dims = _given(given, "sp_dims", r_dims)
        f0_range = float(_given(given, "f0_range", r_f0_range))
        f0 = feats["f0"]
        voiced = f0 > 0
        if voiced.any():
            lf0 = np.log(f0[voiced])
            mean = lf0.mean()
            # Scale the log-F0 excursion (intonation range) around the mean, then shift.
            f0 = f0.copy()
            f0[voiced] = np.exp(mean + (lf0 - mean) * f0_range) * 2 ** (semitones / 12)
            feats["f0"] = f0
        if abs(warp - 1.0) > 1e-3:
            feats["sp"] = warp_formants(feats["sp"], warp)
        if sp_dims:
            feats["sp"] = code_envelope(feats["sp"], feats["sr"], int(sp_dims))
        return {"semitones": semitones, "formant_warp": warp, "sp_dims": sp_dims, "f0_range": f0_range}


@register_generator(modality="voice", family="vocoder", needs_source=True)
def world_resynth(**kw: Any) -> WorldResynth:
    """WORLD analysis/synthesis twin of a real clip (pip `pyworld`)."""
    return WorldResynth(**kw)


@register_generator(modality="voice", family="conversion", needs_source=True)
def world_convert(**kw: Any) -> WorldConvert:
    """WORLD voice conversion of a real clip (pip `pyworld`)."""
    return WorldConvert(**kw)
