"""espeak-ng: formant synthesis in 100+ languages (here en, cs and nl matter: the real speech is
English, Czech and Dutch). Voice, variant, speed, pitch and word gap are drawn from the seed."""

from __future__ import annotations

from typing import Any

from generators.base import Generated, register_generator
from generators.voice.common import (
    decode_wav_bytes,
    family_rng,
    finish,
    pick,
    require_tool,
    run_tool,
)

#: Dialect voices per language. MBROLA voices (mb/*) are left out: they need the non-free mbrola
#: binary, which the Makefile does not install.
LANGUAGE_VOICES: dict[str, tuple[str, ...]] = {
    "en": (
        "en",
        "en-us",
        "en-gb-scotland",
        "en-gb-x-rp",
        "en-gb-x-gbclan",
        "en-gb-x-gbcwmd",
        "en-029",
        "en-us-nyc",
    ),
    "cs": ("cs",),
    "nl": ("nl",),
    "de": ("de",),
    "fr": ("fr",),
}
#: Voice variants (timbre presets) that stay intelligible; whisper/robot/"Demonic" presets are
#: left out because they would make the synthetic class trivially separable.
VARIANTS: tuple[str, ...] = (
    "",
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "m6",
    "m7",
    "m8",
    "f1",
    "f2",
    "f3",
    "f4",
    "f5",
    "klatt",
    "klatt2",
    "klatt3",
    "klatt4",
    "adam",
    "Alex",
    "Andy",
    "Annie",
    "aunty",
    "belinda",
    "benjamin",
    "david",
    "edward",
    "Gene",
    "iven",
    "john",
    "linda",
    "max",
    "Michael",
    "paul",
    "robert",
    "steph",
    "travis",
    "victor",
    "zac",
    "grandma",
    "grandpa",
    "norbert",
    "shelby",
    "anika",
)


class EspeakNG:
    """Registered as ``espeak_ng``; see :meth:`generate`."""

    name = "espeak_ng"
    version = "1"
    modality = "voice"

    def __init__(self, *, binary: str = "espeak-ng") -> None:
        self.binary = binary

    def generate(
        self,
        prompt: str,
        *,
        seed: int,
        language: str = "en",
        voice: str | None = None,
        variant: str | None = None,
        speed: int | None = None,
        pitch: int | None = None,
        word_gap: int | None = None,
        target_sr: int | None = None,
        peak: float | None = None,
        **_: Any,
    ) -> Generated:
        """Speak ``prompt`` with espeak-ng.

        Args:
            prompt: Text to speak (UTF-8, passed on stdin, never through a shell).
            seed: Seeds every choice not given explicitly.
            language: Language code; picks among that language's dialect voices.
            voice: espeak-ng voice name (overrides ``language``'s seeded pick).
            variant: Voice variant ("" for none, "f3", "klatt2", ...).
            speed: Words per minute (seeded 130-210).
            pitch: 0-99 (seeded 25-75).
            word_gap: Extra pause between words in 10 ms units (seeded 0-2).
            target_sr: Resample to this rate (None: espeak's native 22050 Hz).
            peak: Output peak level (seeded 0.5-0.95).

        Returns:
            A ``Generated`` with float32 mono ``data``; ``params`` reproduces it.

        Raises:
            GeneratorUnavailableError: espeak-ng is not installed.
            VoiceSynthesisError: espeak-ng failed.
        """
        exe = require_tool(self.binary, apt="espeak-ng")
        rng = family_rng(self.name, seed)
        # Draw every value even when given, so one explicit option does not shift the others.
        r_voice = pick(rng, LANGUAGE_VOICES.get(language, (language,)))
        r_variant = pick(rng, VARIANTS)
        r_speed = int(rng.integers(130, 211))
        r_pitch = int(rng.integers(25, 76))
        r_gap = int(rng.integers(0, 3))
        r_peak = round(float(rng.uniform(0.5, 0.95)), 3)
        voice = voice or r_voice
        variant = r_variant if variant is None else variant
        speed = r_speed if speed is None else int(speed)
        pitch = r_pitch if pitch is None else int(pitch)
        word_gap = r_gap if word_gap is None else int(word_gap)
        peak = r_peak if peak is None else float(peak)
        full_voice = f"{voice}+{variant}" if variant else voice
        argv = [exe, "--stdin", "--stdout", "-b", "1", "-v", full_voice, "-s", str(speed), "-p", str(pitch)]
        if word_gap:
            argv += ["-g", str(word_gap)]
        y, sr = decode_wav_bytes(run_tool(argv, stdin=prompt))
        y, sr = finish(y, sr, target_sr=target_sr, peak=peak)
        params = {
            "language": language,
            "voice": voice,
            "variant": variant,
            "speed": speed,
            "pitch": pitch,
            "word_gap": word_gap,
            "peak": peak,
            "target_sr": target_sr,
            "engine": "espeak-ng formant",
        }
        return Generated(
            modality="voice",
            data=y,
            generator=self.name,
            version=self.version,
            seed=int(seed),
            sample_rate=sr,
            params=params,
            prompt=prompt,
        )


@register_generator(modality="voice", family="tts", languages=("en", "cs", "nl", "de", "fr"))
def espeak_ng(**kw: Any) -> EspeakNG:
    """espeak-ng formant TTS (apt `espeak-ng`)."""
    return EspeakNG(**kw)
