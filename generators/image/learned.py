"""Generators backed by the small networks trained here on real photos (see ``train.py``).

- ``vae_resynth``: a real photo encoded and decoded by a VAE (latent sampled with the seed); the
  pixels are all synthetic, the content is the photo's (``Generated.source`` names it).
- ``ddpm_32``: unconditional DDPM at 32x32, DDIM-sampled and bicubically upsampled to ``size``.
  The prompt conditions nothing (recorded only); the model is too small for text conditioning.
- ``espcn_sr``: x4 pixel-shuffle super-resolution of a low-resolution procedural render of the
  prompt (``base="procedural"``) or of a DDPM sample (``base="ddpm"``).

Weights are read from ``Settings.models_dir / "generators" / <name>.pt``; missing weights raise
``GeneratorUnavailableError`` naming the command that builds them.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from generators.base import Generated, register_generator
from generators.errors import GeneratorError, GeneratorUnavailableError
from generators.image.nets import ESPCN, Diffusion, TinyUNet, TinyVAE
from generators.image.photos import fit_to_size, list_photos, load_rgb, parse_size, pick_photo
from generators.image.procedural import render_scene
from generators.image.train import TRAIN_COMMAND, default_models_dir, to_tensor, to_uint8

VERSION = "1.0"
_BUILDERS = {"vae_resynth": TinyVAE, "ddpm_32": TinyUNet, "espcn_sr": ESPCN}


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> tuple[torch.nn.Module, dict[str, Any]]:
    del mtime  # cache key only: retraining replaces the file and must be picked up
    blob = torch.load(path, map_location="cpu", weights_only=True)
    name = blob["name"]
    config = dict(blob["config"])
    ctor_args = {k: v for k, v in config.items() if k not in ("native", "T")}
    model = _BUILDERS[name](**ctor_args)
    model.load_state_dict(blob["state_dict"])
    model.eval().requires_grad_(False)
    return model, config


def load_model(
    name: str, models_dir: str | Path | None = None
) -> tuple[torch.nn.Module, dict[str, Any], Path]:
    """Load trained weights for ``name``.

    Args:
        name: A learned generator (``vae_resynth``, ``ddpm_32``, ``espcn_sr``).
        models_dir: Folder with ``<name>.pt``; default ``Settings.models_dir / "generators"``.

    Returns:
        (model in eval mode, its config, weights path).

    Raises:
        GeneratorUnavailableError: The weights file is missing or unreadable.
    """
    folder = Path(models_dir) if models_dir is not None else default_models_dir()
    path = folder / f"{name}.pt"
    if not path.is_file():
        raise GeneratorUnavailableError(
            f"{name}: no weights at {path}; build them with `{TRAIN_COMMAND.format(name=name)}`"
        )
    try:
        model, config = _load(str(path), path.stat().st_mtime)
    except Exception as exc:  # a truncated or foreign file: say which, and how to rebuild it
        raise GeneratorUnavailableError(
            f"{name}: cannot load {path} ({exc}); rebuild with `{TRAIN_COMMAND.format(name=name)}`"
        ) from exc
    return model, config, path


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run torch with ``n`` intra-op threads, restoring the previous count afterwards.

    These networks are tiny and run at batch 1: extra threads buy nothing, and on a busy shared
    machine OpenMP spin-waiting made a DDPM sample take 50 s with 2 threads against 0.6 s with 1.
    """
    if not n:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _resize(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    h, w = hw
    if img.shape[:2] == (h, w):
        return img
    interp = cv2.INTER_AREA if img.shape[0] > h else cv2.INTER_CUBIC
    return cv2.resize(img, (w, h), interpolation=interp)


class _Learned:
    name = ""
    weights_name = ""  # the trained model it runs, when not its own name (ddpm_sdedit runs ddpm_32)
    version = VERSION
    modality = "image"

    def __init__(self, *, models_dir: str | Path | None = None, threads: int | None = 1) -> None:
        self.models_dir = models_dir
        self.threads = threads
        self.model, self.config, self.weights = load_model(self.weights_name or self.name, models_dir)

    def generate(self, prompt: str, *, seed: int, **params: Any) -> Generated:
        """Generate one item; the parameters are those of the subclass's ``_generate``."""
        with torch_threads(self.threads):
            return self._generate(prompt, seed=seed, **params)


class VAEResynth(_Learned):
    """Re-synthesis of a real photo through a small VAE (registered as ``vae_resynth``)."""

    name = "vae_resynth"

    def __init__(
        self,
        *,
        models_dir: str | Path | None = None,
        source_path: str | Path | None = None,
        threads: int | None = 1,
    ) -> None:
        super().__init__(models_dir=models_dir, threads=threads)
        self.source_path = source_path

    def _generate(
        self,
        prompt: str,
        *,
        seed: int,
        size: int | tuple[int, int] = 512,
        source_path: str | Path | None = None,
        temperature: float = 1.0,
        **params: Any,
    ) -> Generated:
        """Re-synthesise one real photo.

        Args:
            prompt: A word naming a photo id picks it ("astronaut"); otherwise ignored.
            seed: Picks the photo and its crop, and samples the latent.
            size: Output side or (H, W).
            source_path: Photo file or folder to draw from (default: built-in real photos).
            temperature: Scale of the latent noise (0 = the posterior mean).
        """
        h, w = parse_size(size)
        src = source_path if source_path is not None else self.source_path
        photo = pick_photo(list_photos(src), seed=seed, prompt=prompt)
        rng = np.random.default_rng(seed)
        real = fit_to_size(load_rgb(photo.path), (h, w), rng=rng)
        # The VAE downsamples by 4: pad to a multiple of 4 by reflection, crop after decoding.
        ph, pw = -h % 4, -w % 4
        padded = np.pad(real, ((0, ph), (0, pw), (0, 0)), mode="reflect") if ph or pw else real
        gen = torch.Generator().manual_seed(int(seed))
        with torch.inference_mode():
            mu, logvar = self.model.encode(to_tensor(padded[None]))
            eps = torch.randn(mu.shape, generator=gen)
            z = mu + float(temperature) * torch.exp(0.5 * logvar) * eps
            out = to_uint8(self.model.decode(z))[0, :h, :w]
        return Generated(
            modality="image",
            data=np.ascontiguousarray(out),
            generator=self.name,
            version=self.version,
            seed=seed,
            params={
                "size": [h, w],
                "temperature": float(temperature),
                "source_path": str(src) if src else None,
            },
            prompt=prompt,
            source=photo.id,
        )


class DDPM32(_Learned):
    """Unconditional 32x32 DDPM, DDIM-sampled, bicubic-upsampled (registered as ``ddpm_32``)."""

    name = "ddpm_32"
    # 1.1: retrained with Plasma wallpapers, Min-SNR loss and a 0.999 EMA (new samples per seed).
    version = "1.1"

    def sample_native(self, *, seed: int, ddim_steps: int = 50) -> np.ndarray:
        """One native-resolution sample (HxWx3 uint8) for ``seed``."""
        n = int(self.config.get("native", 32))
        gen = torch.Generator().manual_seed(int(seed))
        x = Diffusion(int(self.config.get("T", 1000))).sample(
            self.model, (1, 3, n, n), steps=ddim_steps, generator=gen
        )
        return to_uint8(x)[0]

    def _generate(
        self,
        prompt: str,
        *,
        seed: int,
        size: int | tuple[int, int] = 512,
        ddim_steps: int = 50,
        **params: Any,
    ) -> Generated:
        """Sample at 32x32 and upsample to ``size``; ``prompt`` is recorded but conditions nothing."""
        h, w = parse_size(size)
        if ddim_steps < 1:
            raise GeneratorError(f"ddim_steps must be >= 1, got {ddim_steps}")
        small = self.sample_native(seed=seed, ddim_steps=ddim_steps)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        return Generated(
            modality="image",
            data=out,
            generator=self.name,
            version=self.version,
            seed=seed,
            params={"size": [h, w], "ddim_steps": int(ddim_steps), "native": small.shape[0]},
            prompt=prompt,
        )


class ESPCNSR(_Learned):
    """x4 pixel-shuffle super-resolution of a low-res render (registered as ``espcn_sr``)."""

    name = "espcn_sr"

    def __init__(self, *, models_dir: str | Path | None = None, threads: int | None = 1) -> None:
        super().__init__(models_dir=models_dir, threads=threads)
        self._ddpm: DDPM32 | None = None

    def upscale(self, lr: np.ndarray) -> np.ndarray:
        """Super-resolve an HxWx3 uint8 image by the model's scale."""
        with torch.inference_mode():
            return to_uint8(self.model(to_tensor(lr[None])))[0]

    def _generate(
        self,
        prompt: str,
        *,
        seed: int,
        size: int | tuple[int, int] = 512,
        base: str = "procedural",
        ddim_steps: int = 50,
        **params: Any,
    ) -> Generated:
        """Render (or sample) at size/4 and super-resolve.

        Args:
            prompt: Scene keywords for the procedural base.
            seed: Seeds the base image.
            size: Output side or (H, W).
            base: ``"procedural"`` (default) or ``"ddpm"`` (needs the ddpm_32 weights too).
            ddim_steps: DDIM steps of the ``ddpm`` base.
        """
        h, w = parse_size(size)
        s = int(self.config.get("scale", 4))
        lh, lw = max(4, -(-h // s)), max(4, -(-w // s))
        if base == "procedural":
            # Render larger then area-downscale, so the low-res input is anti-aliased like the
            # downscaled photos the network was trained on.
            lr = _resize(render_scene(prompt, seed=seed, size=(lh * 2, lw * 2))[0], (lh, lw))
        elif base == "ddpm":
            if self._ddpm is None:
                self._ddpm = DDPM32(models_dir=self.models_dir, threads=None)
            small = self._ddpm.sample_native(seed=seed, ddim_steps=ddim_steps)
            lr = cv2.resize(small, (lw, lh), interpolation=cv2.INTER_CUBIC)
        else:
            raise GeneratorError(f"espcn_sr base must be 'procedural' or 'ddpm', got {base!r}")
        out = _resize(self.upscale(lr), (h, w))
        return Generated(
            modality="image",
            data=np.ascontiguousarray(out),
            generator=self.name,
            version=self.version,
            seed=seed,
            params={
                "size": [h, w],
                "base": base,
                "scale": s,
                **({"ddim_steps": ddim_steps} if base == "ddpm" else {}),
            },
            prompt=prompt,
        )


@register_generator(modality="image", label="synthetic", weights="vae_resynth.pt")
def vae_resynth(**kw: Any) -> VAEResynth:
    """Factory: VAE re-synthesis of real photos (needs trained weights)."""
    return VAEResynth(**kw)


@register_generator(modality="image", label="synthetic", weights="ddpm_32.pt")
def ddpm_32(**kw: Any) -> DDPM32:
    """Factory: 32x32 DDPM sampled with DDIM and upsampled (needs trained weights)."""
    return DDPM32(**kw)


@register_generator(modality="image", label="synthetic", weights="espcn_sr.pt")
def espcn_sr(**kw: Any) -> ESPCNSR:
    """Factory: ESPCN x4 super-resolution of low-res renders (needs trained weights)."""
    return ESPCNSR(**kw)
