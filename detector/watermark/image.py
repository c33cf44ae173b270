"""provscan's own keyed image watermark ("provscan-image"): tiled spread spectrum with self-sync.

Design (why each piece is there):

* A keyed 128x128 **tile** is repeated over the whole luma plane. The tile is a 32x32 grid of
  4x4-pixel chips, Gaussian-smoothed so the mark has no block edges and its energy sits in the
  low-mid band that survives JPEG and 2x downscaling. Half the chips are a keyed **pilot** (sync
  and detection), half carry the **data**: the 258 coded bits of the payload frame from
  :mod:`detector.watermark.ecc` (8-byte payload + CRC-16, rate-1/3 convolutional code), each coded
  bit on ~2 chips per tile and on every tile of the image.
* Strength follows a texture mask (more in busy areas, less in flat ones) and is scaled so the
  marked image has the requested PSNR (41 dB by default, >= 40 dB guaranteed by a check).
* **Scale sync**: the tiling is periodic, so the autocorrelation of the whitened image has peaks at
  the period. The detector reads the period along x and y (any resize, any aspect change) and
  rescales back to 128 px.
* **Translation sync**: folding the image modulo 128 (summing all tiles) turns any crop offset
  into a circular shift, found by phase-only correlation with the pilot.
* **Detection**: the pilot peak's z-score gives a Bonferroni p-value over all shifts and scales
  tried; a decoded frame whose CRC checks adds p = 2^-16 per attempt. ``p_value`` is the null
  probability of seeing this much evidence in an unmarked image; ``detected`` means p <= 1e-4.
"""

from __future__ import annotations

import time
from typing import Any

import cv2
import numpy as np
from scipy.special import log_ndtr

from detector.types import WatermarkResult
from detector.watermark import ecc
from detector.watermark.base import register_watermark

SCHEME = "provscan-image"
TILE = 128
CHIP = 4
GRID = TILE // CHIP
PILOT_FRACTION = 0.35  # of the chips; the rest carry data (decoding needs more than sync)
CHIP_SIGMA = 0.5  # px; smooths chip edges (invisible, JPEG-friendly) and sets the matched filter
DETECT_P = 1e-4  # decision threshold on p_value
MIN_SIDE = 96  # below this there is not enough of a tile to say anything
ACF_MAX_SIDE = 1024  # scale estimation reads a central crop this size at most
SCALE_RANGE = (0.35, 2.2)  # resize factors the detector looks for
N_SCALE_CANDIDATES = 4
# Relative period corrections tried around the best candidate when its decode fails.
REFINE_STEPS = (0.996, 1.004, 0.992, 1.008, 0.988, 1.012)


def _luma(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.float32)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def _gauss_tf(n: int, sigma: float) -> np.ndarray:
    """Transfer function of a circular Gaussian blur on an n x n tile (for rfft2)."""
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.rfftfreq(n)[None, :]
    return np.exp(-2.0 * np.pi**2 * sigma**2 * (fx**2 + fy**2))


def _log10_sf(z: float) -> float:
    """log10 of the standard normal upper tail, accurate far into the tail."""
    return float(log_ndtr(-z) / np.log(10.0))


def _whiten(y: np.ndarray) -> np.ndarray:
    """High-pass and locally normalise luma, so textured areas and edges do not dominate."""
    r = y - cv2.GaussianBlur(y, (0, 0), 3.0)
    local = np.sqrt(cv2.GaussianBlur(r * r, (0, 0), 8.0)) + 1.0
    return np.clip(r / local, -3.0, 3.0).astype(np.float32)


def _fold(r: np.ndarray) -> np.ndarray:
    """Sum all TILE x TILE tiles (zero-padded): a crop offset becomes a circular shift."""
    h, w = r.shape
    ph, pw = -h % TILE, -w % TILE
    if ph or pw:
        r = np.pad(r, ((0, ph), (0, pw)))
    return r.reshape(r.shape[0] // TILE, TILE, r.shape[1] // TILE, TILE).sum(axis=(0, 2))


def _periods(r: np.ndarray) -> list[tuple[float, float]]:
    """Candidate (period_y, period_x) pairs from the autocorrelation of the whitened image."""
    h, w = r.shape
    ch, cw = min(h, ACF_MAX_SIDE), min(w, ACF_MAX_SIDE)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    crop = r[y0 : y0 + ch, x0 : x0 + cw]
    crop = crop - crop.mean()
    spec = np.fft.rfft2(crop)
    acf = np.fft.irfft2(spec * np.conj(spec), s=crop.shape)
    acf /= acf[0, 0] + 1e-9

    def axis_profile(line: np.ndarray, n: int) -> np.ndarray:
        # Circular ACF over a non-periodic crop: weigh by the overlap to keep far lags comparable.
        lags = np.arange(len(line))
        return line / np.maximum(1.0 - lags / n, 0.25)

    prof_y = axis_profile(acf[: ch // 2, 0], ch)
    prof_x = axis_profile(acf[0, : cw // 2], cw)
    lo = int(TILE * SCALE_RANGE[0])

    def peaks(prof: np.ndarray, hi: int) -> list[tuple[float, float]]:
        out = []
        hi = min(hi, len(prof) - 2)
        for d in range(lo, hi + 1):
            if prof[d] > prof[d - 1] and prof[d] >= prof[d + 1] and prof[d] > 0:
                # Parabolic refinement: sub-pixel period, so folding does not drift.
                a, b, c = prof[d - 1], prof[d], prof[d + 1]
                den = a - 2 * b + c
                off = 0.5 * (a - c) / den if den < 0 else 0.0
                out.append((float(b), d + float(np.clip(off, -0.5, 0.5))))
        out.sort(reverse=True)
        return out

    hi_y = min(int(TILE * SCALE_RANGE[1]), int(ch / 1.5))
    hi_x = min(int(TILE * SCALE_RANGE[1]), int(cw / 1.5))
    py, px = peaks(prof_y, hi_y), peaks(prof_x, hi_x)
    cands: list[tuple[float, float]] = [(float(TILE), float(TILE))]  # the unscaled case, always
    # Isotropic candidates: both axes agree on a period (the usual resize).
    n = min(len(prof_y), len(prof_x))
    iso = peaks(prof_y[:n] + prof_x[:n], min(hi_y, hi_x))
    for _, d in iso[:N_SCALE_CANDIDATES]:
        cands.append((d, d))
    if py and px:
        cands.append((py[0][1], px[0][1]))
    seen: list[tuple[float, float]] = []
    for c in cands:
        if all(abs(c[0] - s[0]) > 1.0 or abs(c[1] - s[1]) > 1.0 for s in seen):
            seen.append(c)
    return seen[: N_SCALE_CANDIDATES + 2]


class ProvscanImageWatermark:
    """Keyed, payload-carrying image watermark. Create it with ``create_watermark``-style
    ``WATERMARKS.create("provscan-image", key=...)``.

    Args:
        key: The instance watermark key (``Settings.watermark_key``); a different key neither
            detects nor decodes.
        target_psnr: PSNR of the marked image against the original, in dB (>= 40).
    """

    name = SCHEME
    modality = "image"

    def __init__(self, *, key: str, target_psnr: float = 41.0) -> None:
        if target_psnr < 40.0:
            raise ValueError("target_psnr below 40 dB makes the mark visible")
        self.target_psnr = float(target_psnr)
        rng = ecc.keyed_rng(key, "image/layout/v1")
        n = GRID * GRID
        perm = rng.permutation(n)
        n_pilot = int(n * PILOT_FRACTION)
        self._pilot_idx = np.sort(perm[:n_pilot])
        self._data_idx = np.sort(perm[n_pilot:])
        self._sign = rng.choice(np.array([-1.0, 1.0]), size=n)
        # Which coded bit each data chip carries: every bit at least once per tile, keyed order.
        self._data_bit = rng.permutation(np.arange(len(self._data_idx)) % ecc.CODED_BITS)
        self._tf = _gauss_tf(TILE, CHIP_SIGMA)
        pilot_grid = np.zeros(n)
        pilot_grid[self._pilot_idx] = self._sign[self._pilot_idx]
        self._pilot_tile = self._render(pilot_grid)
        self._pilot_conj = np.conj(np.fft.rfft2(self._pilot_tile))

    # -- pattern -----------------------------------------------------------------------------
    def _render(self, grid_values: np.ndarray) -> np.ndarray:
        """Chip values (GRID*GRID) → smoothed TILE x TILE pattern."""
        up = np.kron(grid_values.reshape(GRID, GRID), np.ones((CHIP, CHIP)))
        return np.fft.irfft2(np.fft.rfft2(up) * self._tf, s=(TILE, TILE))

    def pattern(self, payload: str | None = None) -> np.ndarray:
        """The unit-RMS TILE x TILE pattern for ``payload`` (pilot + data chips)."""
        coded = ecc.encode_payload(payload).astype(np.float64) * 2.0 - 1.0
        grid = np.zeros(GRID * GRID)
        grid[self._pilot_idx] = self._sign[self._pilot_idx]
        grid[self._data_idx] = self._sign[self._data_idx] * coded[self._data_bit]
        tile = self._render(grid)
        return tile / np.sqrt(np.mean(tile**2))

    # -- embed -------------------------------------------------------------------------------
    def embed(self, signal: np.ndarray, *, payload: str | None = None) -> np.ndarray:
        """Mark an RGB uint8 image (H, W, 3); returns a new array of the same shape.

        Args:
            signal: RGB uint8 image.
            payload: Up to 8 bytes of UTF-8 text (e.g. generator id + item id); None = empty.

        Raises:
            WatermarkPayloadError: the payload does not fit.
            ValueError: not an RGB uint8 image.
        """
        rgb = np.asarray(signal)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError("embed expects an RGB uint8 array of shape (H, W, 3)")
        h, w = rgb.shape[:2]
        tile = self.pattern(payload)
        wm = np.tile(tile, (-(-h // TILE), -(-w // TILE)))[:h, :w].astype(np.float32)
        y = _luma(rgb)
        # Texture mask: the eye forgives changes in busy areas; flat sky shows them.
        mu = cv2.blur(y, (7, 7))
        sd = np.sqrt(np.maximum(cv2.blur(y * y, (7, 7)) - mu * mu, 0.0))
        mask = np.sqrt(sd + 2.0)
        mask = np.clip(mask / mask.mean(), 0.3, 2.5)
        # Keep room near black and white so clipping does not eat the mark.
        headroom = np.clip(np.minimum(y, 255.0 - y) / 8.0, 0.15, 1.0)
        delta = wm * mask * headroom
        base = rgb.astype(np.float32)
        mse_target = 255.0**2 / 10 ** (self.target_psnr / 10.0)
        alpha = np.sqrt(mse_target / (np.mean(delta**2) + 1e-12))
        for _ in range(4):
            out = np.clip(np.rint(base + alpha * delta[..., None]), 0, 255)
            mse = float(np.mean((out - base) ** 2))
            if mse <= mse_target * 1.02 or mse == 0:
                break
            alpha *= np.sqrt(mse_target / mse)
        return out.astype(np.uint8)

    # -- detect ------------------------------------------------------------------------------
    def _sync(self, folded: np.ndarray) -> tuple[float, int, int, np.ndarray]:
        """Phase-only correlation of a folded tile with the pilot → (z, dy, dx, whitened fold)."""
        spec = np.fft.rfft2(folded)
        white = spec / (np.abs(spec) + 1e-6 * (np.abs(spec).mean() + 1e-12))
        corr = np.fft.irfft2(white * self._pilot_conj, s=(TILE, TILE))
        flat = corr.ravel()
        k = int(np.argmax(flat))
        med = float(np.median(flat))
        mad = float(np.median(np.abs(flat - med))) * 1.4826 + 1e-12
        z = (flat[k] - med) / mad
        dy, dx = divmod(k, TILE)
        return float(z), dy, dx, white

    def _read(self, white: np.ndarray, dy: int, dx: int) -> np.ndarray:
        """Soft values of the coded bits from a whitened folded tile aligned at (dy, dx)."""
        filt = np.fft.irfft2(white * self._tf, s=(TILE, TILE))
        aligned = np.roll(filt, (-dy, -dx), axis=(0, 1))
        chips = aligned.reshape(GRID, CHIP, GRID, CHIP).sum(axis=(1, 3)).ravel()
        vals = chips[self._data_idx] * self._sign[self._data_idx]
        soft = np.bincount(self._data_bit, weights=vals, minlength=ecc.CODED_BITS)
        return soft / (np.std(soft) + 1e-12)

    def _try(self, r: np.ndarray, py: float, px: float) -> dict[str, Any]:
        """Rescale the whitened image so the period (py, px) becomes TILE, sync and decode."""
        sy, sx = TILE / py, TILE / px
        if abs(sy - 1) < 1e-3 and abs(sx - 1) < 1e-3:
            rs = r
        else:
            size = (max(1, round(r.shape[1] * sx)), max(1, round(r.shape[0] * sy)))
            interp = cv2.INTER_AREA if sx * sy < 1 else cv2.INTER_LINEAR
            rs = cv2.resize(r, size, interpolation=interp)
        z, dy, dx, white = self._sync(_fold(rs))
        soft = self._read(white, dy, dx)
        ok, payload, info = ecc.decode_payload(soft)
        return {
            "z": z,
            "dy": dy,
            "dx": dx,
            "scale": (py / TILE, px / TILE),
            "ok": ok,
            "payload": payload,
            "soft": soft,
            "info": info,
        }

    def detect(self, signal: np.ndarray) -> WatermarkResult:
        """Look for the mark in an RGB (or grey) uint8 image; never raises for "no mark".

        Returns:
            ``WatermarkResult`` with ``p_value`` (null probability), ``score = 1 - p_value``,
            ``payload`` when the CRC checks, and ``evidence`` (z, scale, shift, bit agreement).
        """
        return self._analyze(signal)[0]

    def _analyze(self, signal: np.ndarray) -> tuple[WatermarkResult, np.ndarray | None]:
        t0 = time.perf_counter()
        img = np.asarray(signal)
        if img.ndim == 3:
            y = _luma(img[..., :3])
        elif img.ndim == 2:
            y = img.astype(np.float32)
        else:
            return WatermarkResult(SCHEME, False, 0.0, None, 1.0, {"reason": "not an image"}), None
        if min(y.shape) < MIN_SIDE:
            return WatermarkResult(SCHEME, False, 0.0, None, 1.0, {"reason": "image too small"}), None
        r = _whiten(y)
        cands = _periods(r)
        best: dict[str, Any] | None = None
        tried = 0
        for py, px in cands:
            cand = self._try(r, py, px)
            tried += 1
            if best is None or (cand["ok"], cand["z"]) > (best["ok"], best["z"]):
                best = cand
        assert best is not None
        if not best["ok"] and best["scale"] != (1.0, 1.0):
            # The autocorrelation period is good to ~0.5%; over several tiles that drifts a chip,
            # so polish the scale of the best candidate on the pilot z itself.
            py0, px0 = TILE * best["scale"][0], TILE * best["scale"][1]
            for f in REFINE_STEPS:
                cand = self._try(r, py0 * f, px0 * f)
                tried += 1
                if (cand["ok"], cand["z"]) > (best["ok"], best["z"]):
                    best = cand
                if best["ok"]:
                    break
        n_tests = tried * TILE * TILE
        log10_p_sync = min(0.0, np.log10(n_tests) + _log10_sf(best["z"]))
        log10_p = log10_p_sync
        if best["ok"]:
            log10_p += min(0.0, np.log10(tried * ecc.CRC_FALSE_PASS))
        p_value = float(10.0**log10_p)
        detected = p_value <= DETECT_P
        # How well the soft values agree with the re-encoded decision (a bit-accuracy proxy).
        recoded = ecc.conv_encode(best["info"]).astype(np.float64) * 2 - 1
        agree = float(np.mean(np.sign(best["soft"]) == recoded))
        evidence = {
            "z": round(best["z"], 2),
            "log10_p": round(float(log10_p), 2),
            "crc_ok": bool(best["ok"]),
            "scale": [round(float(s), 4) for s in best["scale"]],
            "shift": [best["dy"], best["dx"]],
            "coded_bit_agreement": round(agree, 4),
            "candidates": tried,
            "ms": round((time.perf_counter() - t0) * 1000, 1),
        }
        result = WatermarkResult(
            scheme=SCHEME,
            detected=bool(detected),
            score=float(1.0 - p_value),
            payload=best["payload"] if detected else None,
            p_value=p_value,
            evidence=evidence,
        )
        return result, best["info"]

    def decode_bits(self, signal: np.ndarray) -> np.ndarray | None:
        """The 80 decoded information bits (payload + CRC) whether or not detected; None when the
        image is too small to read. For bit-accuracy benchmarks."""
        return self._analyze(signal)[1]


@register_watermark(SCHEME, modality="image")
def provscan_image(*, key: str, **kw: Any) -> ProvscanImageWatermark:
    """Factory for the registry: ``WATERMARKS.create("provscan-image", key=settings.watermark_key)``."""
    return ProvscanImageWatermark(key=key, **kw)
