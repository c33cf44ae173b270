"""Public, unkeyed image marks that generators put in by default: Stable Diffusion's reference scripts.

The CompVis/Stability reference scripts (SD 1.x/2.x ``txt2img.py``) and SDXL (``sgm``, diffusers'
``StableDiffusionXLWatermarker``) add the invisible-watermark library's ``dwtDct`` mark:

* SD 1.x/2.x: the 17 bytes ``b"StableDiffusionV1"`` (136 bits);
* SDXL: the 48 bits of ``0b101100111110110010010000011110111011000110011110``.

This module reimplements the ``dwtDct`` embedder and decoder (invisible-watermark 0.2.0,
``imwatermark/maxDct.py``) in vectorised numpy so detection needs neither that package nor its
``opencv-python`` (GUI) dependency, and takes milliseconds instead of a Python loop over blocks.
The algorithm, kept compatible (tests check against the library when it is installed): BGR →
YUV, one-level Haar DWT of the U plane, 4x4 blocks of the approximation band; in each block the
largest-magnitude non-DC coefficient is quantised with step 36 so that ``|v| mod 36`` falls in the
lower (bit 0) or upper (bit 1) half; bits repeat over the blocks in raster order. The mark is
fragile (resizing or re-encoding erases it) and public: anyone can forge it, so its presence is a
hint of Stable Diffusion, not proof.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from scipy.stats import binom

from detector.types import WatermarkResult
from detector.watermark.base import register_watermark

SCHEME = "stable-diffusion"
SD1_PAYLOAD = b"StableDiffusionV1"
SDXL_MESSAGE = 0b101100111110110010010000011110111011000110011110
SD1_BITS = np.unpackbits(np.frombuffer(SD1_PAYLOAD, dtype=np.uint8)).astype(np.uint8)
SDXL_BITS = np.array([int(b) for b in bin(SDXL_MESSAGE)[2:]], dtype=np.uint8)
MARKS: dict[str, np.ndarray] = {"StableDiffusionV1": SD1_BITS, "SDXL": SDXL_BITS}
_SCALE = 36.0
_BLOCK = 4
DETECT_P = 1e-6  # per-mark binomial tail, before the Bonferroni factor for marks x channel orders


def _haar2(x: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """pywt.dwt2(x, 'haar') for even-sized x: (cA, (cH, cV, cD))."""
    a, b = x[0::2, 0::2], x[0::2, 1::2]
    c, d = x[1::2, 0::2], x[1::2, 1::2]
    ca = (a + b + c + d) / 2.0
    ch = (a + b - c - d) / 2.0
    cv = (a - b + c - d) / 2.0
    cd = (a - b - c + d) / 2.0
    return ca, (ch, cv, cd)


def _ihaar2(ca: np.ndarray, details: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """pywt.idwt2((cA, (cH, cV, cD)), 'haar')."""
    ch, cv, cd = details
    out = np.empty((ca.shape[0] * 2, ca.shape[1] * 2), dtype=np.float64)
    out[0::2, 0::2] = (ca + ch + cv + cd) / 2.0
    out[0::2, 1::2] = (ca + ch - cv - cd) / 2.0
    out[1::2, 0::2] = (ca - ch + cv - cd) / 2.0
    out[1::2, 1::2] = (ca - ch - cv + cd) / 2.0
    return out


def _blocks(ca: np.ndarray) -> np.ndarray:
    rows, cols = ca.shape[0] // _BLOCK, ca.shape[1] // _BLOCK
    v = ca[: rows * _BLOCK, : cols * _BLOCK].reshape(rows, _BLOCK, cols, _BLOCK).swapaxes(1, 2)
    return v.reshape(rows * cols, _BLOCK * _BLOCK)


def _max_pos(blocks: np.ndarray) -> np.ndarray:
    return np.argmax(np.abs(blocks[:, 1:]), axis=1) + 1


def embed_dwtdct(bgr: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """invisible-watermark's ``WatermarkEncoder.encode(bgr, 'dwtDct')`` with the given bits.

    Follows the library step by step, including its swap of the H and V detail bands on the way
    back (so marked fixtures look like real Stable Diffusion outputs). Float rounding in the
    Haar transform differs from PyWavelets, so ~1% of U-plane pixels differ by the library's
    float→uint8 truncation; the library's decoder reads our marks exactly (tested).
    """
    bgr = np.asarray(bgr, dtype=np.uint8)
    row, col = bgr.shape[:2]
    if row * col < 256 * 256:
        raise ValueError("image too small for dwtDct, should be larger than 256x256")
    yuv = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)
    h4, w4 = row // 4 * 4, col // 4 * 4
    ca, (ch, cv, cd) = _haar2(yuv[:h4, :w4, 1].astype(np.float64))
    blocks = _blocks(ca)
    n = len(blocks)
    wm = np.resize(np.asarray(bits, dtype=np.float64), n)
    pos = _max_pos(blocks)
    idx = np.arange(n)
    val = blocks[idx, pos]
    mag = np.abs(val)
    new = (mag // _SCALE + 0.25 + 0.5 * wm) * _SCALE
    blocks[idx, pos] = np.where(val >= 0, new, -new)
    rows, cols = ca.shape[0] // _BLOCK, ca.shape[1] // _BLOCK
    ca = ca.copy()
    ca[: rows * _BLOCK, : cols * _BLOCK] = (
        blocks.reshape(rows, cols, _BLOCK, _BLOCK).swapaxes(1, 2).reshape(rows * _BLOCK, cols * _BLOCK)
    )
    # numpy's unsafe float → uint8 assignment, as the library does (it wraps, it does not clip).
    yuv[:h4, :w4, 1] = _ihaar2(ca, (cv, ch, cd))
    return cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR)


def decode_dwtdct(bgr: np.ndarray, n_bits: int) -> np.ndarray:
    """invisible-watermark's ``WatermarkDecoder(...).decode(bgr, 'dwtDct')`` → per-bit mean votes.

    Returns:
        Float array of ``n_bits`` block-vote means in 0..1 (> 0.5 means bit 1).
    """
    bgr = np.asarray(bgr, dtype=np.uint8)
    row, col = bgr.shape[:2]
    yuv = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)
    h4, w4 = row // 4 * 4, col // 4 * 4
    ca, _ = _haar2(yuv[:h4, :w4, 1].astype(np.float64))
    blocks = _blocks(ca)
    if len(blocks) == 0:
        return np.full(n_bits, 0.5)
    pos = _max_pos(blocks)
    mag = np.abs(blocks[np.arange(len(blocks)), pos])
    votes = ((mag % _SCALE) > 0.5 * _SCALE).astype(np.float64)
    which = np.arange(len(blocks)) % n_bits
    sums = np.bincount(which, weights=votes, minlength=n_bits)
    counts = np.bincount(which, minlength=n_bits)
    return sums / np.maximum(counts, 1)


def embed_stable_diffusion(rgb: np.ndarray, *, variant: str = "StableDiffusionV1") -> np.ndarray:
    """Mark an RGB uint8 image the way the SD reference scripts do (for fixtures and tests).

    Args:
        rgb: RGB uint8 image, at least 256x256 pixels in area.
        variant: ``"StableDiffusionV1"`` (SD 1.x/2.x scripts) or ``"SDXL"``.
    """
    bits = MARKS[variant]
    # The SD 1.x script converts RGB→BGR before encoding; diffusers' SDXL watermarker does too.
    return embed_dwtdct(np.ascontiguousarray(rgb[..., ::-1]), bits)[..., ::-1].copy()


class StableDiffusionMark:
    """Detector (and embedder) for Stable Diffusion's public dwtDct marks."""

    name = SCHEME
    modality = "image"

    def embed(self, signal: np.ndarray, *, payload: str | None = None) -> np.ndarray:
        """Embed the SD mark; ``payload`` picks the variant ("StableDiffusionV1" or "SDXL")."""
        return embed_stable_diffusion(signal, variant=payload or "StableDiffusionV1")

    def detect(self, signal: np.ndarray) -> WatermarkResult:
        """Decode both marks in both channel orders; report the best as a binomial p-value.

        Under no mark, each decoded bit matches the reference with probability 1/2, so the
        number of matching bits is Binomial(n, 1/2); the p-value is its upper tail times the
        number of (mark, channel order) pairs tried.
        """
        img = np.asarray(signal)
        if img.ndim != 3 or img.shape[2] < 3 or img.shape[0] < 8 or img.shape[1] < 8:
            return WatermarkResult(SCHEME, False, 0.0, None, 1.0, {"reason": "not an RGB image"})
        rgb = img[..., :3].astype(np.uint8)
        n_tries = 2 * len(MARKS)
        best: dict[str, Any] | None = None
        for order, bgr in (("bgr", rgb[..., ::-1]), ("rgb", rgb)):
            for name, bits in MARKS.items():
                votes = decode_dwtdct(bgr, len(bits))
                matches = int(np.sum((votes > 0.5) == (bits == 1)))
                p = float(binom.sf(matches - 1, len(bits), 0.5))
                if best is None or p < best["p"]:
                    best = {"p": p, "name": name, "matches": matches, "n": len(bits), "order": order}
        assert best is not None
        p_value = min(1.0, best["p"] * n_tries)
        detected = p_value <= DETECT_P
        return WatermarkResult(
            scheme=SCHEME,
            detected=bool(detected),
            score=float(1.0 - p_value),
            payload=best["name"] if detected else None,
            p_value=p_value,
            evidence={
                "variant": best["name"],
                "bit_accuracy": round(best["matches"] / best["n"], 4),
                "bits": best["n"],
                "channel_order": best["order"],
            },
        )


@register_watermark(SCHEME, modality="image")
def stable_diffusion(*, key: str | None = None, **_: Any) -> StableDiffusionMark:
    """Factory; ``key`` is accepted for registry uniformity and ignored (the mark is public)."""
    return StableDiffusionMark()
