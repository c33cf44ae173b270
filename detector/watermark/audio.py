"""provscan's own keyed audio watermark ("provscan-audio"): multiplicative spread spectrum, per second.

Design:

* Work at 16 kHz (the detector resamples whatever it gets, so 44.1 → 16 kHz resampling is free)
  on an STFT with a 512-sample window and a 250-sample hop: exactly 64 frames per second.
* In the 500–4000 Hz band (112 bins, kept by MP3/Ogg at 64 kbps and by telephone-grade
  resampling) the magnitudes are multiplied by 10^(±alpha/20) following a keyed chip pattern of
  2 frames x 4 bins (32 x 28 chips per second). A multiplicative mark is shaped by the signal's
  own spectrum, so it hides under the speech it rides on and vanishes in silence.
  Only the difference signal is band-limited and resampled back to the input rate, so
  everything outside the band is untouched.
* Half the chips are a keyed **pilot**, identical every second; half (448) carry the coded
  payload frame, repeated every second. The frame is as long as the payload (v2):
  ``8 n + 16`` information bits for an n-byte payload (:mod:`detector.watermark.ecc`), so a short
  payload is repeated more often per second and decodes from less audio (measured in
  docs/benchmarks/watermark_audio.md: an empty or 2-byte payload from a few seconds of speech, 8
  bytes from ~10 s). The detector tries the 9 lengths; the CRC-16 tells the right one.
* Detection whitens the log-magnitudes (minus a local mean), sums them per chip and correlates
  with the pilot for each of the 64 frame offsets (x2 half-hop offsets): a trimmed excerpt only
  shifts the grid. The correlation pattern is the pilot minus its row and column means, so a
  broadband onset or a steady formant (common to a whole row or column of chips) cannot leak
  into the score.
* **Calibration**: a self-normalised sum of keyed random signs is N(0, 1) only when the chips are
  independent; real speech (onsets, harmonics, concatenated clips) correlates neighbouring chips
  and inflates the variance. So the same statistic is computed with 32 keyed *decoy* patterns
  (random signs on the pilot's chips, orthogonal to the pilot); their spread at each second /
  window is the empirical null scale of that very audio, and every z is divided by it (never
  multiplied: the scale is floored at 1). Per-second scores locate marked spans
  (``evidence["segments"]``); the global p-value is a Bonferroni bound over offsets and windows
  (whole clip and every 3-s window, which finds a short marked excerpt in long real speech).
* The payload is read from the data chips of every second weighted by that second's own pilot
  evidence (maximal-ratio combining), so silent or noisy seconds do not drown voiced ones.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from scipy.ndimage import uniform_filter
from scipy.signal import resample_poly
from scipy.special import log_ndtr

from detector.types import WatermarkResult
from detector.watermark import ecc
from detector.watermark.base import register_watermark

SCHEME = "provscan-audio"
SR = 16000
N_FFT = 512
HOP = 250
FPS = SR // HOP  # 64 frames per second
BIN_LO, BIN_HI = 16, 128  # 500 .. 4000 Hz
CHIP_T, CHIP_F = 2, 4
N_TCHIP, N_FCHIP = FPS // CHIP_T, (BIN_HI - BIN_LO) // CHIP_F  # 32 x 28
N_CHIPS = N_TCHIP * N_FCHIP
DETECT_P = 1e-4  # decision threshold on the global p-value
SEGMENT_Z = 4.0  # per-second decision (one-sided p = 3e-5 at the chosen offset)
WINDOW_S = 3  # sliding window for spliced excerpts
SUBHOPS = (0, HOP // 2)
WHITEN_T, WHITEN_F = 7, 9
CLIP_DB = 5.0
MAX_SECONDS = 180  # longer audio: the first 3 minutes are read (memory stays ~200 MB)
#: Shortest audio the detector reads (one second of chips plus one FFT window); a generator whose
#: output is shorter cannot carry the mark.
MIN_SECONDS = (SR + N_FFT) / SR
N_DECOYS = 32  # keyed null patterns for the empirical calibration of every z
PAYLOAD_LENGTHS = tuple(range(ecc.PAYLOAD_BYTES + 1))  # frame lengths (bytes) the detector tries


def _double_center(m: np.ndarray) -> np.ndarray:
    """``m`` minus its row and column means (over the last two axes)."""
    return (
        m
        - m.mean(axis=-1, keepdims=True)
        - m.mean(axis=-2, keepdims=True)
        + m.mean(axis=(-1, -2), keepdims=True)
    )


def _log10_sf(z: float) -> float:
    return float(log_ndtr(-z) / np.log(10.0))


def _resample(y: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    if sr_in == sr_out:
        return y.astype(np.float32, copy=False)
    g = np.gcd(int(sr_in), int(sr_out))
    return resample_poly(y, sr_out // g, sr_in // g).astype(np.float32)


def _stft(y: np.ndarray) -> np.ndarray:
    """Centered STFT (frames x bins), frame t centred on sample t*HOP."""
    pad = N_FFT // 2
    yp = np.pad(y, (pad, pad + N_FFT))
    n_frames = 1 + len(y) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(n_frames)[:, None]
    win = np.hanning(N_FFT + 1)[:-1].astype(np.float32)
    return np.fft.rfft(yp[idx] * win, axis=1)


def _istft(spec: np.ndarray, length: int) -> np.ndarray:
    """Weighted overlap-add inverse of :func:`_stft`."""
    win = np.hanning(N_FFT + 1)[:-1]
    frames = np.fft.irfft(spec, n=N_FFT, axis=1) * win
    pad = N_FFT // 2
    total = pad + length + N_FFT + HOP * len(frames)
    out = np.zeros(total)
    norm = np.zeros(total)
    for t in range(len(frames)):
        s = t * HOP
        out[s : s + N_FFT] += frames[t]
        norm[s : s + N_FFT] += win**2
    out = out / np.maximum(norm, 1e-3)
    return out[pad : pad + length]


class ProvscanAudioWatermark:
    """Keyed, payload-carrying audio watermark located per second.

    Args:
        key: Instance watermark key (``Settings.watermark_key``).
        strength_db: Peak magnitude change of a chip, in dB.
    """

    name = SCHEME
    modality = "audio"

    version = "2"

    def __init__(self, *, key: str, strength_db: float = 1.5) -> None:
        self.strength_db = float(strength_db)
        rng = ecc.keyed_rng(key, "audio/layout/v1")
        perm = rng.permutation(N_CHIPS)
        self._pilot_idx = np.sort(perm[: N_CHIPS // 2])
        self._data_idx = np.sort(perm[N_CHIPS // 2 :])
        self._sign = rng.choice(np.array([-1.0, 1.0]), size=N_CHIPS)
        # v2: data chip j carries coded bit perm[j] mod (frame length), whatever the length.
        self._data_perm = ecc.keyed_rng(key, "audio/data/v2").permutation(len(self._data_idx))
        pilot = np.zeros(N_CHIPS)
        pilot[self._pilot_idx] = self._sign[self._pilot_idx]
        self._pilot = pilot.reshape(N_TCHIP, N_FCHIP)
        # Correlation patterns: row 0 the pilot, then the decoys; all double-centred.
        drng = ecc.keyed_rng(key, "audio/decoys/v2")
        decoys = np.zeros((N_DECOYS, N_CHIPS))
        decoys[:, self._pilot_idx] = drng.choice(np.array([-1.0, 1.0]), size=(N_DECOYS, len(self._pilot_idx)))
        pats = _double_center(np.concatenate([pilot[None], decoys]).reshape(-1, N_TCHIP, N_FCHIP))
        pats = pats.reshape(N_DECOYS + 1, N_CHIPS)
        p0 = pats[0] / np.linalg.norm(pats[0])
        # Decoys orthogonal to the pilot: a strong mark must not look like a noisy null.
        pats[1:] -= (pats[1:] @ p0)[:, None] * p0[None, :]
        pats[1:] *= (np.linalg.norm(pats[0]) / np.linalg.norm(pats[1:], axis=1))[:, None]
        self._pats = pats.astype(np.float32)
        self._pats_sq = (pats**2).astype(np.float32)

    def _bit_map(self, n_bytes: int) -> np.ndarray:
        return self._data_perm % ecc.coded_bits(n_bytes)

    def chip_pattern(self, payload: str | None) -> np.ndarray:
        """±1 values of the N_TCHIP x N_FCHIP chips of one second."""
        n = ecc.payload_len(payload)
        coded = ecc.encode_payload(payload, n).astype(np.float64) * 2 - 1
        grid = np.zeros(N_CHIPS)
        grid[self._pilot_idx] = self._sign[self._pilot_idx]
        grid[self._data_idx] = self._sign[self._data_idx] * coded[self._bit_map(n)]
        return grid.reshape(N_TCHIP, N_FCHIP)

    def embed(self, signal: tuple[np.ndarray, int], *, payload: str | None = None) -> tuple[np.ndarray, int]:
        """Mark mono float audio; returns ``(y_marked, sr)`` at the input rate and length.

        Args:
            signal: ``(y, sr)``, mono float audio.
            payload: Up to 8 bytes of UTF-8 text; shorter payloads decode from shorter audio.

        Raises:
            WatermarkPayloadError: the payload does not fit in 8 bytes.
        """
        y, sr = signal
        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 1:
            raise ValueError("embed expects mono audio (1-D array)")
        chips = self.chip_pattern(payload)
        y16 = _resample(y, sr, SR)
        spec = _stft(y16)
        n_frames = spec.shape[0]
        # frame t, bin b → chip ((t % FPS) // CHIP_T, (b - BIN_LO) // CHIP_F)
        tchip = (np.arange(n_frames) % FPS) // CHIP_T
        w = np.repeat(chips, CHIP_F, axis=1)[tchip]  # frames x band bins
        gain = 10.0 ** (self.strength_db * w / 20.0) - 1.0
        delta = np.zeros_like(spec)
        delta[:, BIN_LO:BIN_HI] = spec[:, BIN_LO:BIN_HI] * gain
        d16 = _istft(delta, len(y16)).astype(np.float32)
        d = _resample(d16, SR, sr)
        if len(d) < len(y):
            d = np.pad(d, (0, len(y) - len(d)))
        out = y + d[: len(y)]
        return np.clip(out, -1.0, 1.0).astype(np.float32), sr

    # -- detect ------------------------------------------------------------------------------
    def _chip_sums(self, y16: np.ndarray) -> np.ndarray:
        """Whitened log-magnitude summed over chip bins and CHIP_T frames: (frames-CHIP_T+1, N_FCHIP)."""
        spec = _stft(y16)[:, BIN_LO:BIN_HI]
        mag = np.abs(spec)
        floor = 1e-4 * (float(mag.max()) + 1e-12) + 1e-9
        logm = 20.0 * np.log10(mag + floor)
        white = logm - uniform_filter(logm, size=(WHITEN_T, WHITEN_F), mode="nearest")
        # Soft-clip: deep notches and onsets are heavy-tailed noise for the correlation.
        white = CLIP_DB * np.tanh(white / CLIP_DB)
        per_bin = white.reshape(len(white), N_FCHIP, CHIP_F).sum(axis=2)
        csum = np.concatenate([np.zeros((1, N_FCHIP)), np.cumsum(per_bin, axis=0)])
        return csum[CHIP_T:] - csum[:-CHIP_T]

    def _scan(self, pairs: np.ndarray) -> dict[str, Any]:
        """For each frame offset: per-second numerators/denominators of the pilot correlation."""
        n = len(pairs)
        n_sec = (n - FPS) // FPS + 1
        if n_sec < 1:
            return {"n_sec": 0}
        # numer[o, k] = sum_j,f pilot[j,f] * pairs[o + FPS*k + 2j, f]
        offs = np.arange(FPS)[:, None, None] + FPS * np.arange(n_sec)[None, :, None]
        rows = offs + CHIP_T * np.arange(N_TCHIP)[None, None, :]  # (FPS, n_sec, N_TCHIP)
        valid = rows < n
        rows = np.minimum(rows, n - 1)
        vals = (pairs[rows] * valid[..., None]).astype(np.float32)  # (FPS, n_sec, N_TCHIP, N_FCHIP)
        return {"n_sec": n_sec, "vals": vals}

    def _zs(self, vals: np.ndarray) -> np.ndarray:
        """z of the pilot (index 0 of the last axis) and of the decoys, for chip sums ``vals``
        of shape (..., N_TCHIP, N_FCHIP)."""
        flat = vals.reshape(-1, N_CHIPS)
        num = flat @ self._pats.T
        den = np.sqrt((flat * flat) @ self._pats_sq.T) + 1e-9
        return (num / den).reshape(*vals.shape[:-2], N_DECOYS + 1)

    @staticmethod
    def _calibrate(z: np.ndarray) -> np.ndarray:
        """Pilot z divided by the decoys' null scale. ``z``: (FPS, positions, 1 + decoys) →
        (FPS, positions); the scale is per position (over offsets and decoys), floored at 1."""
        scale = np.sqrt(np.mean(z[..., 1:] ** 2, axis=(0, 2)))
        return z[..., 0] / np.maximum(scale, 1.0)[None, :]

    def _decode(self, vals: np.ndarray, z_sec: np.ndarray) -> tuple[bool, str | None]:
        """Payload from the data chips, seconds weighted by their pilot evidence (ratio combining)."""
        rms = np.sqrt(np.mean(vals.reshape(len(vals), -1) ** 2, axis=1)) + 1e-9
        w = np.maximum(z_sec, 0.0) / rms
        if not np.any(w > 0):
            w = 1.0 / rms
        chips = np.tensordot(w, vals, axes=(0, 0)).ravel()
        data = chips[self._data_idx] * self._sign[self._data_idx]
        found: tuple[float, str | None] | None = None
        for n in PAYLOAD_LENGTHS:
            soft = np.bincount(self._bit_map(n), weights=data, minlength=ecc.coded_bits(n))
            ok, payload, info = ecc.decode_payload(soft, n)
            if ok:
                # Two lengths passing the CRC is a 2^-16 event; keep the better-fitting one.
                fit = float(np.dot(soft, ecc.conv_encode(info) * 2.0 - 1.0) / (np.linalg.norm(soft) + 1e-12))
                fit /= np.sqrt(len(soft))
                if found is None or fit > found[0]:
                    found = (fit, payload)
        return (True, found[1]) if found is not None else (False, None)

    def detect(self, signal: tuple[np.ndarray, int]) -> WatermarkResult:
        """Look for the mark in mono audio; never raises for "no mark".

        Returns:
            ``WatermarkResult`` with ``p_value``, ``payload`` (when the CRC checks) and
            ``evidence["segments"]``: ``[{"start", "end", "score", "z", "detected"}]`` per second,
            where ``score`` is 1 - the one-sided p-value of that second's calibrated z.
        """
        t0 = time.perf_counter()
        y, sr = signal
        y = np.asarray(y, dtype=np.float32)
        if y.ndim > 1:
            y = y.mean(axis=0 if y.shape[0] < y.shape[-1] else 1)
        y16 = _resample(y[: int(MAX_SECONDS * sr)], int(sr), SR)
        if len(y16) < int(MIN_SECONDS * SR):
            return WatermarkResult(
                SCHEME, False, 0.0, None, 1.0, {"reason": "shorter than 1 s", "segments": []}
            )
        best: dict[str, Any] | None = None
        n_tests = 0
        for sub in SUBHOPS:
            scan = self._scan(self._chip_sums(y16[sub:]))
            n_sec = scan["n_sec"]
            if n_sec < 1:
                continue
            # Rows and columns of chips share onsets and formants; remove those common modes from
            # the data as from the patterns, so they inflate neither numerator nor denominator.
            vals = _double_center(scan["vals"]).astype(np.float32)  # (FPS, n_sec, T, F)
            z_sec = self._calibrate(self._zs(vals))  # (FPS, n_sec)
            # Whole clip: fold the seconds first, so audio that repeats every second is no threat.
            z_all = self._calibrate(self._zs(vals.sum(axis=1))[:, None])[:, 0]  # (FPS,)
            stats = [z_all]
            if n_sec > WINDOW_S:
                csum = np.cumsum(np.concatenate([np.zeros_like(vals[:, :1]), vals], axis=1), axis=1)
                win = csum[:, WINDOW_S:] - csum[:, :-WINDOW_S]  # (FPS, n_win, T, F)
                del csum
                z_win = self._calibrate(self._zs(win))
                del win
                stats.append(z_win.max(axis=1))
                n_tests += FPS * z_win.shape[1]
            elif n_sec > 1:
                stats.append(z_sec.max(axis=1))
                n_tests += FPS * n_sec
            n_tests += FPS
            z_off = np.max(np.stack(stats), axis=0)
            o = int(np.argmax(z_off))
            if best is None or z_off[o] > best["z"]:
                best = {"z": float(z_off[o]), "o": o, "sub": sub, "z_sec": z_sec[o], "vals": vals[o]}
        if best is None:
            return WatermarkResult(SCHEME, False, 0.0, None, 1.0, {"reason": "too short", "segments": []})
        log10_p_sync = min(0.0, np.log10(max(n_tests, 1)) + _log10_sf(best["z"]))
        z_sec = best["z_sec"]
        ok, payload = self._decode(best["vals"], z_sec)
        n_decodes = len(SUBHOPS) * len(PAYLOAD_LENGTHS)
        log10_p = log10_p_sync + (np.log10(ecc.CRC_FALSE_PASS * n_decodes) if ok else 0.0)
        p_value = float(10.0 ** min(0.0, log10_p))
        detected = p_value <= DETECT_P
        start0 = (best["sub"] + best["o"] * HOP) / SR
        segments = []
        for k, z in enumerate(z_sec):
            p_k = 10.0 ** _log10_sf(float(z))
            segments.append(
                {
                    "start": round(start0 + k, 3),
                    "end": round(start0 + k + 1, 3),
                    "score": round(float(1.0 - p_k), 6),
                    "z": round(float(z), 2),
                    "detected": bool(detected and z > SEGMENT_Z),
                }
            )
        evidence = {
            "z": round(best["z"], 2),
            "log10_p": round(float(log10_p), 2),
            "crc_ok": bool(ok),
            "offset_s": round(start0, 4),
            "segments": segments,
            "marked_seconds": int(sum(s["detected"] for s in segments)),
            "ms": round((time.perf_counter() - t0) * 1000, 1),
        }
        return WatermarkResult(
            scheme=SCHEME,
            detected=bool(detected),
            score=float(1.0 - p_value),
            payload=payload if (detected and ok) else None,
            p_value=p_value,
            evidence=evidence,
        )


@register_watermark(SCHEME, modality="audio")
def provscan_audio(*, key: str, **kw: Any) -> ProvscanAudioWatermark:
    """Factory for the registry: ``WATERMARKS.create("provscan-audio", key=settings.watermark_key)``."""
    return ProvscanAudioWatermark(key=key, **kw)
