"""Augmentations and robustness transforms, applied identically to BOTH classes.

A detector that sees JPEG only on real photos learns "JPEG = real" (the codec shortcut); so every
transform here is drawn with the same probabilities whatever the label. The deterministic
``image_transform`` / ``audio_transform`` are the evaluation's robustness sweep.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detector.errors import DetectorError


class CodecError(DetectorError):
    """ffmpeg is missing or failed to encode/decode."""


# --- images ---------------------------------------------------------------------------------


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip an RGB uint8 image through JPEG at ``quality`` (OpenCV, 4:2:0 like cameras)."""
    ok, buf = cv2.imencode(".jpg", img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise CodecError("JPEG encode failed")
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1].copy()


def resize(img: np.ndarray, scale: float) -> np.ndarray:
    """Rescale by ``scale`` (area filter when shrinking, bicubic when enlarging)."""
    h, w = img.shape[:2]
    nh, nw = max(int(round(h * scale)), 8), max(int(round(w * scale)), 8)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(img, (nw, nh), interpolation=interp)


def webp(img: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip an RGB uint8 image through lossy WebP at ``quality`` (the real photos' codec)."""
    ok, buf = cv2.imencode(".webp", img[:, :, ::-1], [cv2.IMWRITE_WEBP_QUALITY, int(quality)])
    if not ok:
        raise CodecError("WebP encode failed")
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1].copy()


def augment_image(
    img: np.ndarray, rng: np.random.Generator, *, p: float = 0.5, p_codec: float = 0.75
) -> np.ndarray:
    """Label-blind: random resize 0.5-1.5, blur, noise, then a lossy re-encode (JPEG or WebP 40-95).

    The corpus photos arrive as JPEG/WebP and the generated items as PNG/JPEG, so every patch of
    either class ends, with the same probability, in a fresh lossy encode of a random codec:
    "WebP blocking = real" or "no JPEG grid = synthetic" can then not separate the classes.

    Args:
        img: HxWx3 uint8 RGB.
        rng: Seeded generator.
        p: Probability of the resize (blur and noise: ``p / 2`` each).
        p_codec: Probability of the final lossy re-encode (WebP for 40 % of them).
    """
    out = img
    if rng.random() < p:
        out = resize(out, float(rng.uniform(0.5, 1.5)))
    if rng.random() < p * 0.5:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.3, 1.2)))
    if rng.random() < p * 0.5:
        noise = rng.normal(0, float(rng.uniform(1.0, 5.0)), out.shape)
        out = np.clip(out.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    if rng.random() < p_codec:
        quality = int(rng.integers(40, 96))
        out = webp(out, quality) if rng.random() < 0.4 else jpeg(out, quality)
    return out


# Codec histories a real training photo can have (its file's codec), given to synthetic training
# patches in the same proportions by ``image_history`` (see ``detector.train.image``).
IMAGE_HISTORIES = ("none", "webp", "jpeg")


def image_history(img: np.ndarray, history: str, rng: np.random.Generator) -> np.ndarray:
    """Give ``img`` the lossy history ``history`` (one of ``IMAGE_HISTORIES``) a real photo has.

    Qualities are drawn from the range published photos are saved at (WebP 70-95, JPEG 75-95);
    the final label-blind ``augment_image`` encode comes on top, as it does for real photos.
    """
    if history == "none":
        return img
    if history == "webp":
        return webp(img, int(rng.integers(70, 96)))
    if history == "jpeg":
        return jpeg(img, int(rng.integers(75, 96)))
    raise ValueError(f"unknown image history {history!r} (one of {IMAGE_HISTORIES})")


IMAGE_TRANSFORMS = ("none", "jpeg95", "jpeg75", "jpeg50", "webp75", "resize0.5")


def image_transform(img: np.ndarray, name: str) -> np.ndarray:
    """The evaluation's deterministic robustness transforms (see ``IMAGE_TRANSFORMS``)."""
    if name == "none":
        return img
    if name.startswith("jpeg"):
        return jpeg(img, int(name[4:]))
    if name.startswith("webp"):
        return webp(img, int(name[4:]))
    if name.startswith("resize"):
        return resize(img, float(name[6:]))
    raise ValueError(f"unknown image transform {name!r}")


# --- audio ----------------------------------------------------------------------------------


def _ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if not exe:
        raise CodecError("ffmpeg not found (apt-get install ffmpeg) — needed for codec augmentation")
    return exe


CODECS = ("ogg", "mp3", "g722", "gsm", "mulaw", "alaw", "pcm8k")
# Telephone codecs run at 8 kHz whatever ``sr`` is: GSM 06.10 full rate (13 kbit/s, mobile networks
# and PBX voicemail), G.711 mu-law / A-law (landlines, VoIP), or plain 8 kHz PCM (the band limit alone).
PHONE_CODECS = ("gsm", "mulaw", "alaw", "pcm8k")
_FIXED_RATE = {"g722": 16000, "gsm": 8000, "mulaw": 8000, "alaw": 8000, "pcm8k": 8000}
_ENCODER = {
    "ogg": ["-c:a", "libvorbis"],
    "mp3": ["-c:a", "libmp3lame"],
    "g722": ["-c:a", "g722"],
    "gsm": ["-c:a", "libgsm"],
    "mulaw": ["-c:a", "pcm_mulaw"],
    "alaw": ["-c:a", "pcm_alaw"],
    "pcm8k": ["-c:a", "pcm_s16le"],
}
# G.722 and G.711 in a WAV container; GSM as raw 06.10 frames (what the asterisk .gsm prompts are).
_CONTAINER = {"ogg": "ogg", "mp3": "mp3", "gsm": "gsm"}


def codec_roundtrip(
    y: np.ndarray,
    sr: int,
    codec: str,
    *,
    bitrate_k: int = 64,
    codec_sr: int | None = None,
    out_sr: int | None = None,
) -> np.ndarray:
    """Encode mono float audio with ffmpeg (one of ``CODECS``) and decode it back.

    Args:
        y: float32 mono in -1..1.
        sr: Sample rate.
        codec: "ogg", "mp3", "g722" (fixed at 16 kHz / 64 kbit/s) or a telephone codec of
            ``PHONE_CODECS`` (fixed at 8 kHz); ``bitrate_k`` only applies to Ogg and MP3.
        bitrate_k: Target bitrate in kbit/s.
        codec_sr: Rate to encode at (None: ``sr``); e.g. 22050 to mimic a 22.05 kHz Vorbis source.
        out_sr: Rate to decode to (None: ``sr``); e.g. 8000 to keep a phone coding at its own rate.

    Returns:
        float32 mono at ``out_sr`` of the input's duration (codec delay trimmed/padded).
    """
    import soundfile as sf

    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r} (one of {CODECS})")
    enc = _ENCODER[codec]
    rate = _FIXED_RATE.get(codec) or int(codec_sr or sr)
    if codec == "ogg" and rate < 16000:
        # libvorbis refuses 8 kHz mono above ~32 kbit/s: encode a phone-band file at 16 kHz (its
        # band is unchanged) so "Ogg 64 kbit/s" means the same bitrate at every input rate.
        rate = 16000
    if codec == "ogg" and rate <= 16000:
        # libvorbis refuses mono 16 kHz above ~100 kbit/s; clamp rather than fail.
        bitrate_k = min(bitrate_k, 96)
    bitrate = ["-b:a", f"{bitrate_k}k"] if codec in ("ogg", "mp3") else []
    ext = _CONTAINER.get(codec, "wav")
    with tempfile.TemporaryDirectory() as td:
        src, mid = Path(td) / "in.wav", Path(td) / f"mid.{ext}"
        sf.write(src, np.clip(y, -1, 1), sr, subtype="PCM_16")
        base = [_ffmpeg(), "-nostdin", "-loglevel", "error", "-y"]
        r = subprocess.run(
            [*base, "-i", str(src), "-ac", "1", "-ar", str(rate), *enc, *bitrate, str(mid)],
            capture_output=True,
        )
        if r.returncode:
            raise CodecError(f"ffmpeg {codec} encode failed: {r.stderr.decode(errors='replace')[-300:]}")
        demux = ["-f", "gsm", "-ar", "8000"] if codec == "gsm" else []  # raw GSM has no header
        r = subprocess.run(
            [*base, *demux, "-i", str(mid), "-f", "f32le", "-ac", "1", "-ar", str(out_sr or sr), "-"],
            capture_output=True,
        )
        if r.returncode:
            raise CodecError(f"ffmpeg {codec} decode failed: {r.stderr.decode(errors='replace')[-300:]}")
    out = np.frombuffer(r.stdout, dtype=np.float32).copy()
    n = len(y) if not out_sr or out_sr == sr else int(round(len(y) * out_sr / sr))
    if len(out) >= n:
        return out[:n]
    return np.pad(out, (0, n - len(out)))


def add_noise(y: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White noise at ``snr_db`` relative to the signal's power."""
    p = float(np.mean(y.astype(np.float64) ** 2)) + 1e-12
    n = rng.normal(0, np.sqrt(p / 10 ** (snr_db / 10)), len(y))
    return (y + n).astype(np.float32)


def speed_perturb(y: np.ndarray, factor: float) -> np.ndarray:
    """Play ``y`` ``factor`` times faster by resampling (pitch, formants and tempo move together).

    The ASR recipe (Ko et al., 2015, "Audio augmentation for speech recognition"): a plain
    resampler adds no vocoder-like artefact, so it widens the range of voices the real class
    covers (higher, lower) without teaching the detector that synthesis traces are human.
    ``factor`` is rounded to 1 %.
    """
    from scipy.signal import resample_poly

    down = int(round(100 * factor))
    if down == 100:
        return y
    return resample_poly(y, 100, down).astype(np.float32)


def noise_gate(
    y: np.ndarray, rng: np.random.Generator, *, depth_db: tuple[float, float] = (35.0, 60.0), frame: int = 160
) -> np.ndarray:
    """What an editor's noise gate or "truncate silence" does to a home recording: 10 ms frames
    quieter than the loudest by more than a depth drawn from ``depth_db`` become digital silence
    (one frame of hold either side of every open frame, no fade).

    Synthetic speech is silent between sounds; so is a gated human recording (the KDE volunteer
    voices with a -95..-120 dB floor score highest, bench/audio_noise_floor.py). Applied
    label-blind, it shows the detector gated human speech, so digital silence stops naming the label.
    """
    n = len(y) // frame
    if n < 2:
        return y
    energy = 10 * np.log10((y[: n * frame].astype(np.float64).reshape(n, frame) ** 2).mean(axis=1) + 1e-12)
    open_ = energy >= energy.max() - float(rng.uniform(*depth_db))
    open_[1:] |= open_[:-1].copy()
    open_[:-1] |= open_[1:].copy()
    gain = np.repeat(open_.astype(np.float32), frame)
    gain = np.concatenate([gain, np.full(len(y) - len(gain), gain[-1], np.float32)])
    return (y * gain).astype(np.float32)


def spectral_denoise(
    y: np.ndarray,
    rng: np.random.Generator,
    *,
    sensitivity_db: tuple[float, float] = (3.0, 9.0),
    reduction_db: tuple[float, float] = (12.0, 30.0),
    n_fft: int = 512,
) -> np.ndarray:
    """An editor's "noise reduction" (spectral gating, as Audacity's): a per-bin noise profile from the
    quietest tenth of the frames; every time-frequency bin less than ``sensitivity_db`` above it is
    attenuated by ``reduction_db`` (both drawn), the gains smoothed over 3 bins and 3 frames.

    Home recordings are often cleaned this way before they are shared, and it leaves "musical
    noise" in the speech itself. Applied label-blind (``p_denoise``), it tests whether that
    processing is what makes edited human voices look synthetic (docs/eval/README.md, New speakers).
    """
    from scipy.ndimage import uniform_filter
    from scipy.signal import istft, stft

    if len(y) < 2 * n_fft:
        return y
    _, _, spec = stft(y.astype(np.float64), nperseg=n_fft, noverlap=n_fft * 3 // 4)
    mag = np.abs(spec)
    frame_energy = (mag**2).sum(axis=0)
    quiet = frame_energy <= np.quantile(frame_energy, 0.1)
    profile = mag[:, quiet].mean(axis=1, keepdims=True) + 1e-9
    keep = mag > profile * 10 ** (float(rng.uniform(*sensitivity_db)) / 20)
    gain = np.where(keep, 1.0, 10 ** (-float(rng.uniform(*reduction_db)) / 20))
    gain = uniform_filter(gain, size=3, mode="nearest")
    _, out = istft(spec * gain, nperseg=n_fft, noverlap=n_fft * 3 // 4)
    out = np.asarray(out[: len(y)], np.float32)
    return np.pad(out, (0, len(y) - len(out))) if len(out) < len(y) else out


def freq_masks(x: Any, rng: np.random.Generator, max_bins: int) -> Any:
    """SpecAugment frequency masking, in place: half the windows of ``x`` (B, 1, F, T) get one band of
    1..``max_bins`` bins set to 0 (the feature mean after normalisation)."""
    if not 0 < max_bins <= x.shape[2]:
        raise ValueError(f"freq_mask must be 1..{x.shape[2]} bins for this front end, not {max_bins}")
    for i in np.nonzero(rng.random(len(x)) < 0.5)[0]:
        w = int(rng.integers(1, max_bins + 1))
        f0 = int(rng.integers(0, x.shape[2] - w + 1))
        x[i, :, f0 : f0 + w] = 0.0
    return x


def augment_audio(
    y: np.ndarray, sr: int, rng: np.random.Generator, *, p_codec: float = 0.5, p_phone: float = 0.0
) -> np.ndarray:
    """Label-blind audio augmentation: gain, noise (10-40 dB SNR), Ogg/MP3 at 32-128 kbit/s or G.722,
    and (with ``p_phone``) a telephone channel: 8 kHz GSM, mu-law, A-law or PCM.

    Args:
        y: float32 mono.
        sr: Sample rate.
        rng: Seeded generator.
        p_codec: Probability of a lossy codec round trip.
        p_phone: Probability of a telephone channel after it (0 keeps the random stream, and so the
            weights trained before this option existed, exactly as they were).
    """
    out = y * float(10 ** (rng.uniform(-6, 3) / 20))
    if rng.random() < 0.3:
        out = add_noise(out, float(rng.uniform(10, 40)), rng)
    if rng.random() < p_codec:
        codec = str(rng.choice(["ogg", "mp3", "g722"], p=[0.4, 0.4, 0.2]))
        out = codec_roundtrip(out, sr, codec, bitrate_k=int(rng.choice([32, 48, 64, 96, 128])))
    if p_phone > 0 and rng.random() < p_phone:
        out = codec_roundtrip(out, sr, str(rng.choice(PHONE_CODECS)))
    return np.clip(out, -1, 1).astype(np.float32)


# Codec histories of real training clips that synthetic clips are given too (``history_roundtrip``):
# fillets-ng dialogue is 22.05 kHz Vorbis at ~40 kbit/s, the asterisk prompts are G.722, the KDE
# volunteer recordings (ktuberling, klettres) 44.1 kHz Vorbis at ~96 kbit/s.
HISTORIES = ("none", "vorbis22k", "g722", "mp3", "vorbis44k")


def history_roundtrip(y: np.ndarray, sr: int, history: str, rng: np.random.Generator) -> np.ndarray:
    """Give ``y`` the codec history ``history`` (one of ``HISTORIES``) that a real source has."""
    if history == "none":
        return y
    if history == "vorbis22k":
        return codec_roundtrip(y, sr, "ogg", bitrate_k=int(rng.choice([32, 40, 48])), codec_sr=22050)
    if history == "g722":
        return codec_roundtrip(y, sr, "g722")
    if history == "mp3":
        return codec_roundtrip(y, sr, "mp3", bitrate_k=int(rng.choice([64, 96, 128])))
    if history == "vorbis44k":
        return codec_roundtrip(y, sr, "ogg", bitrate_k=int(rng.choice([80, 96, 112])), codec_sr=44100)
    raise ValueError(f"unknown codec history {history!r} (one of {HISTORIES})")


AUDIO_TRANSFORMS = ("none", "ogg64", "mp3_64", "noise20db", "phone_gsm")


def audio_transform(y: np.ndarray, sr: int, name: str, *, seed: int = 0) -> np.ndarray:
    """The evaluation's deterministic robustness transforms (see ``AUDIO_TRANSFORMS``)."""
    if name == "none":
        return y
    if name == "ogg64":
        return codec_roundtrip(y, sr, "ogg", bitrate_k=64)
    if name == "mp3_64":
        return codec_roundtrip(y, sr, "mp3", bitrate_k=64)
    if name == "noise20db":
        return add_noise(y, 20.0, np.random.default_rng(seed))
    if name == "phone_gsm":  # a mobile call / voicemail: 8 kHz GSM 06.10
        return codec_roundtrip(y, sr, "gsm")
    raise ValueError(f"unknown audio transform {name!r}")
