"""Same-text twins: TTS saying a real clip's subtitle, its speaking time matched to the clip.

With vocoder twins (``world_resynth``, ``griffinlim_mel``, ``neural_vocoder`` given
``source_path``), these are the cleanest negatives for a detector: the words and the length match
the real clip, only the way the audio was made differs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from generators.base import Generated, create_generator
from generators.voice.common import clip_id, family_rng, load_source_clip, pick, speech_stats

#: TTS families per language (festival voices here are English only).
TWIN_FAMILIES: dict[str, tuple[str, ...]] = {"en": ("espeak_ng", "festival_diphone", "festival_hts")}
_SPEED_BOUNDS = {"espeak_ng": (80, 400), "festival_diphone": (0.5, 2.0), "festival_hts": (0.5, 2.0)}


def guess_language(path: str | os.PathLike[str]) -> str:
    """Language of a real clip from where it lives: fillets-ng ``.../cs/...``, ``.../nl/...`` or the
    corpus's ``fillets-cs`` / ``fillets-nl`` folders, else English (alsa-utils and user folders)."""
    parts = Path(path).parts[:-1]
    for lang in ("cs", "nl", "de", "fr"):
        # fillets-ng packages: .../sound/<level>/cs/x.ogg; the corpus: audio/fillets-cs/x.ogg.
        if any(part == lang or part.endswith(f"-{lang}") for part in parts):
            return lang
    return "en"


def make_twin(
    clip_path: str | os.PathLike[str],
    text: str,
    *,
    seed: int,
    language: str | None = None,
    generator: str | None = None,
    match_duration: bool = True,
    target_sr: int | None = None,
) -> Generated:
    """TTS of ``text`` (the subtitle of the real clip at ``clip_path``), labelled as its twin.

    Args:
        clip_path: The real clip whose words ``text`` are.
        text: Its subtitle / transcript.
        seed: Seeds the TTS family choice and that family's own choices.
        language: Language of ``text`` (default: guessed from the clip's folder).
        generator: TTS family (default: seeded among those that speak ``language``).
        match_duration: Re-synthesise once with the speed scaled so the speech-active time is
            within ~15% of the real clip's (length must not separate the classes).
        target_sr: Output rate (None keeps the TTS's native rate).

    Returns:
        ``Generated`` with ``source`` = the clip id and ``params["twin_of"]`` (clip id),
        ``params["twin_of_path"]``, plus the TTS family's own params.

    Raises:
        SourceClipError: the real clip is missing or undecodable.
        UnsupportedLanguageError: ``generator`` cannot speak ``language``.
    """
    language = language or guess_language(clip_path)
    rng = family_rng("twin", seed)
    name = generator or pick(rng, TWIN_FAMILIES.get(language, ("espeak_ng",)))
    tts_seed = int(rng.integers(2**31))
    y, sr = load_source_clip(clip_path)
    real_active = speech_stats(y, sr)["active_s"]
    g = create_generator(name)
    out = g.generate(text, seed=tts_seed, language=language, target_sr=target_sr)
    stretch = 1.0
    if match_duration and real_active > 0:
        active = speech_stats(out.data, int(out.sample_rate or 0))["active_s"]
        ratio = active / real_active if real_active else 1.0
        if active > 0 and not 0.87 <= ratio <= 1.15:
            lo, hi = _SPEED_BOUNDS.get(name, (0.5, 2.0))
            speed = out.params.get("speed")
            if speed is not None:
                new = min(max(float(speed) * ratio, lo), hi)
                new_speed: Any = int(round(new)) if isinstance(speed, int) else round(new, 3)
                stretch = ratio
                out = g.generate(text, seed=tts_seed, language=language, target_sr=target_sr, speed=new_speed)
    params = {
        **out.params,
        "twin": True,
        "tts": name,
        "tts_seed": tts_seed,
        "twin_of": clip_id(clip_path),
        "twin_of_path": str(clip_path),
        "duration_matched": bool(match_duration),
        "speed_scale": round(float(stretch), 3),
        "real_active_s": round(float(real_active), 3),
    }
    return Generated(
        modality="voice",
        data=out.data,
        # The registered family name, so held-out-family splits treat twins like their family.
        generator=name,
        version=out.version,
        seed=int(seed),
        sample_rate=out.sample_rate,
        params=params,
        prompt=text,
        source=params["twin_of"],
    )
