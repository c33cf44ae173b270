"""Voice generators: items/s and audio-seconds per wall-second for every family, with espeak-ng
(the cheapest TTS) measured in the same run as the reference row; plus sanity figures (active
speech fraction, clipping) and, with ``--png``, a spectrogram contact sheet.

    .venv/bin/python -m bench.generate_voice [--n 5] [--png docs/voice_samples.png]

Writes docs/benchmarks/generate_voice.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

import generators.voice  # noqa: F401  (registers the families)
from generators.base import Generated, create_generator, list_generators
from generators.errors import GeneratorError
from generators.voice.common import find_real_clips, speech_stats
from generators.voice.twins import make_twin

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = (
    "The quick brown fox jumps over the lazy dog.",
    "Please remain calm, the situation is under control.",
    "Welcome to the most beautiful city under the sun.",
    "I think we should try the other door first.",
    "This room looks exactly like the one before.",
)


def _alsa_twins(clips: list[Path]) -> list[tuple[Path, str]]:
    # alsa-utils clips say their own file name ("Front_Center.wav" -> "Front center").
    out = []
    for p in clips:
        if p.parent.name == "alsa":
            out.append((p, p.stem.replace("_", " ").capitalize()))
    return out


def _jobs(name: str, n: int, clips: list[Path]) -> list[Callable[[], Generated]]:
    if name == "twin":
        pairs = _alsa_twins(clips)
        if not pairs:
            return []
        return [lambda i=i: make_twin(*pairs[i % len(pairs)], seed=i) for i in range(n)]
    gen = create_generator(name)
    if name in ("world_resynth", "world_convert"):
        return [
            lambda i=i: gen.generate("", seed=i, source_path=clips[(7 * i) % len(clips)]) for i in range(n)
        ]
    if name in ("griffinlim_mel", "neural_vocoder"):
        # Half vocoder twins of real clips, half vocoded TTS (the two uses of these families).
        return [
            (lambda i=i: gen.generate("", seed=i, source_path=clips[(7 * i) % len(clips)]))
            if i % 2 == 0
            else (lambda i=i: gen.generate(SCRIPTS[i % len(SCRIPTS)], seed=i))
            for i in range(n)
        ]
    return [lambda i=i: gen.generate(SCRIPTS[i % len(SCRIPTS)], seed=i) for i in range(n)]


def measure(name: str, n: int, clips: list[Path]) -> dict[str, object] | None:
    jobs = _jobs(name, n, clips)
    if not jobs:
        return None
    try:
        jobs[0]()  # warm-up: imports, model load, JIT; not timed
    except GeneratorError as exc:
        return {"name": name, "error": str(exc)}
    audio_s = 0.0
    stats = []
    t0 = time.perf_counter()
    last: Generated | None = None
    for job in tqdm(jobs, desc=name, file=sys.stderr, leave=False):
        last = job()
        st = speech_stats(last.data, int(last.sample_rate or 0))
        audio_s += st["duration_s"]
        stats.append(st)
    wall = time.perf_counter() - t0
    return {
        "name": name,
        "items_per_s": n / wall,
        "audio_s_per_s": audio_s / wall,
        "mean_duration_s": float(np.mean([s["duration_s"] for s in stats])),
        "active_fraction": float(np.mean([s["active_s"] / max(s["duration_s"], 1e-9) for s in stats])),
        "max_clipped": float(np.max([s["clipped_fraction"] for s in stats])),
        "sample_rate": last.sample_rate if last else None,
    }


def contact_sheet(clip: Path, text: str, out: Path) -> None:
    """Log-mel spectrograms of a real clip, its vocoder/conversion/TTS twins, and plain TTS."""
    import librosa
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from detector.media import load_audio

    y, sr = load_audio(clip)
    panels: list[tuple[str, np.ndarray, int]] = [(f"REAL {clip.name} ({text!r})", y, sr)]
    makers: list[tuple[str, Callable[[], Generated]]] = [
        (
            "world_resynth of the clip",
            lambda: create_generator("world_resynth").generate("", seed=0, source_path=clip),
        ),
        (
            "world_convert of the clip",
            lambda: create_generator("world_convert").generate("", seed=0, source_path=clip),
        ),
        (
            "griffinlim_mel of the clip",
            lambda: create_generator("griffinlim_mel").generate("", seed=0, source_path=clip),
        ),
        (
            "neural_vocoder of the clip",
            lambda: create_generator("neural_vocoder").generate("", seed=0, source_path=clip),
        ),
        ("twin: espeak_ng says the text", lambda: make_twin(clip, text, seed=0, generator="espeak_ng")),
        ("twin: festival_hts says the text", lambda: make_twin(clip, text, seed=0, generator="festival_hts")),
        ("espeak_ng (script)", lambda: create_generator("espeak_ng").generate(SCRIPTS[0], seed=1)),
        (
            "festival_diphone (script)",
            lambda: create_generator("festival_diphone").generate(SCRIPTS[0], seed=1),
        ),
        ("festival_hts (script)", lambda: create_generator("festival_hts").generate(SCRIPTS[0], seed=1)),
        (
            "neural_vocoder of espeak_ng",
            lambda: create_generator("neural_vocoder").generate(SCRIPTS[0], seed=1, tts="espeak_ng"),
        ),
    ]
    for title, make in makers:
        try:
            g = make()
        except GeneratorError as exc:
            print(f"contact sheet: {title} skipped: {exc}", file=sys.stderr)
            continue
        panels.append((title, g.data, int(g.sample_rate or 16000)))
    cols = 2
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(12, 2.2 * rows))
    for ax, (title, audio, rate) in zip(np.ravel(axes), panels, strict=False):
        y16 = librosa.resample(np.asarray(audio, dtype=np.float32), orig_sr=rate, target_sr=16000)
        m = librosa.power_to_db(
            librosa.feature.melspectrogram(y=y16, sr=16000, n_mels=80, hop_length=160), ref=np.max
        )
        ax.imshow(
            m,
            origin="lower",
            aspect="auto",
            cmap="magma",
            vmin=-80,
            vmax=0,
            extent=(0, len(y16) / 16000, 0, 80),
        )
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("s", fontsize=7)
        ax.set_ylabel("mel bin", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in np.ravel(axes)[len(panels) :]:
        ax.axis("off")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)


def _vocoder_card() -> dict[str, object] | None:
    import yaml

    from generators.voice.neural import CARD_NAME, default_weights_dir

    path = default_weights_dir() / CARD_NAME
    return yaml.safe_load(path.read_text()) if path.is_file() else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5, help="items per generator (after one untimed warm-up)")
    ap.add_argument("--out", default=str(REPO / "docs" / "benchmarks" / "generate_voice.md"))
    ap.add_argument("--png", default=None, help="also write a spectrogram contact sheet here")
    args = ap.parse_args(argv)

    clips = find_real_clips()
    if not clips:
        print(
            "no real clips found: vocoder rows are skipped (apt-get download alsa-utils ...)", file=sys.stderr
        )
    names = ["espeak_ng"] + [n for n in list_generators(modality="voice") if n != "espeak_ng"] + ["twin"]
    if not clips:
        names = [n for n in names if n not in ("world_resynth", "world_convert", "twin")]
    rows = []
    for name in names:
        r = measure(name, args.n, clips)
        if r is not None:
            rows.append(r)
    ref = next((r for r in rows if r["name"] == "espeak_ng" and "error" not in r), None)
    lines = [
        "## Voice generators (bench/generate_voice.py)",
        "",
        f"{args.n} items per generator after one untimed warm-up, one process, "
        f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), shared machine; "
        "reference row: espeak-ng measured in the same run. TTS rows speak 7-10-word English scripts; "
        "vocoder rows re-synthesise real clips (fillets-ng cs/nl, alsa-utils) and, for "
        "griffinlim_mel / neural_vocoder, every other item is vocoded TTS; `twin` is make_twin on "
        "alsa-utils clips (duration-matched TTS of the clip's words).",
        "",
        "| generator | items/s | × espeak-ng | audio s per wall s | mean duration s | active fraction | max clipped | sample rate |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['name']} | unavailable: {r['error']} | | | | | | |")
            continue
        ratio = f"{r['items_per_s'] / ref['items_per_s']:.2f}" if ref else "n/a"
        lines.append(
            f"| {r['name']} | {r['items_per_s']:.2f} | {ratio} | {r['audio_s_per_s']:.1f} | "
            f"{r['mean_duration_s']:.2f} | {r['active_fraction']:.2f} | {r['max_clipped']:.4f} | {r['sample_rate']} |"
        )
    card = _vocoder_card()
    if card:
        lines += [
            "",
            f"neural_vocoder weights: {card.get('parameters')} parameters, {card.get('steps')} steps in "
            f"{card.get('train_seconds')} s ({card.get('threads')} thread), loss {card.get('first_loss')} -> "
            f"{card.get('final_loss')} ({card.get('loss')}), trained on {card.get('data', {}).get('clips')} real clips "
            f"({card.get('data', {}).get('seconds')} s).",
        ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    if args.png:
        pairs = _alsa_twins(clips)
        if pairs:
            contact_sheet(*pairs[0], Path(args.png))
            print(f"wrote {args.png}", file=sys.stderr)
        else:
            print("no alsa-utils clip (with known words) for the contact sheet", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
