"""Shared helpers for the voice generator families.

Everything here is deterministic given its inputs: generators derive every random choice from a
``numpy.random.Generator`` seeded by ``(family name, seed)`` so that the same seed and prompt
reproduce the same samples, and two families with the same seed do not make correlated choices.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import shutil
import subprocess
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from generators.errors import GeneratorError, GeneratorUnavailableError

#: Sample rate the dataset builder asks for (detectors work at 16 kHz).
DATASET_SR = 16_000
#: Seconds a subprocess synthesiser may take before we give up (a stuck festival must not hang a worker).
TOOL_TIMEOUT_S = 60.0
#: Apt packages the voice families need; the Makefile installs them.
APT_PACKAGES = ("espeak-ng", "festival", "festvox-kallpc16k", "festvox-us-slt-hts")


class VoiceSynthesisError(GeneratorError):
    """An external synthesiser ran but failed (non-zero exit, empty or undecodable output)."""


class SourceClipError(GeneratorError):
    """A real source clip (``source_path``) is missing, unreadable or too short."""


class UnsupportedLanguageError(GeneratorError):
    """The family cannot speak the requested language (festival voices here are English only)."""


def family_rng(name: str, seed: int) -> np.random.Generator:
    """A generator seeded by the family name and ``seed`` (stable across processes and runs)."""
    # zlib.crc32 rather than hash(): str hashes are salted per process.
    return np.random.default_rng([zlib.crc32(name.encode()), int(seed) & 0xFFFFFFFF])


def require_tool(tool: str, *, apt: str) -> str:
    """Absolute path of ``tool`` on PATH.

    Raises:
        GeneratorUnavailableError: the tool is not installed (names the apt package).
    """
    path = shutil.which(tool)
    if path is None:
        raise GeneratorUnavailableError(f"{tool} is not installed: run `apt-get install -y {apt}`")
    return path


def run_tool(argv: Sequence[str], *, stdin: str | None = None, timeout: float = TOOL_TIMEOUT_S) -> bytes:
    """Run a synthesiser (never through a shell) and return its stdout.

    Raises:
        VoiceSynthesisError: non-zero exit status or timeout.
    """
    env = dict(os.environ)
    # Tools print locale warnings or mangle UTF-8 input under the C locale.
    env.setdefault("LC_ALL", "C.UTF-8")
    try:
        proc = subprocess.run(
            list(argv),
            input=stdin.encode("utf-8") if stdin is not None else None,
            capture_output=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired:
        raise VoiceSynthesisError(f"{argv[0]} timed out after {timeout:.0f} s") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()[-500:]
        raise VoiceSynthesisError(f"{Path(argv[0]).name} exited with {proc.returncode}: {err}")
    return proc.stdout


def decode_wav_bytes(raw: bytes) -> tuple[np.ndarray, int]:
    """Decode WAV bytes to float32 mono in -1..1."""
    import soundfile as sf

    if not raw:
        raise VoiceSynthesisError("synthesiser produced no audio")
    try:
        data, sr = sf.read(io.BytesIO(raw), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises its own LibsndfileError and RuntimeError
        # espeak-ng --stdout writes 0x7fffffff as the RIFF/data sizes (a stream); libsndfile
        # accepts that, but keep a manual fallback for headers it rejects.
        try:
            return _decode_pcm16_stream(raw)
        except Exception:
            raise VoiceSynthesisError(f"cannot decode synthesiser output: {exc}") from None
    return np.ascontiguousarray(data.mean(axis=1), dtype=np.float32), int(sr)


def _decode_pcm16_stream(raw: bytes) -> tuple[np.ndarray, int]:
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise ValueError("not a WAV stream")
    sr = int.from_bytes(raw[24:28], "little")
    channels = int.from_bytes(raw[22:24], "little")
    pos = raw.find(b"data", 12)
    pcm = np.frombuffer(raw[pos + 8 : pos + 8 + (len(raw) - pos - 8) // 2 * 2], dtype="<i2")
    y = pcm.astype(np.float32) / 32768.0
    if channels > 1:
        y = y[: len(y) // channels * channels].reshape(-1, channels).mean(axis=1)
    return y, sr


def load_source_clip(path: str | os.PathLike[str], *, min_seconds: float = 0.2) -> tuple[np.ndarray, int]:
    """Decode a real clip to float32 mono at its native rate.

    Raises:
        SourceClipError: missing, undecodable or shorter than ``min_seconds``.
    """
    from detector.errors import DecodeError
    from detector.media import load_audio

    p = Path(path)
    if not p.is_file():
        raise SourceClipError(f"source clip not found: {p}")
    try:
        y, sr = load_audio(p)
    except DecodeError as exc:
        raise SourceClipError(f"cannot decode source clip {p}: {exc}") from None
    if len(y) < min_seconds * sr:
        raise SourceClipError(f"source clip {p} is shorter than {min_seconds} s")
    return y, sr


def clip_id(path: str | os.PathLike[str]) -> str:
    """Stable identifier of a real clip: ``<file name>@<first 12 hex of its sha256>``.

    The content hash (not the absolute path) keeps ids equal across machines and cache folders.
    """
    p = Path(path)
    h = hashlib.sha256(p.read_bytes()).hexdigest()[:12]
    return f"{p.name}@{h}"


def finish(
    y: np.ndarray,
    sr: int,
    *,
    target_sr: int | None,
    peak: float | None,
) -> tuple[np.ndarray, int]:
    """Resample to ``target_sr`` (None keeps native), scale to ``peak`` and clamp to -1..1.

    Scaling to a seeded peak (rather than always full scale) keeps loudness from becoming a
    shortcut feature: real clips come at many levels.
    """
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    if not np.all(np.isfinite(y)):
        y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    if target_sr is not None and int(target_sr) != int(sr):
        y = resample(y, int(sr), int(target_sr))
        sr = int(target_sr)
    m = float(np.max(np.abs(y))) if y.size else 0.0
    if peak is not None and m > 1e-6:
        y = y * (float(peak) / m)
    elif m > 1.0:
        y = y / m
    y = np.clip(y, -1.0, 1.0).astype(np.float32)
    return np.ascontiguousarray(y), int(sr)


def resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """High-quality resampling (soxr, what librosa uses by default) without importing librosa."""
    if int(orig_sr) == int(target_sr):
        return np.asarray(y, dtype=np.float32)
    import soxr

    return np.asarray(
        soxr.resample(np.asarray(y, dtype=np.float32), int(orig_sr), int(target_sr), quality="HQ"),
        dtype=np.float32,
    )


def pick(rng: np.random.Generator, options: Sequence[Any]) -> Any:
    """Seeded choice that keeps the element's own type (rng.choice turns tuples into arrays)."""
    return options[int(rng.integers(len(options)))]


def audio_sha256(y: np.ndarray) -> str:
    """Hash of samples (float32 bytes); tests and dataset manifests compare by this."""
    return hashlib.sha256(np.ascontiguousarray(y, dtype=np.float32).tobytes()).hexdigest()


def count_words(text: str) -> int:
    return len([w for w in text.split() if any(ch.isalnum() for ch in w)])


def speech_stats(y: np.ndarray, sr: int, *, top_db: float = 40.0) -> dict[str, float]:
    """Sanity figures for synthetic speech: duration, active (non-silent) seconds, peak, clipping.

    "Active" frames are those within ``top_db`` of the loudest 2048-sample frame (hop 512), like
    ``librosa.effects.split``, in plain numpy so tests and the bench need not import librosa.
    """
    y = np.asarray(y, dtype=np.float32).reshape(-1)
    dur = len(y) / sr if sr else 0.0
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    clipped = float(np.mean(np.abs(y) >= 0.999)) if y.size else 0.0
    rms = float(np.sqrt(np.mean(y.astype(np.float64) ** 2))) if y.size else 0.0
    active = 0.0
    frame, hop = 2048, 512
    if peak > 1e-4 and sr:
        padded = np.pad(y.astype(np.float64), (frame // 2, frame // 2))
        n = 1 + max(0, len(padded) - frame) // hop
        idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
        frame_rms = np.sqrt(np.mean(padded[idx] ** 2, axis=1))
        db = 20 * np.log10(np.maximum(frame_rms, 1e-10) / max(frame_rms.max(), 1e-10))
        active = min(dur, float(np.sum(db > -top_db)) * hop / sr)
    return {"duration_s": dur, "active_s": active, "peak": peak, "clipped_fraction": clipped, "rms": rms}


# ---------------------------------------------------------------------------------------------
# Real clips available offline (see shared/DATA.md); the corpus builder is the main source, this
# is the fallback that lets the vocoder families run without a built corpus.

_REAL_GLOBS = (
    "**/usr/share/sounds/alsa/*_*.wav",
    "**/usr/share/games/fillets-ng/sound/*/cs/*.ogg",
    "**/usr/share/games/fillets-ng/sound/*/nl/*.ogg",
)


def default_clip_roots(data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """Folders searched for real speech when a vocoder family gets no ``source_path``.

    The built corpus (``<data dir>/corpus/audio``, see ``generators.corpus``) when there is one,
    else the unpacked Debian packages (``<data dir>/cache``) and an installed alsa-utils. Never
    both: the same clip would then be counted twice.

    Args:
        data_dir: The instance's data folder; None: the one the environment names. A caller that
            holds its own settings (the dataset builder) passes theirs, so a dataset never draws
            sources from another instance's corpus.
    """
    if data_dir is None:
        from detector.settings import Settings

        data_dir = Settings.from_env().data_dir
    data_dir = Path(data_dir)
    corpus = data_dir / "corpus" / "audio"
    if corpus.is_dir() and any(corpus.iterdir()):
        return [corpus]
    roots = [Path("/usr/share/sounds/alsa"), data_dir / "cache"]
    return [r for r in roots if r.is_dir()]


_AUDIO_SUFFIXES = {".wav", ".ogg", ".flac", ".mp3"}


def find_real_clips(
    roots: Sequence[str | os.PathLike[str]] | None = None, *, limit: int | None = None
) -> list[Path]:
    """Real speech clips under ``roots``, sorted.

    A corpus audio folder (``.../corpus/audio``) contributes every audio file in it; other folders
    contribute the known speech sources (alsa-utils WAVs, fillets-ng cs/nl Oggs) wherever they
    are unpacked below them. ``Noise.wav`` of alsa-utils is excluded (not speech).
    """
    key = tuple(str(Path(r)) for r in (roots if roots is not None else default_clip_roots()))
    clips = _find_real_clips(key)
    return list(clips[:limit] if limit is not None else clips)


@functools.lru_cache(maxsize=8)
def _find_real_clips(roots: tuple[str, ...]) -> tuple[Path, ...]:
    # Cached: globbing thousands of files per generated item would dominate the vocoder families.
    found: set[Path] = set()
    for root in roots:
        r = Path(root)
        if not r.is_dir():
            continue
        if r.name == "audio" and r.parent.name == "corpus":
            found.update(p for p in r.rglob("*") if p.suffix.lower() in _AUDIO_SUFFIXES)
            continue
        if r.name == "alsa":
            found.update(p for p in r.glob("*_*.wav"))
        for pattern in _REAL_GLOBS:
            found.update(r.glob(pattern))
    return tuple(sorted(p for p in found if p.name != "Noise.wav"))


def resolve_source(
    prompt: str, seed: int, source_path: str | os.PathLike[str] | None, *, family: str
) -> Path:
    """The real clip a vocoder family works on: ``source_path``, else ``prompt`` if it names a
    file, else a seeded pick among :func:`find_real_clips`.

    Raises:
        GeneratorUnavailableError: no clip given and none found on this machine.
    """
    if source_path is not None:
        return Path(source_path)
    if prompt and len(prompt) < 4096 and "\n" not in prompt:
        p = Path(prompt).expanduser()
        try:
            if p.is_file():
                return p
        except OSError:
            pass
    return pick_source_clip(family, seed, find_real_clips())


def pick_source_clip(family: str, seed: int, clips: Sequence[Path]) -> Path:
    """The seeded pick among ``clips`` a vocoder family makes when it is given no source.

    Raises:
        GeneratorUnavailableError: ``clips`` is empty.
    """
    if not clips:
        raise GeneratorUnavailableError(
            f"{family} needs a real speech clip: pass source_path=..., or build the corpus "
            "(`make corpus`), or `apt-get install -y alsa-utils`"
        )
    return clips[int(family_rng(family + "/source", seed).integers(len(clips)))]


def import_pyworld() -> Any:
    """Import the WORLD vocoder binding (pip ``pyworld``).

    pyworld 0.3.5's ``__init__`` imports ``pkg_resources``, which setuptools >= 81 no longer
    ships; the compiled extension itself does not need it, so load that directly when the
    package import fails for this reason.

    Raises:
        GeneratorUnavailableError: pyworld is not installed.
    """
    import importlib.util
    import sys

    try:
        import pyworld

        return pyworld
    except ModuleNotFoundError as exc:
        if exc.name != "pkg_resources":
            raise GeneratorUnavailableError("pyworld is not installed: run `pip install pyworld`") from None
    spec = importlib.util.find_spec("pyworld")
    if spec is None or spec.origin is None:
        raise GeneratorUnavailableError("pyworld is not installed: run `pip install pyworld`")
    sos = sorted(Path(spec.origin).parent.glob("pyworld*.so")) + sorted(
        Path(spec.origin).parent.glob("pyworld*.pyd")
    )
    if not sos:
        raise GeneratorUnavailableError("pyworld's compiled extension is missing: reinstall pyworld")
    # The extension's init symbol is PyInit_pyworld, so it must be loaded under the name "pyworld".
    ext_spec = importlib.util.spec_from_file_location("pyworld", sos[0])
    assert ext_spec is not None and ext_spec.loader is not None
    module = importlib.util.module_from_spec(ext_spec)
    ext_spec.loader.exec_module(module)
    sys.modules["pyworld"] = module
    return module
