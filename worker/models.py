"""Model weights this instance needs, and the seeded commands that build them.

`make run` calls ``provscan models build --missing-only`` so a fresh clone builds what is missing
(never downloads). Each entry names the file it produces under ``PROVSCAN_MODELS_DIR`` and a
builder function; builders write a YAML card beside their weights.
"""

from __future__ import annotations

import importlib
import multiprocessing
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from detector.settings import Settings


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str  # "generator" | "detector"
    weights: str  # path relative to the models dir
    builder: str  # "module:function", called as fn(models_dir: Path, *, seed: int) -> Path
    description: str
    depends: tuple[str, ...] = ()
    # Shared training data ("module:function", called as fn(seed=seed)) built before this model.
    # A model that declares its data here may be built in parallel with others (``--jobs``): the
    # shared corpora and download caches are ready before any build starts, so no two processes
    # write them at once. Generators declare none and are built one at a time.
    prepare: tuple[str, ...] = ()

    def path(self, models_dir: Path) -> Path:
        return models_dir / self.weights

    def build(self, models_dir: Path, *, seed: int = 0) -> Path:
        return _resolve(self.builder)(models_dir, seed=seed)


def _resolve(ref: str) -> Callable[..., Any]:
    """The function a "module:function" reference names (builders and prepare steps)."""
    mod, fn = ref.split(":")
    return getattr(importlib.import_module(mod), fn)


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
              "residual CNN + FFT/NPR baselines on 2000 generated vs real images + 8 new-camera photos (~3 min data + ~30 min training)",
              depends=("vae-resynth", "ddpm-32", "espcn-sr"),
              prepare=("worker.model_builders:corpus", "worker.model_builders:new_camera_corpus")),
    ModelSpec("audio-lfcc-cnn", "detector", "detectors/audio-lfcc-cnn.pt", "worker.model_builders:audio_detector",
              "log-spectrogram CNN (+ 2 calibration CNNs) + LFCC-GMM baseline on 792 clips, 6 languages + 9 volunteer voices (~20-29 min + speech corpus)",
              depends=("neural-vocoder",), prepare=("worker.model_builders:audio_corpus",)),
    ModelSpec("text-lm-logreg", "detector", "detectors/text-lm-logreg.pt", "worker.model_builders:text_detector",
              "LM-feature logistic regression on 2,900 human passages vs 1,700 generated texts, many sampling settings (~5 min + corpus)",
              depends=("text-ngram", "text-gru"), prepare=("worker.model_builders:corpus",)),
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


def _build_one(m: ModelSpec, models_dir: Path, seed: int) -> float:
    t0 = time.perf_counter()
    print(f"provscan: building model {m.name} ({m.description})…", file=sys.stderr, flush=True)
    # One BLAS thread: OpenBLAS/LAPACK reductions (least squares, dot products inside the sklearn
    # fits) sum in a thread-count-dependent order, so a 2-core and a 16-core machine would write
    # different bytes. Torch threads are fixed by each builder; parallelism comes from --jobs.
    with threadpool_limits(limits=1, user_api="blas"):
        m.build(models_dir, seed=seed)
    took = time.perf_counter() - t0
    print(f"provscan: built {m.name} in {took:.1f} s", file=sys.stderr, flush=True)
    return took


def build(
    settings: Settings,
    names: list[str] | None = None,
    *,
    missing_only: bool = False,
    seed: int = 0,
    kind: str | None = None,
    jobs: int = 1,
) -> list[str]:
    """Build what :func:`plan` lists; returns the names built.

    ``jobs > 1``: models without shared data to prepare (the generators) are built first, one at a
    time; then every ``prepare`` step runs once, in order; then the rest are built ``jobs`` at a
    time in separate processes. Each builder fixes its own thread counts, so the weights are the
    same bytes whatever ``jobs`` is; only the wall time changes.
    """
    todo = plan(settings, names, missing_only=missing_only, kind=kind)
    serial = [m for m in todo if jobs <= 1 or not m.prepare]
    parallel = [m for m in todo if m not in serial]
    for m in serial:
        _build_one(m, settings.models_dir, seed)
    if parallel:
        for ref in dict.fromkeys(r for m in parallel for r in m.prepare):
            t0 = time.perf_counter()
            with threadpool_limits(limits=1, user_api="blas"):  # as the builds themselves run
                _resolve(ref)(seed=seed)
            print(f"provscan: prepared {ref.split(':')[1]} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        _build_parallel(parallel, settings.models_dir, seed, jobs)
    return [m.name for m in todo]


def _build_parallel(todo: list[ModelSpec], models_dir: Path, seed: int, jobs: int) -> None:
    # spawn: a forked child would inherit torch's thread pools and any open DB handles.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=ctx) as pool:
        running: dict[Future[float], ModelSpec] = {pool.submit(_build_one, m, models_dir, seed): m for m in todo}
        failed: list[str] = []
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                m = running.pop(fut)
                exc = fut.exception()
                if exc is not None:
                    print(f"provscan: building {m.name} failed: {exc}", file=sys.stderr)
                    failed.append(m.name)
        if failed:
            raise RuntimeError(f"model build failed: {', '.join(failed)} (the others finished)")
