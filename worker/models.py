"""Model weights this instance needs, and the seeded commands that build them.

`make run` calls ``provscan models build --missing-only`` so a fresh clone builds what is missing
(never downloads). Each entry names the file it produces under ``PROVSCAN_MODELS_DIR`` and a
builder function; builders write a YAML card beside their weights.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from detector.settings import Settings


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str  # "generator" | "detector"
    weights: str  # path relative to the models dir
    builder: str  # "module:function", called as fn(models_dir: Path, *, seed: int) -> Path
    description: str
    depends: tuple[str, ...] = ()

    def path(self, models_dir: Path) -> Path:
        return models_dir / self.weights

    def build(self, models_dir: Path, *, seed: int = 0) -> Path:
        mod, fn = self.builder.split(":")
        func: Callable[..., Path] = getattr(importlib.import_module(mod), fn)
        return func(models_dir, seed=seed)


# Ordered: a model's dependencies come before it.
MODELS: list[ModelSpec] = [
    ModelSpec("text-ngram", "generator", "generators/text-ngram.npz", "worker.model_builders:text_ngram",
              "Kneser-Ney trigram LM on Debian human text (seconds)"),
    ModelSpec("text-gru", "generator", "generators/text-gru.pt", "worker.model_builders:text_gru",
              "word-level GRU LM on Debian human text (~10-20 min on 2 cores)"),
    ModelSpec("neural-vocoder", "generator", "generators/neural_vocoder.pt", "worker.model_builders:neural_vocoder",
              "mel-to-waveform vocoder on real speech (~20 min on 2 cores)"),
    ModelSpec("vae-resynth", "generator", "generators/vae_resynth.pt", "worker.model_builders:vae_resynth",
              "convolutional VAE re-synthesising real photos (~5 min)"),
    ModelSpec("ddpm-32", "generator", "generators/ddpm_32.pt", "worker.model_builders:ddpm_32",
              "32x32 DDPM on real photo crops, DDIM-sampled and upsampled (~15 min)"),
    ModelSpec("espcn-sr", "generator", "generators/espcn_sr.pt", "worker.model_builders:espcn_sr",
              "x4 pixel-shuffle super-resolution on real photos (~3 min)"),
    # Detectors come after the generators they are trained on (plus the real corpus).
    ModelSpec("image-residual-cnn", "detector", "detectors/image-residual-cnn.pt",
              "worker.model_builders:image_detector",
              "residual CNN + FFT/NPR baselines on 2000 generated vs real images (~3 min data + ~15 min training on 2 cores)",
              depends=("vae-resynth", "ddpm-32", "espcn-sr")),
    ModelSpec("audio-lfcc-cnn", "detector", "detectors/audio-lfcc-cnn.pt", "worker.model_builders:audio_detector",
              "LFCC CNN + LFCC-GMM baseline on 720 clips, 6 languages (~15 min + speech corpus)",
              depends=("neural-vocoder",)),
    ModelSpec("text-lm-logreg", "detector", "detectors/text-lm-logreg.pt", "worker.model_builders:text_detector",
              "LM-feature logistic regression on 2,900 human passages vs 1,700 generated texts, many sampling settings (~25 min + corpus)",
              depends=("text-ngram", "text-gru")),
]


def find(name: str) -> ModelSpec:
    for m in MODELS:
        if m.name == name:
            return m
    known = ", ".join(m.name for m in MODELS) or "none"
    raise KeyError(f"unknown model {name!r} (known: {known})")


def status(settings: Settings) -> list[tuple[ModelSpec, bool]]:
    return [(m, m.path(settings.models_dir).exists()) for m in MODELS]


def plan(
    settings: Settings,
    names: list[str] | None = None,
    *,
    missing_only: bool = False,
    kind: str | None = None,
) -> list[ModelSpec]:
    """What :func:`build` would build, in order: the named models (all when None, or all of one
    ``kind``), preceded by their missing dependencies (a detector's generators)."""
    todo = [find(n) for n in names] if names else [m for m in MODELS if kind is None or m.kind == kind]
    needed = {m.name for m in todo}
    for m in list(todo):
        needed |= {d for d in m.depends if not find(d).path(settings.models_dir).exists()}
    return [
        m for m in MODELS
        if m.name in needed and not (missing_only and m.path(settings.models_dir).exists())
    ]


def build(
    settings: Settings,
    names: list[str] | None = None,
    *,
    missing_only: bool = False,
    seed: int = 0,
    kind: str | None = None,
) -> list[str]:
    """Build what :func:`plan` lists; returns the names built."""
    built = []
    for m in plan(settings, names, missing_only=missing_only, kind=kind):
        t0 = time.perf_counter()
        print(f"provscan: building model {m.name} ({m.description})…", file=sys.stderr)
        m.build(settings.models_dir, seed=seed)
        print(f"provscan: built {m.name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        built.append(m.name)
    return built
