"""provscan-audio: embed -> attack -> detect, per-second location of a spliced excerpt.

The host signal is a synthetic speech-like signal (glottal pulse train through moving formants,
syllable envelope and pauses), generated in milliseconds, so the tests need no data download.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import lfilter

from detector.settings import DEFAULT_WATERMARK_KEY
from detector.watermark import audio as waudio  # noqa: F401  (registers the scheme)
from detector.watermark.base import WATERMARKS

SR = 44100


def speechlike(seconds: float, seed: int, sr: int = SR, *, breath: float = 0.02) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    f0 = 120 + 25 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)) + 10 * rng.standard_normal()
    phase = np.cumsum(f0 / sr)
    pulses = (np.diff(np.floor(phase), prepend=0) > 0).astype(float)
    src = pulses + breath * rng.standard_normal(n)
    out = np.zeros(n)
    for f1 in (500 + 200 * rng.random(), 1500 + 400 * rng.random(), 2500 + 300 * rng.random()):
        r = np.exp(-np.pi * 120 / sr)
        a = [1, -2 * r * np.cos(2 * np.pi * f1 / sr), r * r]
        out += lfilter([1 - r], a, src)
    syll = 0.5 * (1 + np.sin(2 * np.pi * 3.5 * t + rng.uniform(0, 6))) ** 2
    pause = (np.sin(2 * np.pi * 0.23 * t + rng.uniform(0, 6)) > -0.8).astype(float)
    y = out * syll * pause
    return (0.3 * y / (np.abs(y).max() + 1e-9)).astype(np.float32)


@pytest.fixture(scope="module")
def scheme():
    return WATERMARKS.create("provscan-audio", key=DEFAULT_WATERMARK_KEY)


@pytest.fixture(scope="module")
def host() -> np.ndarray:
    return speechlike(12.0, seed=1, breath=0.3)


@pytest.fixture(scope="module")
def marked(scheme, host) -> np.ndarray:
    # Breathy voice: less deep harmonic comb, closer to real speech than a pure pulse train.
    y, sr = scheme.embed((host, SR), payload="tts:0042")
    assert sr == SR and len(y) == len(host) and y.dtype == np.float32
    return y


def _codec(y: np.ndarray, fmt: str, tmp_path) -> tuple[np.ndarray, int]:
    src, enc, dec = tmp_path / "a.wav", tmp_path / f"b.{fmt}", tmp_path / "c.wav"
    sf.write(src, y, SR)
    codec = {"mp3": "libmp3lame", "ogg": "libvorbis"}[fmt]
    subprocess.run(
        ["ffmpeg", "-y", "-loglevel", "error", "-i", src, "-c:a", codec, "-b:a", "64k", enc], check=True
    )
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", enc, dec], check=True)
    z, sr = sf.read(dec, dtype="float32")
    return (z if z.ndim == 1 else z.mean(axis=1)), sr


def test_registered():
    assert "provscan-audio" in WATERMARKS.list(modality="audio")


def test_inaudibility_budget(host, marked):
    err = marked - host
    snr = 10 * np.log10(np.sum(host**2) / np.sum(err**2))
    assert snr > 15.0  # multiplicative +-1.5 dB chips: about 20 dB on speech


def test_clean_round_trip_with_payload(scheme, marked):
    res = scheme.detect((marked, SR))
    assert res.detected and res.p_value < 1e-6
    segs = res.evidence["segments"]
    assert segs and {"start", "end", "score", "detected"} <= set(segs[0])


def test_payload_from_long_audio(scheme):
    # The 8-byte frame (80 information bits) needs ~10 s of voiced audio (repeated every second).
    rng = np.random.default_rng(5)
    t = np.arange(24 * SR) / SR
    babble = 0.1 * rng.standard_normal(len(t)) * (0.3 + 0.7 * (0.5 * (1 + np.sin(2 * np.pi * 3 * t))) ** 2)
    y, _ = scheme.embed((babble.astype(np.float32), SR), payload="tts:0042")
    res = scheme.detect((y, SR))
    assert res.detected and res.payload == "tts:0042"
    assert WATERMARKS.create("provscan-audio", key="k2").detect((y, SR)).payload is None


def test_short_payload_from_short_audio(scheme):
    # v2 frames are as long as the payload: 2 bytes are repeated ~2x more often per second than
    # 8, so they come back from a few seconds; the empty payload from even less.
    host = speechlike(5.0, seed=11, breath=0.3)
    y, _ = scheme.embed((host, SR), payload="g7")
    res = scheme.detect((y, SR))
    assert res.detected and res.payload == "g7", res.evidence["z"]
    y, _ = scheme.embed((host[: 3 * SR], SR))
    res = scheme.detect((y, SR))
    assert res.detected and res.payload is None and res.evidence["crc_ok"]


def test_null_calibration_on_structured_audio(scheme):
    # Audio whose chips are correlated (a 1-s loop, clips butted together with silences, a
    # steady tone under speech) must not look marked: the decoy patterns measure the inflation.
    one = speechlike(1.0, seed=21)
    loop = np.tile(one, 12)
    parts = []
    for seed in range(22, 28):
        parts += [speechlike(1.7, seed=seed), np.zeros(int(0.31 * SR), np.float32)]
    butted = np.concatenate(parts)
    t = np.arange(10 * SR) / SR
    tone = (0.2 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32) + speechlike(10.0, seed=29)
    for y in (loop, butted, tone):
        res = scheme.detect((y, SR))
        assert not res.detected and res.p_value > 1e-4, res.evidence["z"]
        assert not any(s["detected"] for s in res.evidence["segments"])


def test_calibration_never_inflates():
    z = np.zeros((4, 3, 1 + waudio.N_DECOYS))
    z[..., 0] = 5.0
    z[..., 1:] = 0.1  # decoys tighter than N(0, 1): the scale is floored at 1, z stays 5
    assert np.allclose(waudio.ProvscanAudioWatermark._calibrate(z), 5.0)
    z[..., 1:] = 2.0  # decoys twice as wide: z halves
    assert np.allclose(waudio.ProvscanAudioWatermark._calibrate(z), 2.5)


def test_resample_noise_trim(scheme, marked):
    import librosa

    y16 = librosa.resample(marked, orig_sr=SR, target_sr=16000)
    assert scheme.detect((y16, 16000)).detected
    rng = np.random.default_rng(3)
    noisy = marked + rng.standard_normal(len(marked)).astype(np.float32) * np.sqrt(np.mean(marked**2) / 100)
    assert scheme.detect((noisy, SR)).detected
    excerpt = marked[int(4.37 * SR) : int(7.37 * SR)]
    assert scheme.detect((excerpt, SR)).detected


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
@pytest.mark.parametrize("fmt", ["mp3", "ogg"])
def test_lossy_codecs(scheme, marked, fmt, tmp_path):
    y, sr = _codec(marked, fmt, tmp_path)
    res = scheme.detect((y, sr))
    assert res.detected, res.evidence["z"]


def test_unmarked_and_wrong_key(scheme, host, marked):
    for seed in (1, 2, 3):
        res = scheme.detect((speechlike(8.0, seed=seed), SR))
        assert not res.detected and res.p_value > 1e-4
    assert not any(s["detected"] for s in scheme.detect((host, SR)).evidence["segments"])
    other = WATERMARKS.create("provscan-audio", key="another-key")
    assert not other.detect((marked, SR)).detected


def test_splice_is_located(scheme):
    real_a, real_b = speechlike(6.0, seed=7), speechlike(6.0, seed=8)
    fake, _ = scheme.embed((speechlike(5.0, seed=9), SR))
    mix = np.concatenate([real_a, fake, real_b])
    res = scheme.detect((mix, SR))
    assert res.detected
    hits = [s for s in res.evidence["segments"] if s["detected"]]
    assert hits
    # every second flagged overlaps the spliced 6..11 s span; nothing far away is flagged
    for s in hits:
        assert s["end"] > 6.0 - 0.5 and s["start"] < 11.0 + 0.5, s
    assert any(6.0 <= (s["start"] + s["end"]) / 2 <= 11.0 for s in hits)


def test_short_or_silent_input_does_not_raise(scheme):
    assert not scheme.detect((np.zeros(8000, np.float32), SR)).detected
    assert not scheme.detect((np.zeros(SR * 3, np.float32), SR)).detected
    y, sr = scheme.embed((np.zeros(SR * 2, np.float32), SR))
    assert np.allclose(y, 0)


def test_variable_length_frames(rng):
    from detector.watermark import ecc

    for payload in (None, "g7", "sd15:042"):
        n = ecc.payload_len(payload)
        coded = ecc.encode_payload(payload, n)
        assert len(coded) == ecc.coded_bits(n)
        ok, got, _ = ecc.decode_payload((coded * 2.0 - 1.0) + rng.normal(0, 0.8, coded.size), n)
        assert ok and got == payload
    # A 2-byte frame never decodes as "a" + NUL padding: lengths are exact.
    raw = np.unpackbits(np.frombuffer(b"a\x00", np.uint8))
    crc = ecc.crc16(b"a\x00")
    bits = np.concatenate([raw, np.unpackbits(np.frombuffer(bytes([crc >> 8, crc & 0xFF]), np.uint8))])
    assert ecc.unframe_bits(bits, 2) == (False, None)
