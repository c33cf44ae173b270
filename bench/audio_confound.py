"""Is the audio detector keyed on codec history, language or recording? (issue #5)

Scores sets of real and synthetic clips with a trained audio detector under controlled changes:
real English PCM (alsa-utils) as-is and after an Ogg Vorbis round trip like the fillets-ng clips
(22.05 kHz, 40 kbit/s); real Czech/Dutch fillets clips as-is (their Ogg history is in the signal,
decoding to PCM changes nothing) and after an extra PCM-preserving 16 kHz resample; espeak-ng
English vs Czech/Dutch on the same kind of sentences; and any extra real folders given.

    python -m bench.audio_confound --models models --fillets DIR --out /tmp/confound.json
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ALSA = Path("/usr/share/sounds/alsa")


def _ogg_like_fillets(path: Path) -> tuple[np.ndarray, int]:
    """Decode ``path`` after an Ogg Vorbis round trip at 22.05 kHz / 40 kbit/s (fillets-ng's settings)."""
    from detector import media

    with tempfile.TemporaryDirectory() as td:
        mid = Path(td) / "x.ogg"
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(path),
                "-ac",
                "1",
                "-ar",
                "22050",
                "-c:a",
                "libvorbis",
                "-b:a",
                "40k",
                str(mid),
            ],
            check=True,
        )
        return media.load_audio(mid)


def _espeak(text: str, lang: str, seed: int) -> tuple[np.ndarray, int]:
    from generators.voice.espeak import EspeakNG

    g = EspeakNG().generate(text, seed=seed, language=lang, target_sr=22050)
    return np.asarray(g.data, np.float32), int(g.sample_rate)


def _stats(scores: list[float]) -> dict[str, float]:
    a = np.asarray(scores)
    return {
        "n": len(a),
        "mean": round(float(a.mean()), 3),
        "median": round(float(np.median(a)), 3),
        "min": round(float(a.min()), 3),
        "max": round(float(a.max()), 3),
        "frac_ge_0.5": round(float((a >= 0.5).mean()), 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="models")
    ap.add_argument("--detector", default="audio-lfcc-cnn")
    ap.add_argument("--fillets", type=Path, help="folder with fillets-ng-data-cs / -nl unpacked (…/x)")
    ap.add_argument("--real", action="append", default=[], help="NAME=DIR of extra real clips (any codec)")
    ap.add_argument("--n", type=int, default=24, help="clips per set")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    import detector.audio.cnn  # noqa: F401 - registers the CNN
    import detector.audio.gmm  # noqa: F401 - registers the GMM baseline
    from detector import media
    from detector.base import create_detector

    det = create_detector(args.detector, models_dir=Path(args.models))
    rng = random.Random(0)
    res: dict[str, dict[str, float]] = {}

    def score_files(name: str, files: list[Path], loader=media.load_audio) -> None:
        s = [det.score(loader(f)) for f in files]
        res[name] = _stats(s)
        print(f"{name:40s} {res[name]}", file=sys.stderr)

    alsa = sorted(p for p in ALSA.glob("*.wav") if p.stem != "Noise")
    if alsa:
        score_files("alsa-en PCM as-is", alsa)
        score_files("alsa-en after Ogg 22k/40k (fillets-like)", alsa, _ogg_like_fillets)
    if args.fillets:
        for lang in ("cs", "nl"):
            files = sorted((args.fillets / f"fillets-ng-data-{lang}").rglob(f"{lang}/*.ogg"))
            files = rng.sample(files, min(args.n, len(files)))
            score_files(f"fillets-{lang} Ogg as-is", files)
    for spec in args.real:
        name, _, folder = spec.partition("=")
        files = sorted(
            p for p in Path(folder).rglob("*") if p.suffix.lower() in {".wav", ".ogg", ".flac", ".g722"}
        )
        files = rng.sample(files, min(args.n, len(files)))
        score_files(f"{name} as-is", files)
    from generators.text.prompts import speech_scripts

    for lang in ("en", "cs", "nl"):
        texts = speech_scripts(args.n, seed=1, language=lang)
        s = [det.score(_espeak(t, lang, i)) for i, t in enumerate(texts)]
        res[f"espeak-ng {lang}"] = _stats(s)
        print(f"{'espeak-ng ' + lang:40s} {res['espeak-ng ' + lang]}", file=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
