"""Festival: a diphone voice (kal, festvox-kallpc16k) and an HMM/HTS voice (slt,
festvox-us-slt-hts) — two generations of concatenative/statistical TTS, English only."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import soundfile as sf

from generators.base import Generated, register_generator
from generators.voice.common import (
    UnsupportedLanguageError,
    VoiceSynthesisError,
    family_rng,
    finish,
    require_tool,
    run_tool,
)

FESTIVAL_APT = "festival festvox-kallpc16k festvox-us-slt-hts"


class _Festival:
    name = ""
    version = "1"
    modality = "voice"
    voice_fn = ""
    engine = ""

    def __init__(self, *, binary: str = "text2wave") -> None:
        self.binary = binary

    def _draw(self, rng: Any, given: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        raise NotImplementedError

    def generate(
        self,
        prompt: str,
        *,
        seed: int,
        language: str = "en",
        target_sr: int | None = None,
        peak: float | None = None,
        **params: Any,
    ) -> Generated:
        """Speak ``prompt`` (English) with festival's ``text2wave``.

        Args:
            prompt: English text (passed on stdin).
            seed: Seeds speed, pitch and level not given explicitly.
            language: Must be "en"; festival voices here are English only.
            target_sr: Resample to this rate (None keeps the voice's native rate).
            peak: Output peak level (seeded 0.5-0.95).
            **params: Family options, see the subclasses (``speed``, ``f0_mean``, ``half_tones``...).

        Raises:
            UnsupportedLanguageError: ``language`` is not English.
            GeneratorUnavailableError: festival or the voice is not installed.
            VoiceSynthesisError: text2wave failed.
        """
        if language != "en":
            raise UnsupportedLanguageError(f"{self.name} speaks English only, not {language!r}")
        exe = require_tool(self.binary, apt=FESTIVAL_APT)
        rng = family_rng(self.name, seed)
        evals, drawn = self._draw(rng, params)
        r_peak = round(float(rng.uniform(0.5, 0.95)), 3)
        peak = r_peak if peak is None else float(peak)
        with tempfile.TemporaryDirectory(prefix="provscan-festival-") as tmp:
            out = Path(tmp) / "out.wav"
            argv = [exe, "-o", str(out), "-eval", f"({self.voice_fn})"]
            for e in evals:
                argv += ["-eval", e]
            stdout = run_tool(argv, stdin=prompt)
            if not out.is_file() or out.stat().st_size <= 44:
                # text2wave exits 0 even when the voice is missing; it then says so on stdout.
                msg = stdout.decode("utf-8", "replace").strip()[-300:]
                if "not defined" in msg or "unbound" in msg.lower():
                    from generators.errors import GeneratorUnavailableError

                    raise GeneratorUnavailableError(
                        f"festival voice {self.voice_fn} is missing: run `apt-get install -y {FESTIVAL_APT}`"
                    )
                raise VoiceSynthesisError(f"text2wave produced no audio: {msg}")
            y, sr = sf.read(str(out), dtype="float32", always_2d=True)
        y, sr = finish(y.mean(axis=1), sr, target_sr=target_sr, peak=peak)
        return Generated(
            modality="voice",
            data=y,
            generator=self.name,
            version=self.version,
            seed=int(seed),
            sample_rate=sr,
            params={
                "language": language,
                "voice": self.voice_fn,
                **drawn,
                "peak": peak,
                "target_sr": target_sr,
                "engine": self.engine,
            },
            prompt=prompt,
        )


class FestivalDiphone(_Festival):
    """Registered as ``festival_diphone``: kal_diphone (residual-excited LPC diphones, 16 kHz)."""

    name = "festival_diphone"
    voice_fn = "voice_kal_diphone"
    engine = "festival diphone (kal, RELP)"

    def _draw(self, rng: Any, given: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        r = {
            "speed": round(float(rng.uniform(0.8, 1.25)), 3),
            "f0_mean": int(rng.integers(85, 141)),
            "f0_std": int(rng.integers(8, 25)),
        }
        v = {k: type(r[k])(given[k]) if given.get(k) is not None else r[k] for k in r}
        # Duration_Stretch > 1 is slower; "speed" is its inverse so that every family agrees.
        evals = [
            f"(Parameter.set 'Duration_Stretch {1.0 / v['speed']:.4f})",
            f"(set! int_lr_params '((target_f0_mean {v['f0_mean']}) (target_f0_std {v['f0_std']}) "
            "(model_f0_mean 170) (model_f0_std 34)))",
        ]
        return evals, v


class FestivalHTS(_Festival):
    """Registered as ``festival_hts``: cmu_us_slt_arctic_hts (HMM-based statistical parametric TTS)."""

    name = "festival_hts"
    voice_fn = "voice_cmu_us_slt_arctic_hts"
    engine = "festival HTS (slt, hts_engine)"

    def _draw(self, rng: Any, given: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
        r = {
            "speed": round(float(rng.uniform(0.8, 1.25)), 3),
            "half_tones": round(float(rng.uniform(-4.0, 3.0)), 2),
            "postfilter": round(float(rng.uniform(0.0, 0.4)), 2),
        }
        v = {k: type(r[k])(given[k]) if given.get(k) is not None else r[k] for k in r}
        # hts_engine options: -r speaking rate, -fm additive half-tones, -b postfilter coefficient.
        evals = [
            "(set! hts_engine_params (append hts_engine_params (list "
            f'(list "-r" {v["speed"]}) (list "-fm" {v["half_tones"]}) (list "-b" {v["postfilter"]}))))'
        ]
        return evals, v


@register_generator(modality="voice", family="tts", languages=("en",))
def festival_diphone(**kw: Any) -> FestivalDiphone:
    """Festival kal diphone voice (apt `festival festvox-kallpc16k`)."""
    return FestivalDiphone(**kw)


@register_generator(modality="voice", family="tts", languages=("en",))
def festival_hts(**kw: Any) -> FestivalHTS:
    """Festival HTS slt voice (apt `festival festvox-us-slt-hts`)."""
    return FestivalHTS(**kw)
