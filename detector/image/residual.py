"""Patch-trained, fully convolutional image detectors on noise residuals (no destructive resize).

Generator fingerprints live in the highest frequencies (upsampling checkerboards, missing sensor
noise), which any resize to a fixed input size would wipe out. So the network sees a fixed
high-pass residual of the full-resolution pixels, is trained on random 96-px patches, and at
inference runs convolutionally over the whole image: every cell of the output map is the logit of
one receptive-field patch. Training scores a patch by the mean of its top-k cells (``topk``); the
image score (:func:`image_score`, ``score_topk``, chosen on validation images when training) is
the mean of all cells, of the top few percent, or the average of both: the plain mean is steadiest
on full-frame generators, a small top fraction catches local edits. It is mapped to P(synthetic)
by a Platt calibrator fitted on validation images; the map itself is the heatmap.

Three fronts share this code:
- ``highpass``: image minus its 3x3 box blur, per channel.
- ``npr`` (baseline ``image-npr-cnn``): Neighbouring Pixel Relationships (Tan et al., CVPR 2024):
  image minus its nearest-neighbour down/up-sampled copy, into a small plain CNN.
- ``highpass+npr`` (the main detector ``image-residual-cnn``): both residuals stacked (6 channels)
  into the same small full-resolution CNN. A timm ``resnet10t`` body on the high-pass residual
  alone (the first version) lost to the NPR baseline: its stride-4 stem aliases the pixel-level
  traces away before any layer can see them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from detector.base import register_detector
from detector.trained import TrainedDetector, inference_net
from detector.types import Finding, MediaItem

KIND = "image-patch-cnn"
# Above this many pixels only a centre crop is analysed: fingerprints are local, and the time
# budget (>= 20 images/s at 512x512 on 2 cores) is per image, not per megapixel.
MAX_SIDE = 1024
HEATMAP_MAX = 16
# Residual fronts and the channels each feeds the body.
FRONTS = {"highpass": 3, "npr": 3, "highpass+npr": 6}


def _torch() -> Any:
    import torch

    return torch


def build_net(config: dict[str, Any]) -> Any:
    """The network for a config: ``{"front": see FRONTS, "body": "resnet10t"|"small", "width": int}``."""
    torch = _torch()
    nn = torch.nn

    class Front(nn.Module):
        def __init__(self, kind: str) -> None:
            super().__init__()
            if kind not in FRONTS:
                raise ValueError(f"unknown front {kind!r}")
            self.kind = kind

        @staticmethod
        def highpass(x: Any) -> Any:
            blur = nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
            # Residuals are a few grey levels; scale them to unit-ish range for the stem.
            return (x - blur) * 20.0

        @staticmethod
        def npr(x: Any) -> Any:
            h, w = x.shape[-2:]
            xe = x[..., : h - h % 2, : w - w % 2]
            up = nn.functional.interpolate(xe[..., ::2, ::2], scale_factor=2.0, mode="nearest")
            return (xe - up) * 20.0

        def forward(self, x: Any) -> Any:
            x = x * (1.0 / 255.0)
            if self.kind == "highpass":
                return self.highpass(x)
            if self.kind == "npr":
                return self.npr(x)
            # Both residuals stacked (6 channels): sensor-noise-like texture and 2x2 upsampling traces.
            n = self.npr(x)
            return torch.cat([self.highpass(x)[..., : n.shape[-2], : n.shape[-1]], n], dim=1)

    class Small(nn.Module):
        def __init__(self, width: int, cin: int) -> None:
            super().__init__()
            w = width
            layers: list[Any] = []
            for i, cout in enumerate((w, w, 2 * w, 2 * w, 4 * w)):
                stride = 1 if i == 0 else 2
                layers += [
                    nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                    nn.BatchNorm2d(cout),
                    nn.ReLU(inplace=True),
                ]
                cin = cout
            self.net = nn.Sequential(*layers)
            self.num_features = cin

        def forward(self, x: Any) -> Any:
            return self.net(x)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.front = Front(config.get("front", "highpass"))
            w = int(config.get("width", 16))
            cin = FRONTS[self.front.kind]
            if config.get("body", "resnet10t") == "small":
                self.body = Small(w, cin)
                nf = self.body.num_features
            else:
                import timm

                self.body = timm.create_model(
                    config.get("body", "resnet10t"),
                    pretrained=False,
                    in_chans=cin,
                    num_classes=0,
                    global_pool="",
                    channels=(w, 2 * w, 4 * w, 8 * w),
                    stem_width=w,
                )
                nf = self.body.num_features
            self.head = nn.Conv2d(nf, 1, 1)

        def forward(self, x: Any) -> Any:
            """uint8-range float (B, 3, H, W) → logit map (B, H', W')."""
            return self.head(self.body(self.front(x)))[:, 0]

    return Net()


def image_score(logit_map: np.ndarray, fracs: float | list[float] | tuple[float, ...]) -> float:
    """Image score from a cell-logit map: the top-``f`` cell means averaged over ``fracs``.

    ``1.0`` is the plain mean (steady on full-frame generators), a small fraction catches a local
    edit; ``[0.05, 1.0]`` averages the two.
    """
    cells = np.sort(np.asarray(logit_map, np.float32).ravel())[::-1]
    fr = [fracs] if isinstance(fracs, int | float) else list(fracs)
    return float(np.mean([cells[: max(1, math.ceil(f * len(cells)))].mean() for f in fr]))


def topk_mean(logit_map: Any, frac: float) -> Any:
    """Mean of the top ``frac`` of cells per map (torch, shape (B, h, w) → (B,))."""
    flat = logit_map.flatten(1)
    k = max(1, int(math.ceil(frac * flat.shape[1])))
    return flat.topk(k, dim=1).values.mean(1)


def centre_crop(img: np.ndarray, max_side: int = MAX_SIDE) -> tuple[np.ndarray, list[int]]:
    """Crop to at most ``max_side`` per side around the centre; returns the crop and its box."""
    h, w = img.shape[:2]
    ch, cw = min(h, max_side), min(w, max_side)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    return img[y0 : y0 + ch, x0 : x0 + cw], [x0, y0, cw, ch]


def _pool_heatmap(m: np.ndarray, max_cells: int = HEATMAP_MAX) -> np.ndarray:
    h, w = m.shape
    fy, fx = max(1, math.ceil(h / max_cells)), max(1, math.ceil(w / max_cells))
    if fy == 1 and fx == 1:
        return m
    ph, pw = math.ceil(h / fy) * fy, math.ceil(w / fx) * fx
    padded = np.pad(m, ((0, ph - h), (0, pw - w)), mode="edge")
    return padded.reshape(ph // fy, fy, pw // fx, fx).mean(axis=(1, 3))


class PatchCNNDetector(TrainedDetector):
    """A trained patch CNN (either front) with its Platt calibrator.

    Attributes:
        name: Registry name.
        version: ``<code version>+<weights digest>`` so new weights change report idempotency keys.
        modality: "image".
    """

    modality = "image"
    kind = KIND

    def __init__(self, name: str, payload: dict[str, Any]) -> None:
        torch = _torch()
        super().__init__(name, payload)
        net = build_net(self.config)
        net.load_state_dict(payload["state"])
        self.net = inference_net(net.eval())
        # Weights from before ``score_topk`` existed scored images with the training top-k.
        self.topk: float | list[float] = self.config.get("score_topk", self.config.get("topk", 0.25))
        self._torch = torch

    def logit_map(self, img: np.ndarray) -> np.ndarray:
        """Per-cell logits for an RGB uint8 image (already cropped)."""
        torch = self._torch
        x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float()[None]
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            return self.net(x)[0].numpy()

    def raw_score(self, img: np.ndarray) -> float:
        """Uncalibrated image score: top-``score_topk`` mean of the logit map of the centre crop."""
        crop, _ = centre_crop(_rgb(img))
        m = self.logit_map(crop)
        return image_score(m, self.topk)

    def analyze(self, item: MediaItem, signal: np.ndarray) -> Finding:
        img = _rgb(signal)
        if min(img.shape[:2]) < 32:
            return self.skipped("image smaller than 32 px")
        crop, box = centre_crop(img)
        m = self.logit_map(crop)
        heat = self.calibrator(_pool_heatmap(m))
        return self.finding(
            image_score(m, self.topk),
            heatmap=np.round(heat, 3).tolist(),
            heatmap_box=box,
            front=self.config.get("front"),
            cells=list(m.shape),
        )


def _rgb(img: np.ndarray) -> np.ndarray:
    a = np.asarray(img)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.shape[2] == 4:
        a = a[:, :, :3]
    return a.astype(np.uint8, copy=False)


def overlay_heatmap(
    image: np.ndarray,
    heatmap: list[list[float]] | np.ndarray,
    *,
    box: list[int] | None = None,
    alpha: float = 0.45,
) -> np.ndarray:
    """The image with a detector heatmap (P(synthetic) per cell) blended over ``box``, RGB uint8.

    Args:
        image: HxWx3 uint8 RGB (the analysed image).
        heatmap: 2-D list from ``evidence["heatmap"]``.
        box: ``evidence["heatmap_box"]`` ``[x, y, w, h]``: the region the heatmap covers.
        alpha: Overlay opacity.
    """
    import cv2

    img = _rgb(image).copy()
    x, y, w, h = box or [0, 0, img.shape[1], img.shape[0]]
    hm = np.clip(np.asarray(heatmap, dtype=np.float32), 0, 1)
    hm = cv2.resize(hm, (w, h), interpolation=cv2.INTER_NEAREST)
    colour = cv2.applyColorMap((hm * 255).astype(np.uint8), cv2.COLORMAP_JET)[:, :, ::-1]
    region = img[y : y + h, x : x + w].astype(np.float32)
    img[y : y + h, x : x + w] = np.clip((1 - alpha) * region + alpha * colour, 0, 255).astype(np.uint8)
    cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), (255, 255, 255), 1)
    return img


def render_heatmap(
    image: np.ndarray,
    heatmap: list[list[float]] | np.ndarray,
    out: str | Path,
    *,
    box: list[int] | None = None,
    alpha: float = 0.45,
) -> Path:
    """``overlay_heatmap`` saved as a PNG at ``out``; returns the path."""
    import cv2

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), overlay_heatmap(image, heatmap, box=box, alpha=alpha)[:, :, ::-1])
    return out


@register_detector("image-residual-cnn", modality="image", calibrated=True)
def image_residual_cnn(*, models_dir: Path | None = None, **kw: Any) -> PatchCNNDetector:
    """High-pass + NPR residual patch CNN (see the card's config); needs ``detectors/image-residual-cnn.pt``."""
    return PatchCNNDetector.from_models_dir(models_dir, "image-residual-cnn")
