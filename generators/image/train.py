"""Training of the learned image generators on real photo crops, on CPU, in minutes.

``python -m generators.image.train NAME [--minutes M] [--out DIR]`` (NAME: vae_resynth, ddpm_32,
espcn_sr, or ``all``) writes ``<out>/<name>.pt`` (config + state dict), ``<name>.yaml`` (the
card: data, seed, steps, loss, time, sample path) and ``<name>_samples.png`` into
``Settings.models_dir / "generators"`` by default, where the generators load them from.
"""

from __future__ import annotations

import argparse
import copy
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
import yaml
from tqdm import tqdm

from detector.settings import Settings
from generators.errors import GeneratorError
from generators.image.nets import ESPCN, Diffusion, TinyUNet, TinyVAE, n_params
from generators.image.photos import Photo, list_photos, list_wallpapers, load_rgb

LEARNED = ("vae_resynth", "ddpm_32", "espcn_sr")
TRAIN_COMMAND = "python -m generators.image.train {name}"


def default_models_dir(settings: Settings | None = None) -> Path:
    """Where generator weights live: ``Settings.models_dir / "generators"``."""
    return (settings or Settings.from_env()).models_dir / "generators"


class PatchSampler:
    """Random crops of real photos at random scales, drawn from a seeded numpy RNG.

    Args:
        photos: Photos to crop from (decoded once, kept in memory).
        rng: Source of every random choice.
    """

    def __init__(self, photos: list[Photo], rng: np.random.Generator) -> None:
        self.photos = photos
        self.images = [load_rgb(p.path) for p in photos]
        self.rng = rng

    def crop(
        self, out: int, *, scale: tuple[float, float] | None = None, short_side: tuple[int, int] | None = None
    ) -> np.ndarray:
        """One ``out`` x ``out`` crop, resized from the photo at a random scale, random h-flip.

        ``scale`` is relative to the photo's native size; ``short_side`` instead sets the
        photo's short side in pixels (thumbnails of whole scenes for the 32x32 DDPM).
        """
        img = self.images[int(self.rng.integers(len(self.images)))]
        ih, iw = img.shape[:2]
        if short_side is not None:
            s = float(self.rng.uniform(*short_side)) / min(ih, iw)
        else:
            lo, hi = scale or (1.0, 1.0)
            s = float(self.rng.uniform(lo, hi))
        s = max(s, out / min(ih, iw))  # the crop must fit inside the photo
        span = min(round(out / s), ih, iw)
        y = int(self.rng.integers(0, ih - span + 1))
        x = int(self.rng.integers(0, iw - span + 1))
        patch = img[y : y + span, x : x + span]
        interp = cv2.INTER_AREA if span > out else cv2.INTER_CUBIC
        patch = cv2.resize(np.ascontiguousarray(patch), (out, out), interpolation=interp)
        return patch[:, ::-1] if self.rng.random() < 0.5 else patch

    def batch(self, n: int, out: int, **kw: Any) -> torch.Tensor:
        arr = np.stack([self.crop(out, **kw) for _ in range(n)])
        return to_tensor(arr)


def to_tensor(arr: np.ndarray) -> torch.Tensor:
    """NHWC uint8 -> NCHW float in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """NCHW [-1, 1] -> NHWC uint8 (rounded, clipped)."""
    return ((x.clamp(-1, 1) + 1) * 127.5 + 0.5).clamp(0, 255).byte().permute(0, 2, 3, 1).cpu().numpy()


@dataclass(frozen=True)
class TrainResult:
    """What one training run produced (also written to the card)."""

    weights: Path
    card: Path
    samples: Path
    steps: int
    seconds: float
    loss: float


def _grid(images: np.ndarray, cols: int) -> np.ndarray:
    n, h, w, c = images.shape
    rows = -(-n // cols)
    out = np.zeros((rows * h, cols * w, c), np.uint8)
    for i, im in enumerate(images):
        out[(i // cols) * h : (i // cols + 1) * h, (i % cols) * w : (i % cols + 1) * w] = im
    return out


def _loop(
    step_fn: Callable[[], torch.Tensor], *, max_steps: int | None, minutes: float, name: str
) -> tuple[int, float, float]:
    start = time.perf_counter()
    ema_loss, steps = float("nan"), 0
    limit = max_steps if max_steps is not None else sys.maxsize
    with tqdm(desc=f"train {name}", unit="step", file=sys.stderr, total=max_steps, mininterval=2.0) as bar:
        while steps < limit and (max_steps is not None or time.perf_counter() - start < minutes * 60):
            loss = float(step_fn())
            ema_loss = loss if steps == 0 else 0.98 * ema_loss + 0.02 * loss
            steps += 1
            bar.update(1)
            if steps % 50 == 0:
                bar.set_postfix(loss=f"{ema_loss:.4f}")
    return steps, time.perf_counter() - start, ema_loss


def _train_vae(
    sampler: PatchSampler,
    gen: torch.Generator,
    *,
    max_steps: int | None,
    minutes: float,
    batch: int,
    sample_steps: int,
    init: dict[str, torch.Tensor] | None = None,
) -> tuple[dict, torch.nn.Module, tuple[int, float, float], np.ndarray]:
    config = {"latent": 4, "width": 32}
    model = TinyVAE(**config)
    if init is not None:
        model.load_state_dict(init)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.0)
    beta = 1e-4  # weak KL: a usable decoder quickly, still a real (noisy) latent to sample

    def step() -> torch.Tensor:
        x = sampler.batch(batch, 64, scale=(0.3, 1.0))
        rec, mu, logvar = model(x, generator=gen)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).mean()
        # A second L1 on 4x-pooled images weights low frequencies (colour): with L1 alone a
        # few minutes of training leave the reconstructions desaturated.
        pooled = (F.avg_pool2d(rec, 4) - F.avg_pool2d(x, 4)).abs().mean()
        loss = (rec - x).abs().mean() + 2.0 * pooled + beta * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    stats = _loop(step, max_steps=max_steps, minutes=minutes, name="vae_resynth")
    model.eval()
    with torch.inference_mode():
        x = sampler.batch(4, 128, scale=(0.4, 0.8))
        rec = model(x, generator=gen)[0]
    samples = np.concatenate([_grid(to_uint8(x), 4), _grid(to_uint8(rec), 4)], axis=0)
    return config, model, stats, samples


def _train_ddpm(
    sampler: PatchSampler,
    gen: torch.Generator,
    *,
    max_steps: int | None,
    minutes: float,
    batch: int,
    sample_steps: int,
    init: dict[str, torch.Tensor] | None = None,
) -> tuple[dict, torch.nn.Module, tuple[int, float, float], np.ndarray]:
    config = {"width": 32, "native": 32, "T": 1000}
    model = TinyUNet(width=config["width"])
    if init is not None:
        model.load_state_dict(init)
    ema = copy.deepcopy(model).requires_grad_(False)
    diff = Diffusion(config["T"])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    count = [0]

    def step() -> torch.Tensor:
        x0 = sampler.batch(batch, 32, short_side=(34, 64))
        loss = diff.loss(model, x0, gen, min_snr=MIN_SNR)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        # EMA weights sample far cleaner than the raw ones. The decay warms up to 0.999
        # ((n+1)/(n+10)) so the average is not anchored to the random initial weights.
        count[0] += 1
        decay = 0.999 if init is not None else min(0.999, (1 + count[0]) / (10 + count[0]))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters(), strict=True):
                pe.lerp_(pm, 1.0 - decay)
        return loss.detach()

    stats = _loop(step, max_steps=max_steps, minutes=minutes, name="ddpm_32")
    ema.eval()
    samples = to_uint8(diff.sample(ema, (16, 3, 32, 32), steps=sample_steps, generator=gen))
    samples = np.stack([cv2.resize(s, (96, 96), interpolation=cv2.INTER_CUBIC) for s in samples])
    return config, ema, stats, _grid(samples, 8)


def _train_sr(
    sampler: PatchSampler,
    gen: torch.Generator,
    *,
    max_steps: int | None,
    minutes: float,
    batch: int,
    sample_steps: int,
    init: dict[str, torch.Tensor] | None = None,
) -> tuple[dict, torch.nn.Module, tuple[int, float, float], np.ndarray]:
    config = {"scale": 4, "width": 64}
    model = ESPCN(**config)
    if init is not None:
        model.load_state_dict(init)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)

    def pair(n: int, hr_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        hr = np.stack([sampler.crop(hr_size, scale=(0.4, 1.0)) for _ in range(n)])
        lr = np.stack([cv2.resize(h, (hr_size // 4, hr_size // 4), interpolation=cv2.INTER_AREA) for h in hr])
        return to_tensor(lr), to_tensor(hr)

    def step() -> torch.Tensor:
        lr, hr = pair(batch, 64)
        loss = (model(lr) - hr).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    stats = _loop(step, max_steps=max_steps, minutes=minutes, name="espcn_sr")
    model.eval()
    with torch.inference_mode():
        lr, hr = pair(4, 128)
        sr = model(lr)
    bic = torch.nn.functional.interpolate(lr, scale_factor=4, mode="bicubic", align_corners=False)
    samples = np.concatenate(
        [_grid(to_uint8(bic), 4), _grid(to_uint8(sr), 4), _grid(to_uint8(hr), 4)], axis=0
    )
    return config, model, stats, samples


# Batch sizes fit a few minutes on 2 shared CPU cores (each step ~0.1-0.5 s there).
MIN_SNR = 5.0  # Min-SNR-gamma loss weighting of the DDPM (gamma = 5, as in the paper)
_TRAINERS = {"vae_resynth": (_train_vae, 8), "ddpm_32": (_train_ddpm, 16), "espcn_sr": (_train_sr, 16)}


def train_image_generator(
    name: str,
    out_dir: str | Path | None = None,
    *,
    seed: int = 0,
    minutes: float = 3.0,
    data: str | Path | None = None,
    steps: int | None = None,
    batch: int | None = None,
    threads: int | None = 2,
    sample_steps: int = 50,
    resume: bool = False,
) -> Path:
    """Train one learned image generator on real photo crops and write weights + card.

    Args:
        name: ``vae_resynth``, ``ddpm_32`` or ``espcn_sr``.
        out_dir: Output folder; default ``Settings.models_dir / "generators"``.
        seed: Seeds crops, noise and initialisation.
        minutes: Wall-clock budget (ignored when ``steps`` is given).
        data: A photo file or folder; default: the built-in real photos (see ``photos.py``).
        steps: Exact number of optimiser steps (tests use a handful).
        batch: Batch size (default per model: 8, 16, 16).
        threads: torch intra-op threads (the project trains on 2 shared cores); None leaves it.
        sample_steps: DDIM steps for the DDPM's sample sheet (tests use a couple).
        resume: Start from ``<out_dir>/<name>.pt`` if present; the card then counts all steps.

    Returns:
        Path of the weights file ``<out_dir>/<name>.pt``.

    Raises:
        GeneratorError: Unknown ``name``; PhotoSourceError when there are no photos.
    """
    if name not in _TRAINERS:
        raise GeneratorError(f"unknown learned image generator {name!r} (known: {', '.join(LEARNED)})")
    out = Path(out_dir) if out_dir is not None else default_models_dir()
    out.mkdir(parents=True, exist_ok=True)
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    photos = list_photos(data)
    if name == "ddpm_32" and data is None:
        # Whole-scene landscape wallpapers, when extracted: see photos.list_wallpapers.
        photos += list_wallpapers()
    sampler = PatchSampler(photos, np.random.default_rng(seed))
    trainer, default_batch = _TRAINERS[name]
    weights = out / f"{name}.pt"
    card_path = out / f"{name}.yaml"
    init, before = None, {"steps": 0, "train_seconds": 0.0}
    if resume and weights.is_file():
        init = torch.load(weights, map_location="cpu", weights_only=True)["state_dict"]
        if card_path.is_file():
            prev = yaml.safe_load(card_path.read_text()) or {}
            before = {
                "steps": int(prev.get("steps", 0)),
                "train_seconds": float(prev.get("train_seconds", 0.0)),
            }
    config, model, (n_steps, seconds, loss), samples = trainer(
        sampler,
        gen,
        max_steps=steps,
        minutes=minutes,
        batch=batch or default_batch,
        sample_steps=sample_steps,
        init=init,
    )
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    torch.save({"name": name, "config": config, "state_dict": state}, weights)
    sample_path = out / f"{name}_samples.png"
    cv2.imwrite(str(sample_path), cv2.cvtColor(samples, cv2.COLOR_RGB2BGR))
    card = {
        "name": name,
        "modality": "image",
        "weights": weights.name,
        "weights_bytes": weights.stat().st_size,
        "params": n_params(model),
        "config": config,
        "data": {
            "source": str(data)
            if data is not None
            else "builtin real photos (skimage, matplotlib, opencv-doc)"
            + (", Plasma photo wallpapers" if any(p.id.startswith("wallpaper:") for p in photos) else ""),
            "photos": len(photos),
            "ids": [p.id for p in photos],
            "licences": sorted({p.licence for p in photos}),
        },
        "seed": seed,
        "steps": before["steps"] + n_steps,
        "batch": batch or default_batch,
        "loss": round(float(loss), 5),
        "train_seconds": round(before["train_seconds"] + seconds, 1),
        "resumed_from": before if init is not None else None,
        "threads": torch.get_num_threads(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "torch": str(torch.__version__),
        "sample": sample_path.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": TRAIN_COMMAND.format(name=name),
    }
    card_path.write_text(yaml.safe_dump(card, sort_keys=False))
    return weights


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m generators.image.train NAME|all [--minutes M] [--out DIR] [--seed S] [--data D]``."""
    ap = argparse.ArgumentParser(prog="python -m generators.image.train", description=__doc__.splitlines()[0])
    ap.add_argument("name", choices=[*LEARNED, "all"])
    ap.add_argument("--minutes", type=float, default=3.0, help="wall-clock budget per model")
    ap.add_argument("--out", default=None, help="output folder (default: models dir / generators)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=None, help="photo file or folder (default: built-in real photos)")
    ap.add_argument("--steps", type=int, default=None, help="exact step count instead of --minutes")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (1 on a busy shared machine)")
    ap.add_argument("--resume", action="store_true", help="continue from the existing weights")
    args = ap.parse_args(argv)
    for name in LEARNED if args.name == "all" else (args.name,):
        path = train_image_generator(
            name,
            args.out,
            seed=args.seed,
            minutes=args.minutes,
            data=args.data,
            steps=args.steps,
            threads=args.threads,
            resume=args.resume,
        )
        card = yaml.safe_load(path.with_suffix(".yaml").read_text())
        print(f"{name}: {path} steps={card['steps']} loss={card['loss']} seconds={card['train_seconds']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
