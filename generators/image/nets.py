"""Small torch networks behind the learned image generators (each well under 3 MB of weights).

- :class:`TinyVAE`: f=4 convolutional VAE whose transposed-conv decoder re-synthesises photos,
  the fingerprint of a latent-diffusion decoder.
- :class:`TinyUNet` + :class:`Diffusion`: an epsilon-predicting DDPM at 32x32, sampled with DDIM.
- :class:`ESPCN`: x4 pixel-shuffle super-resolution on top of a bicubic upsample.

Images are float tensors in [-1, 1], NCHW.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class TinyVAE(nn.Module):
    """Convolutional VAE, 4x downsampling to ``latent`` channels.

    Args:
        latent: Latent channels (Stable Diffusion's VAE uses 4 at f=8; f=4 keeps small models sharp).
        width: Channels of the widest layer.
    """

    def __init__(self, latent: int = 4, width: int = 64) -> None:
        super().__init__()
        w2 = width // 2
        self.latent = latent
        self.encoder = nn.Sequential(
            nn.Conv2d(3, w2, 3, padding=1), nn.SiLU(),
            nn.Conv2d(w2, width, 4, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.SiLU(),
            nn.Conv2d(width, width, 4, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.SiLU(),
            nn.Conv2d(width, 2 * latent, 1),
        )  # fmt: skip
        self.decoder = nn.Sequential(
            nn.Conv2d(latent, width, 3, padding=1), nn.SiLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(width, width, 4, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(width, w2, 3, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(w2, w2, 4, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(w2, 3, 3, padding=1),
        )  # fmt: skip

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 6)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(
        self, x: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decode(z), mu, logvar


def _time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class _Res(nn.Module):
    def __init__(self, cin: int, cout: int, tdim: int) -> None:
        super().__init__()
        self.n1 = nn.GroupNorm(8, cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(tdim, cout)
        self.n2 = nn.GroupNorm(8, cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.c1(F.silu(self.n1(x)))
        h = h + self.t(temb)[:, :, None, None]
        h = self.c2(F.silu(self.n2(h)))
        return h + self.skip(x)


class TinyUNet(nn.Module):
    """Three-level U-Net (32 -> 16 -> 8) predicting the noise of a DDPM.

    Args:
        width: Channels at full resolution; doubled at the lower levels.
    """

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        w, w2 = width, 2 * width
        tdim = 4 * width
        self.width = width
        self.temb = nn.Sequential(nn.Linear(width, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        self.inp = nn.Conv2d(3, w, 3, padding=1)
        self.d1 = _Res(w, w, tdim)
        self.down1 = nn.Conv2d(w, w, 3, stride=2, padding=1)
        self.d2 = _Res(w, w2, tdim)
        self.down2 = nn.Conv2d(w2, w2, 3, stride=2, padding=1)
        self.mid1 = _Res(w2, w2, tdim)
        self.mid2 = _Res(w2, w2, tdim)
        self.u2 = _Res(w2 + w2, w2, tdim)
        self.u1 = _Res(w2 + w, w, tdim)
        self.out = nn.Sequential(nn.GroupNorm(8, w), nn.SiLU(), nn.Conv2d(w, 3, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        te = self.temb(_time_embedding(t, self.width))
        h0 = self.d1(self.inp(x), te)
        h1 = self.d2(self.down1(h0), te)
        h = self.mid2(self.mid1(self.down2(h1), te), te)
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        h = self.u2(torch.cat([h, h1], 1), te)
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        h = self.u1(torch.cat([h, h0], 1), te)
        return self.out(h)


class Diffusion:
    """Cosine-schedule DDPM (Nichol & Dhariwal 2021): training loss and DDIM sampling.

    Args:
        steps: Diffusion steps T of the forward process.
    """

    def __init__(self, steps: int = 1000) -> None:
        self.T = steps
        s = 0.008
        t = torch.linspace(0, steps, steps + 1, dtype=torch.float64)
        f = torch.cos((t / steps + s) / (1 + s) * math.pi / 2) ** 2
        abar = (f / f[0]).clamp(1e-5, 1.0)
        # Clip betas at 0.999 as in the paper; alpha_bar is then the product of (1 - beta).
        betas = (1 - abar[1:] / abar[:-1]).clamp(max=0.999)
        self.abar = torch.cumprod(1 - betas, 0).float()

    def loss(
        self,
        model: nn.Module,
        x0: torch.Tensor,
        generator: torch.Generator,
        *,
        min_snr: float | None = None,
    ) -> torch.Tensor:
        """Epsilon-prediction MSE at uniformly drawn timesteps.

        Args:
            model: The noise predictor.
            x0: Clean images in [-1, 1].
            generator: Draws timesteps and noise.
            min_snr: If set, Min-SNR-gamma weighting (Hang et al. 2023), ``min(snr, gamma) / snr``
                per sample: it down-weights the nearly clean timesteps, whose fine texture a
                small model cannot afford, so training time goes to layout and colour.
        """
        b = x0.shape[0]
        t = torch.randint(0, self.T, (b,), generator=generator)
        eps = torch.randn(x0.shape, generator=generator)
        a = self.abar[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
        if min_snr is None:
            return F.mse_loss(model(xt, t), eps)
        snr = self.abar[t] / (1 - self.abar[t])
        w = snr.clamp(max=min_snr) / snr
        per = (model(xt, t) - eps).pow(2).mean(dim=(1, 2, 3))
        return (w * per).mean()

    @torch.inference_mode()
    def sample(
        self, model: nn.Module, shape: tuple[int, ...], *, steps: int = 50, generator: torch.Generator
    ) -> torch.Tensor:
        """Deterministic DDIM (eta = 0) from seeded Gaussian noise, with dynamic thresholding."""
        x = torch.randn(shape, generator=generator)
        ts = torch.linspace(self.T - 1, 0, steps).round().long()
        return self._ddim(model, x, ts)

    @torch.inference_mode()
    def edit(
        self,
        model: nn.Module,
        x0: torch.Tensor,
        *,
        strength: float,
        steps: int = 20,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """SDEdit (Meng et al. 2022): noise a guide image to ``t = strength * T`` and denoise it.

        The guide's layout and colours survive; every pixel is re-drawn by the diffusion model, so
        the result carries the model's fingerprint, not the guide's.
        """
        if not 0.0 < strength <= 1.0:
            raise ValueError(f"strength must be in (0, 1], got {strength}")
        t0 = min(self.T - 1, max(1, round(strength * (self.T - 1))))
        a = self.abar[t0]
        x = a.sqrt() * x0 + (1 - a).sqrt() * torch.randn(x0.shape, generator=generator)
        ts = torch.linspace(t0, 0, max(2, steps)).round().long()
        return self._ddim(model, x, ts)

    def _ddim(self, model: nn.Module, x: torch.Tensor, ts: torch.Tensor) -> torch.Tensor:
        for i, t in enumerate(ts):
            a = self.abar[t]
            a_prev = self.abar[ts[i + 1]] if i + 1 < len(ts) else torch.tensor(1.0)
            eps = model(x, t.repeat(x.shape[0]))
            x0 = (x - (1 - a).sqrt() * eps) / a.sqrt()
            # Dynamic thresholding (Imagen, Saharia et al. 2022): rescale by the 99.5th percentile
            # of |x0| instead of hard clipping, which left this small model's samples saturated.
            s = torch.quantile(x0.abs().reshape(x0.shape[0], -1), 0.995, dim=1).clamp(min=1.0)
            x0 = x0.clamp(-s[:, None, None, None], s[:, None, None, None]) / s[:, None, None, None]
            eps = (x - a.sqrt() * x0) / (1 - a).sqrt()  # re-derived after clamping, as in DDIM code
            x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
        return x


class ESPCN(nn.Module):
    """x``scale`` super-resolution: bicubic upsample plus a pixel-shuffle residual (Shi et al. 2016).

    Args:
        scale: Upsampling factor.
        width: Channels of the first layer.
    """

    def __init__(self, scale: int = 4, width: int = 64) -> None:
        super().__init__()
        self.scale = scale
        self.body = nn.Sequential(
            nn.Conv2d(3, width, 5, padding=2), nn.Tanh(),
            nn.Conv2d(width, width // 2, 3, padding=1), nn.Tanh(),
            nn.Conv2d(width // 2, width // 2, 3, padding=1), nn.Tanh(),
            nn.Conv2d(width // 2, 3 * scale * scale, 3, padding=1),
            nn.PixelShuffle(scale),
        )  # fmt: skip

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        base = F.interpolate(lr, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return base + self.body(lr)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
