"""Audio front ends: LFCC (linear-frequency cepstral coefficients, ASVspoof baseline), log-mel, log spectrogram.

Everything runs at 16 kHz mono; STFT 512 / hop 160 (10 ms), so 0.5 s segments are 50 frames.
LFCC uses a *linear* triangular filterbank: vocoder and TTS artefacts sit in the high band that
the mel scale compresses away.
"""

from __future__ import annotations

import numpy as np

SR = 16000
N_FFT = 512
HOP = 160
SEGMENT_S = 0.5
SEG_FRAMES = int(SEGMENT_S * SR / HOP)


def resample(y: np.ndarray, sr: int, target: int = SR) -> np.ndarray:
    """Mono float32 at ``target`` Hz (librosa soxr)."""
    import librosa

    y = np.asarray(y, dtype=np.float32)
    if y.ndim > 1:
        y = y.mean(axis=-1) if y.shape[-1] < y.shape[0] else y.mean(axis=0)
    return y if sr == target else librosa.resample(y, orig_sr=sr, target_sr=target).astype(np.float32)


def lowpass(y: np.ndarray, hz: float | None) -> np.ndarray:
    """Zero-phase low-pass of 16 kHz audio at ``hz`` (None or >= Nyquist: unchanged).

    A canonical band for every input: real sources differ in how much of 7-8 kHz their codec left
    (G.722 stops at 7 kHz, PCM does not), which a detector must not read as real vs synthetic.
    """
    if not hz or hz >= SR / 2 or len(y) < 64:
        return y
    from scipy.signal import butter, sosfiltfilt

    sos = butter(10, float(hz), fs=SR, output="sos")
    return sosfiltfilt(sos, y).astype(np.float32)


# Narrow band: (almost) nothing above ~4 kHz: 8 kHz telephone audio (GSM / G.711), a phone call
# re-encoded at a higher rate, or a heavily low-passed recording. The audio CNN reads its strongest
# vocoder traces above 4 kHz (issue #5, telephone set), so its score means less there.
PHONE_BAND_HZ = 4200.0
# Power share above PHONE_BAND_HZ under which a clip counts as narrow band (-40 dB). Measured
# (docs/eval/README.md): 8 kHz phone clips ~1e-13, the same re-encoded as 44.1/48 kHz MP3 / AAC /
# Opus <= 7.2e-5; 20 of 463 wideband held-out clips fall below it (little high-frequency content).
PHONE_BAND_SHARE = 1e-4


def upper_band_share(y16: np.ndarray) -> float:
    """Share of the power of 16 kHz audio above ``PHONE_BAND_HZ`` (Welch, first 60 s)."""
    from scipy.signal import welch

    y = np.asarray(y16[: 60 * SR], dtype=np.float64)
    if len(y) < 256:
        return 0.0
    f, p = welch(y, fs=SR, nperseg=1024 if len(y) >= 1024 else len(y))
    total = float(p.sum())
    return float(p[f > PHONE_BAND_HZ].sum() / total) if total > 0 else 0.0


def narrow_band(y16: np.ndarray, sr: int) -> bool:
    """Whether a clip (original rate ``sr``, resampled to 16 kHz as ``y16``) has (almost) no audio above ~4 kHz."""
    return sr <= 2 * PHONE_BAND_HZ or upper_band_share(y16) < PHONE_BAND_SHARE


def _power(y: np.ndarray) -> np.ndarray:
    import librosa

    return np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP, window="hann", center=True)) ** 2


def linear_filterbank(n_filters: int = 20, n_fft: int = N_FFT) -> np.ndarray:
    """Triangular filters equally spaced in Hz over 0..Nyquist, shape (n_filters, n_fft//2+1)."""
    n_bins = n_fft // 2 + 1
    edges = np.linspace(0, n_bins - 1, n_filters + 2)
    bins = np.arange(n_bins)
    fb = np.zeros((n_filters, n_bins), np.float32)
    for i in range(n_filters):
        lo, c, hi = edges[i], edges[i + 1], edges[i + 2]
        up = (bins - lo) / max(c - lo, 1e-9)
        down = (hi - bins) / max(hi - c, 1e-9)
        fb[i] = np.clip(np.minimum(up, down), 0, None)
    return fb


def lfcc(y: np.ndarray, *, n_lfcc: int = 20, n_filters: int = 20, deltas: bool = True) -> np.ndarray:
    """LFCC (+ delta + delta-delta) of 16 kHz audio, shape (3*n_lfcc or n_lfcc, frames).

    Args:
        y: float32 mono at 16 kHz.
        n_lfcc: Cepstral coefficients kept (incl. c0).
        n_filters: Linear filters.
        deltas: Append first and second time derivatives (as in the ASVspoof 2019 baseline).
    """
    import librosa
    from scipy.fft import dct

    spec = linear_filterbank(n_filters) @ _power(y)
    c = dct(np.log(spec + 1e-10), type=2, axis=0, norm="ortho")[:n_lfcc]
    if not deltas:
        return c.astype(np.float32)
    width = min(9, c.shape[1] - (1 - c.shape[1] % 2)) if c.shape[1] >= 3 else 0
    if width < 3:
        d1 = d2 = np.zeros_like(c)
    else:
        d1 = librosa.feature.delta(c, width=width, order=1)
        d2 = librosa.feature.delta(c, width=width, order=2)
    return np.concatenate([c, d1, d2]).astype(np.float32)


def logmel(y: np.ndarray, *, n_mels: int = 64) -> np.ndarray:
    """Log-mel spectrogram (dB-like natural log) of 16 kHz audio, shape (n_mels, frames)."""
    import librosa

    m = librosa.feature.melspectrogram(S=_power(y), sr=SR, n_mels=n_mels, fmax=SR / 2)
    return np.log(m + 1e-10).astype(np.float32)


def logspec(y: np.ndarray) -> np.ndarray:
    """Log power spectrogram of 16 kHz audio at full STFT resolution, shape (257, frames).

    31 Hz bins resolve single harmonics and the noise between them, which 20 LFCC filters
    (400 Hz wide) average away: a vocoder that re-synthesises a real voice keeps its spectral
    envelope but not the fine structure between harmonics.
    """
    return np.log(_power(y) + 1e-10).astype(np.float32)


def logspec128(y: np.ndarray) -> np.ndarray:
    """``logspec`` at half the resolution: power summed over bin pairs (62.5 Hz), shape (128, frames)."""
    p = _power(y)[:256]
    return np.log(p[0::2] + p[1::2] + 1e-10).astype(np.float32)


FRONTS = ("lfcc", "logmel", "logspec", "logspec128")


def features(y: np.ndarray, front: str) -> np.ndarray:
    """The named front end (``FRONTS``): ``lfcc`` (60 x T), ``logmel`` (64 x T), ``logspec`` (257 x T), ``logspec128``."""
    if front == "lfcc":
        return lfcc(y)
    if front == "logmel":
        return logmel(y)
    if front == "logspec":
        return logspec(y)
    if front == "logspec128":
        return logspec128(y)
    raise ValueError(f"unknown audio front end {front!r}")


def segments(feat: np.ndarray, *, seg: int = SEG_FRAMES) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Cut (F, T) features into non-overlapping ``seg``-frame windows (the last one padded).

    Returns:
        ``(windows (N, F, seg), [(start_s, end_s), ...])``.
    """
    f, t = feat.shape
    n = max(1, int(np.ceil(t / seg)))
    if t < n * seg:
        feat = np.pad(feat, ((0, 0), (0, n * seg - t)), mode="wrap" if t else "constant")
    wins = feat[:, : n * seg].reshape(f, n, seg).transpose(1, 0, 2)
    dur = HOP / SR
    times = [(i * seg * dur, min((i + 1) * seg, t) * dur) for i in range(n)]
    return np.ascontiguousarray(wins), times


def active_windows(y: np.ndarray, n: int, *, db: float | None, seg: int = SEG_FRAMES) -> np.ndarray:
    """Which of the ``n`` segment windows of 16 kHz ``y`` hold speech-level sound.

    A window counts when its RMS is within ``db`` of the loudest window's; pauses and leading or
    trailing silence say more about a recording chain (digital zeros, noise floor) than about how
    the voice was made. ``db`` None: every window. At least one window is always kept.
    """
    if not db:
        return np.ones(n, bool)
    step = seg * HOP
    rms = np.array(
        [
            np.sqrt(np.mean(y[i * step : (i + 1) * step].astype(np.float64) ** 2))
            if len(y[i * step : (i + 1) * step])
            else 0.0
            for i in range(n)
        ]
    )
    keep = rms >= rms.max() * 10 ** (-db / 20) if rms.max() > 0 else np.ones(n, bool)
    return keep if keep.any() else np.ones(n, bool)
