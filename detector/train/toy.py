"""Tiny labelled datasets in the ``labels.jsonl`` format, for tests and first experiments.

They exist so trainers can be exercised without the generators package (which the detector
package must not import). Real items come from files shipped in installed wheels (scikit-image
sample photos) or simple recorded-like signals; synthetic items are made so that only the
"generator" differs from the real items (same content, same container), never the codec:
- image: a real photo crop, downsampled 2x and re-upsampled (nearest or bilinear), like a
  generator's upsampling layers; both classes saved as PNG.
- audio: a harmonic "voice" with jitter, shimmer, breath noise and room reverb (real-like) vs the
  same pitch contour from a clean oscillator bank with a vocoder-like band limit (synthetic).
- text: sentences from a fixed human pool vs text sampled from a bigram chain fitted on that pool.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "immunohistochemistry", "retina", "cat")


def _photos() -> list[tuple[str, np.ndarray]]:
    import skimage.data as sd

    out = []
    for n in PHOTOS:
        fn = getattr(sd, n, None)
        if fn is None:
            continue
        try:
            a = np.asarray(fn())
        except Exception:  # a sample whose file is not in the wheel
            continue
        if a.ndim == 2:
            a = np.repeat(a[:, :, None], 3, axis=2)
        out.append((n, a[:, :, :3].astype(np.uint8)))
    return out


def _write(out: Path, recs: list[dict[str, Any]]) -> Path:
    with open(out / "labels.jsonl", "w", encoding="utf-8") as fh:
        for r in recs:
            fh.write(json.dumps(r) + "\n")
    return out


def _split(i: int, n: int) -> str:
    # Split by source index so a source's items never straddle splits.
    f = i / max(n, 1)
    return "train" if f < 0.6 else "val" if f < 0.8 else "test"


def make_image_dataset(out: str | Path, *, per_source: int = 6, size: int = 128, seed: int = 0) -> Path:
    """Real photo crops vs the same crops re-upsampled by a "generator", both as PNG.

    Args:
        out: Folder to write (created).
        per_source: Items per class per source photo.
        size: Crop side in px.
        seed: Seed.
    """
    import cv2

    out = Path(out)
    (out / "real").mkdir(parents=True, exist_ok=True)
    (out / "synthetic").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    photos = _photos()
    recs = []
    k = 0
    for si, (name, img) in enumerate(photos):
        split = _split(si, len(photos))
        h, w = img.shape[:2]
        for j in range(per_source):
            for label in ("real", "synthetic"):
                y, x = int(rng.integers(0, h - size)), int(rng.integers(0, w - size))
                crop = img[y : y + size, x : x + size]
                gen = None
                if label == "synthetic":
                    gen = "toy-upsample-nearest" if j % 2 else "toy-upsample-bilinear"
                    small = cv2.resize(crop, (size // 2, size // 2), interpolation=cv2.INTER_AREA)
                    interp = cv2.INTER_NEAREST if j % 2 else cv2.INTER_LINEAR
                    crop = cv2.resize(small, (size, size), interpolation=interp)
                rel = f"{label}/{k:05d}.png"
                cv2.imwrite(str(out / rel), crop[:, :, ::-1])
                recs.append(
                    {
                        "file": rel,
                        "label": label,
                        "modality": "image",
                        "generator": gen,
                        "source": f"skimage/{name}",
                        "split": split,
                        "licence": "CC0 (scikit-image data)",
                    }
                )
                k += 1
    return _write(out, recs)


def _voice(rng: np.random.Generator, sr: int, dur: float, *, real: bool) -> np.ndarray:
    t = np.arange(int(sr * dur)) / sr
    f0 = 110 + 60 * rng.random() + 20 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t)
    if real:
        f0 = f0 * (1 + 0.01 * np.cumsum(rng.normal(0, 0.05, len(t))) / np.sqrt(np.arange(1, len(t) + 1)))
    phase = 2 * np.pi * np.cumsum(f0) / sr
    env = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(2, 5) * t) ** 2
    y = np.zeros_like(t)
    n_harm = 30 if real else 12
    for k in range(1, n_harm + 1):
        amp = 1.0 / k
        if real:
            amp *= 1 + 0.1 * rng.normal()
        y += amp * np.sin(k * phase)
    y *= env
    if real:
        y += 0.02 * rng.normal(size=len(t)) * env  # breath noise
        ir = np.exp(-np.arange(int(0.05 * sr)) / (0.01 * sr)) * rng.normal(size=int(0.05 * sr))
        ir[0] = 1.0
        y = np.convolve(y, ir * 0.3, mode="same") + y
        y += 0.002 * rng.normal(size=len(t))  # microphone floor
    return (0.3 * y / (np.abs(y).max() + 1e-9)).astype(np.float32)


def make_audio_dataset(
    out: str | Path,
    *,
    n_sources: int = 10,
    per_source: int = 2,
    sr: int = 16000,
    seed: int = 0,
    real_families: int = 1,
) -> Path:
    """Real-like vs synthetic-like voiced clips (1.5-2.5 s, 16 kHz), both as 16-bit WAV.

    ``real_families`` > 1 deals the speakers round-robin into that many real sources
    (``corpus_source`` ``toy-0``, ``toy-1``, ...), as a corpus of several packages would.
    """
    import soundfile as sf

    out = Path(out)
    (out / "real").mkdir(parents=True, exist_ok=True)
    (out / "synthetic").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    recs = []
    k = 0
    for si in range(n_sources):
        split = _split(si, n_sources)
        for _ in range(per_source):
            for label in ("real", "synthetic"):
                y = _voice(rng, sr, float(rng.uniform(1.5, 2.5)), real=label == "real")
                rel = f"{label}/{k:05d}.wav"
                sf.write(out / rel, y, sr, subtype="PCM_16")
                recs.append(
                    {
                        "file": rel,
                        "label": label,
                        "modality": "voice",
                        "generator": None if label == "real" else "toy-oscillator",
                        "source": f"toy/speaker{si}",
                        "split": split,
                        "licence": "generated (CC0)",
                    }
                )
                if label == "real" and real_families > 1:
                    recs[-1]["corpus_source"] = f"toy-{si % real_families}"
                k += 1
    return _write(out, recs)


HUMAN = (
    "The old lighthouse keeper climbed the stairs each evening, counting the steps under his breath. "
    "Nobody in the village remembered when the lamp had last failed, though the fishermen still told "
    "stories about the winter the fog came in for eleven days. Bread was baked on Tuesdays and the "
    "market opened late whenever the ferry was delayed by weather. My sister kept a notebook of every "
    "bird she saw from the kitchen window, and by spring she had filled three of them. We argued about "
    "whether the river had flooded in the year of the fire or the year after, and neither of us would "
    "concede. A committee was formed to repair the bridge, but its members mostly discussed the colour "
    "of the railings. The library closes at six, except on Thursdays, when the reading group meets and "
    "somebody always brings cake. He learned to play the violin at forty, badly at first, and then with "
    "a stubborn kind of joy that annoyed the neighbours. Rain fell on the tin roof all night, and in the "
    "morning the garden smelled of wet earth and crushed mint. The train was late again, so we walked "
    "along the canal and watched the herons fishing in the shallows. She said the recipe came from her "
    "grandmother, although I suspect it came from the back of a flour packet. Our teacher insisted that "
    "every essay begin with a question and end with a doubt. The harbour master wrote the tides on a "
    "chalkboard that nobody read because everyone already knew them by heart."
)


def make_text_dataset(
    out: str | Path, *, n_sources: int = 10, per_source: int = 2, words: int = 80, seed: int = 0
) -> Path:
    """Human passages (shuffled sentences of a fixed pool) vs bigram-chain samples of that pool."""
    import re

    out = Path(out)
    (out / "real").mkdir(parents=True, exist_ok=True)
    (out / "synthetic").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", HUMAN) if s.strip()]
    toks = HUMAN.split()
    nxt: dict[str, list[str]] = {}
    for a, b in zip(toks, toks[1:], strict=False):
        nxt.setdefault(a, []).append(b)
    recs = []
    k = 0
    for si in range(n_sources):
        split = _split(si, n_sources)
        for _ in range(per_source):
            for label in ("real", "synthetic"):
                if label == "real":
                    text, n = [], 0
                    while n < words:
                        s = sentences[int(rng.integers(len(sentences)))]
                        text.append(s)
                        n += len(s.split())
                    body = " ".join(text)
                else:
                    w = toks[int(rng.integers(len(toks)))]
                    seq = [w]
                    for _ in range(words):
                        w = nxt.get(w, toks)[int(rng.integers(len(nxt.get(w, toks))))]
                        seq.append(w)
                    body = " ".join(seq)
                rel = f"{label}/{k:05d}.txt"
                (out / rel).write_text(body, "utf-8")
                recs.append(
                    {
                        "file": rel,
                        "label": label,
                        "modality": "text",
                        "generator": None if label == "real" else "toy-bigram",
                        "source": f"toy/passage{si}",
                        "split": split,
                        "licence": "CC0 (written for provscan)",
                    }
                )
                k += 1
    return _write(out, recs)
