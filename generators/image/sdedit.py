"""Prompt-guided diffusion (``ddpm_sdedit``): the procedural scene of the prompt, re-drawn by the DDPM.

The 32x32 DDPM (``ddpm_32``) is unconditional, so its samples cannot follow a prompt. SDEdit
(Meng et al., ICLR 2022) gives it one without retraining: render the prompt's layout with the
procedural scene renderer, downscale it to the DDPM's working size, noise it to ``strength * T``
and denoise with DDIM. The U-Net is fully convolutional, so it runs at 64x64 (twice its training
size): the layout and palette come from the prompt, every pixel comes from the diffusion model,
which makes it a different fingerprint from both parents (photo-like grain and colour instead of
the renderer's clean gradients, prompt-faithful layout instead of the DDPM's random blobs).
"""

from __future__ import annotations

from typing import Any

import cv2
import torch

from generators.base import Generated, register_generator
from generators.errors import GeneratorError
from generators.image.learned import _Learned
from generators.image.nets import Diffusion
from generators.image.photos import parse_size
from generators.image.procedural import render_scene
from generators.image.train import to_uint8

VERSION = "1.0"


class DDPMSDEdit(_Learned):
    """SDEdit of the prompt's procedural scene with the ``ddpm_32`` weights (``ddpm_sdedit``)."""

    name = "ddpm_sdedit"
    weights_name = "ddpm_32"
    version = VERSION

    def _generate(
        self,
        prompt: str,
        *,
        seed: int,
        size: int | tuple[int, int] = 512,
        native: int | list[int] = 64,
        strength: float = 0.3,
        ddim_steps: int = 20,
        **params: Any,
    ) -> Generated:
        """Render ``prompt``, re-draw it at ``native`` px with the DDPM, upsample to ``size``.

        Args:
            prompt: Scene description (the procedural renderer's keywords set the layout).
            seed: Seeds the layout and the diffusion noise.
            size: Output side or (H, W).
            native: Working short side of the diffusion model (a multiple of 4), or [H, W].
            strength: Fraction of the diffusion run to redo (0-1]: higher = less of the guide.
            ddim_steps: DDIM steps from ``strength * T`` down to 0.
        """
        h, w = parse_size(size)
        if isinstance(native, (list, tuple)):  # the recorded [H, W] of an earlier item
            gh, gw = (int(v) for v in native)
        else:
            # The guide keeps the output's aspect ratio; its short side is the model's working size.
            n = int(native)
            gh, gw = (n, round(n * w / h / 4) * 4) if h <= w else (round(n * h / w / 4) * 4, n)
        if min(gh, gw) < 16 or gh % 4 or gw % 4:
            raise GeneratorError(f"native must be a multiple of 4 and >= 16, got {native}")
        if not 0.0 < strength <= 1.0:
            raise GeneratorError(f"strength must be in (0, 1], got {strength}")
        if ddim_steps < 2:
            raise GeneratorError(f"ddim_steps must be >= 2, got {ddim_steps}")
        guide, spec = render_scene(prompt, seed=seed, size=(gh * 4, gw * 4))
        small = cv2.resize(guide, (gw, gh), interpolation=cv2.INTER_AREA)
        x0 = torch.from_numpy(small).permute(2, 0, 1)[None].float() / 127.5 - 1.0
        gen = torch.Generator().manual_seed(int(seed))
        x = Diffusion(int(self.config.get("T", 1000))).edit(
            self.model, x0, strength=strength, steps=ddim_steps, generator=gen
        )
        out = cv2.resize(to_uint8(x)[0], (w, h), interpolation=cv2.INTER_CUBIC)
        return Generated(
            modality="image",
            data=out,
            generator=self.name,
            version=self.version,
            seed=seed,
            params={
                "size": [h, w],
                "native": [gh, gw],
                "strength": float(strength),
                "ddim_steps": int(ddim_steps),
                "guide": "procedural_scene",
                "time": spec.time,
                "features": list(spec.features),
            },
            prompt=prompt,
        )


@register_generator(modality="image", label="synthetic", weights="ddpm_32.pt")
def ddpm_sdedit(**kw: Any) -> DDPMSDEdit:
    """Factory: SDEdit of the prompt's procedural scene with the DDPM (needs ddpm_32 weights)."""
    return DDPMSDEdit(**kw)
