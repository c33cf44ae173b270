"""A small neural vocoder (mel -> waveform), trained here on the real speech, no hub weights.

Architecture (Vocos-like, chosen because it trains in minutes on 2 CPU cores): a 1-D ConvNeXt
stack over the log-mel frames predicts, per STFT bin, a log magnitude and a phase; the waveform
is their inverse STFT. No upsampling convolutions, so a step is cheap. Trained with a multi-
resolution STFT loss plus a mel L1 loss (no adversary: that would need hours). The result is an
intelligible but characteristically "vocoded" voice — a different artefact family from
Griffin-Lim (phase retrieval) and WORLD (source-filter).

Weights: ``Settings.models_dir / "generators" / "neural_vocoder.pt"`` with a YAML card beside it.
Build them with ``python -m generators.voice.train_vocoder --minutes 10``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generators.base import Generated, register_generator
from generators.errors import GeneratorError, GeneratorUnavailableError
from generators.voice.common import family_rng, find_real_clips, finish, load_source_clip, resample
from generators.voice.inputs import resolve_vocoder_input

WEIGHTS_NAME = "neural_vocoder.pt"
CARD_NAME = "neural_vocoder.yaml"
BUILD_COMMAND = "python -m generators.voice.train_vocoder --minutes 10"


@dataclass(frozen=True)
class VocoderConfig:
    """Front-end and network sizes; stored in the weights file so loading needs nothing else."""

    sample_rate: int = 16_000
    n_fft: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    dim: int = 128
    intermediate: int = 384
    layers: int = 4
    kernel: int = 7


def default_weights_dir() -> Path:
    from detector.settings import Settings

    return Settings.from_env().models_dir / "generators"


# --------------------------------------------------------------------------------------------
# Model (torch is imported lazily: the web process imports the generators registry).


def _torch() -> Any:
    import torch

    return torch


def build_model(cfg: VocoderConfig) -> Any:
    """The Vocos-like network for ``cfg`` (random init)."""
    torch = _torch()
    nn = torch.nn

    class ConvNeXtBlock(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dw = nn.Conv1d(cfg.dim, cfg.dim, cfg.kernel, padding=cfg.kernel // 2, groups=cfg.dim)
            self.norm = nn.LayerNorm(cfg.dim)
            self.pw1 = nn.Linear(cfg.dim, cfg.intermediate)
            self.pw2 = nn.Linear(cfg.intermediate, cfg.dim)
            # Layer scale (small init) keeps the residual stack stable without warm-up.
            self.gamma = nn.Parameter(torch.full((cfg.dim,), 0.1))

        def forward(self, x: Any) -> Any:
            h = self.dw(x).transpose(1, 2)
            h = self.pw2(torch.nn.functional.gelu(self.pw1(self.norm(h))))
            return x + (self.gamma * h).transpose(1, 2)

    class Vocoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cfg = cfg
            self.embed = nn.Conv1d(cfg.n_mels, cfg.dim, cfg.kernel, padding=cfg.kernel // 2)
            self.norm = nn.LayerNorm(cfg.dim)
            self.blocks = nn.ModuleList([ConvNeXtBlock() for _ in range(cfg.layers)])
            self.final = nn.LayerNorm(cfg.dim)
            self.head = nn.Linear(cfg.dim, 2 * (cfg.n_fft // 2 + 1))
            self.register_buffer("window", torch.hann_window(cfg.n_fft), persistent=False)

        def forward(self, logmel: Any) -> Any:
            """(B, n_mels, T) log-mel -> (B, T * hop) waveform."""
            x = self.embed(logmel)
            x = self.norm(x.transpose(1, 2)).transpose(1, 2)
            for blk in self.blocks:
                x = blk(x)
            h = self.head(self.final(x.transpose(1, 2))).transpose(1, 2)
            logmag, phase = h.chunk(2, dim=1)
            # Clamp before exp: an early overshoot would otherwise overflow to inf.
            mag = torch.exp(logmag.clamp(max=7.0))
            spec = torch.polar(mag, phase)
            return torch.istft(
                spec,
                n_fft=cfg.n_fft,
                hop_length=cfg.hop_length,
                win_length=cfg.n_fft,
                window=self.window,
                center=True,
            )

    return Vocoder()


class MelFrontEnd:
    """Log-mel (natural log of magnitude mel, floor 1e-5) in torch, matching librosa's filterbank."""

    def __init__(self, cfg: VocoderConfig) -> None:
        import librosa

        torch = _torch()
        self.cfg = cfg
        fb = librosa.filters.mel(
            sr=cfg.sample_rate, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=0.0, fmax=cfg.sample_rate / 2
        )
        self.fb = torch.from_numpy(fb.astype(np.float32))
        self.window = torch.hann_window(cfg.n_fft)

    def __call__(self, wav: Any) -> Any:
        """(B, N) float waveform -> (B, n_mels, N // hop + 1) log-mel."""
        torch = _torch()
        spec = torch.stft(
            wav,
            n_fft=self.cfg.n_fft,
            hop_length=self.cfg.hop_length,
            win_length=self.cfg.n_fft,
            window=self.window,
            center=True,
            return_complex=True,
        ).abs()
        return torch.log(torch.clamp(self.fb @ spec, min=1e-5))


# Two resolutions rather than the usual three: a step costs a third less on 2 CPU cores.
_STFT_RESOLUTIONS = ((256, 64), (1024, 256))


def _stft_loss(pred: Any, target: Any) -> Any:
    """Multi-resolution STFT loss: spectral convergence + log-magnitude L1 at three resolutions."""
    torch = _torch()
    total = pred.new_zeros(())
    for n_fft, hop in _STFT_RESOLUTIONS:
        win = torch.hann_window(n_fft)
        p = torch.stft(pred, n_fft, hop, n_fft, win, return_complex=True).abs().clamp(min=1e-7)
        t = torch.stft(target, n_fft, hop, n_fft, win, return_complex=True).abs().clamp(min=1e-7)
        sc = torch.linalg.norm(t - p) / torch.linalg.norm(t).clamp(min=1e-7)
        total = total + sc + torch.mean(torch.abs(torch.log(t) - torch.log(p)))
    return total / len(_STFT_RESOLUTIONS)


# --------------------------------------------------------------------------------------------
# Training


def _load_training_audio(paths: Sequence[Path], sr: int, *, max_seconds: float) -> list[np.ndarray]:
    from tqdm import tqdm

    out: list[np.ndarray] = []
    total = 0.0
    for p in tqdm(paths, desc="load clips", file=sys.stderr, leave=False):
        try:
            y, rate = load_source_clip(p, min_seconds=0.3)
        except GeneratorError:
            continue
        if rate != sr:
            y = resample(y, rate, sr)
        m = float(np.max(np.abs(y)))
        if m < 1e-3:
            continue
        out.append((y / m * 0.9).astype(np.float32))
        total += len(y) / sr
        if total >= max_seconds:
            break
    return out


def train_neural_vocoder(
    out_dir: str | os.PathLike[str] | None = None,
    *,
    seed: int = 0,
    minutes: float = 10.0,
    data: Sequence[str | os.PathLike[str]] | str | os.PathLike[str] | None = None,
    steps: int | None = None,
    batch_size: int = 8,
    segment_seconds: float = 0.5,
    max_clips: int = 400,
    max_audio_minutes: float = 30.0,
    lr: float = 2e-3,
    config: VocoderConfig | None = None,
    threads: int | None = 1,
) -> Path:
    """Train the neural vocoder on real speech and write weights + card YAML.

    Args:
        out_dir: Folder for ``neural_vocoder.pt`` and ``neural_vocoder.yaml`` (default
            ``Settings.models_dir / "generators"``).
        seed: Seeds clip choice, segment sampling and init.
        minutes: Wall-clock training budget.
        data: Clip files, or a folder searched like :func:`find_real_clips` (default: the real
            clips found on this machine).
        steps: Stop after this many steps even if time is left (tests use a handful).
        batch_size: Segments per step.
        segment_seconds: Length of each training segment.
        max_clips: At most this many clips (seeded sample) are loaded.
        max_audio_minutes: Stop loading once this much audio is in memory.
        lr: AdamW peak learning rate (cosine decay over the expected number of steps).
        config: Network/front-end sizes.
        threads: torch intra-op threads during training (None leaves torch's setting). One is
            the default: on a shared 2-core machine two threads measured 3-10x slower per step.

    Returns:
        Path of the weights file.

    Raises:
        GeneratorError: no usable training audio.
    """
    import yaml
    from tqdm import tqdm

    torch = _torch()
    cfg = config or VocoderConfig()
    out = Path(out_dir) if out_dir is not None else default_weights_dir()
    out.mkdir(parents=True, exist_ok=True)
    if data is None:
        paths = find_real_clips()
    elif isinstance(data, str | os.PathLike) and Path(data).is_dir():
        paths = find_real_clips([data]) or sorted(
            p for p in Path(data).rglob("*") if p.suffix.lower() in {".wav", ".ogg", ".flac"}
        )
    elif isinstance(data, str | os.PathLike):
        paths = [Path(data)]
    else:
        paths = [Path(p) for p in data]
    rng = np.random.default_rng(seed)
    if len(paths) > max_clips:
        paths = [paths[i] for i in sorted(rng.choice(len(paths), size=max_clips, replace=False))]
    clips = _load_training_audio(paths, cfg.sample_rate, max_seconds=max_audio_minutes * 60)
    if not clips:
        raise GeneratorError(
            "no usable training audio for the neural vocoder (give data=... real speech clips)"
        )
    seg = int(segment_seconds * cfg.sample_rate) // cfg.hop_length * cfg.hop_length
    lengths = np.array([len(c) for c in clips], dtype=np.float64)
    probs = lengths / lengths.sum()

    old_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        torch.manual_seed(seed)
        model = build_model(cfg)
        mel = MelFrontEnd(cfg)
        opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.8, 0.99), weight_decay=0.01)
        budget_s = minutes * 60.0
        t0 = time.monotonic()
        step = 0
        expected = steps or 10_000
        losses: list[float] = []
        bar = tqdm(total=steps, desc="train vocoder", file=sys.stderr, unit="step")
        while True:
            elapsed = time.monotonic() - t0
            if (steps is not None and step >= steps) or (steps is None and elapsed >= budget_s):
                break
            if steps is None and step == 20:
                # Estimate the total from the first steps so the cosine schedule ends on time.
                expected = max(50, int(budget_s / (elapsed / 20)))
            batch = np.zeros((batch_size, seg), dtype=np.float32)
            for b, ci in enumerate(rng.choice(len(clips), size=batch_size, p=probs)):
                c = clips[ci]
                if len(c) > seg:
                    start = int(rng.integers(len(c) - seg))
                    batch[b] = c[start : start + seg]
                else:
                    batch[b, : len(c)] = c
                # Random gain so the net does not learn one loudness.
                batch[b] *= float(rng.uniform(0.3, 1.0))
            wav = torch.from_numpy(batch)
            for g in opt.param_groups:
                g["lr"] = lr * 0.5 * (1 + np.cos(np.pi * min(step / expected, 1.0)))
            pred = model(mel(wav))
            n = min(pred.shape[-1], wav.shape[-1])
            pred, target = pred[..., :n], wav[..., :n]
            mel_loss = torch.mean(torch.abs(mel(pred) - mel(target)))
            loss = _stft_loss(pred, target) + mel_loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses.append(float(loss.detach()))
            step += 1
            bar.update(1)
            if step % 10 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-10:]):.3f}")
        bar.close()
        train_s = time.monotonic() - t0
    finally:
        torch.set_num_threads(old_threads)

    weights = out / WEIGHTS_NAME
    # fp16 halves the file; inference casts back to float32.
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save({"config": asdict(cfg), "state_dict": state, "format": 1}, weights)
    data_ids = sorted(p.name for p in paths)
    card = {
        "name": "neural_vocoder",
        "kind": "generator weights (voice)",
        "architecture": "Vocos-like ConvNeXt mel -> STFT magnitude+phase -> iSTFT",
        "config": asdict(cfg),
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "weights": WEIGHTS_NAME,
        "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "weights_bytes": weights.stat().st_size,
        "data": {
            "clips": len(clips),
            "seconds": round(float(lengths.sum()) / cfg.sample_rate, 1),
            "sources": sorted({_source_family(p) for p in paths}),
            "clip_list_sha256": hashlib.sha256(json.dumps(data_ids).encode()).hexdigest(),
            "licence": "GPL-2 (fillets-ng-data-cs/-nl, alsa-utils speech); weights derived from them",
        },
        "seed": seed,
        "steps": step,
        "batch_size": batch_size,
        "segment_seconds": segment_seconds,
        "loss": f"multi-resolution STFT (SC + log-mag L1, n_fft {[r[0] for r in _STFT_RESOLUTIONS]}) + log-mel L1",
        "final_loss": round(float(np.mean(losses[-20:])), 4) if losses else None,
        "first_loss": round(float(np.mean(losses[:5])), 4) if losses else None,
        "train_seconds": round(train_s, 1),
        "threads": threads,
        "torch": str(torch.__version__),
        "build_command": BUILD_COMMAND,
    }
    (out / CARD_NAME).write_text(yaml.safe_dump(card, sort_keys=False))
    return weights


def _source_family(p: Path) -> str:
    s = str(p)
    if "/sounds/alsa/" in s:
        return "alsa-utils"
    for lang in ("cs", "nl"):
        if f"/{lang}/" in s and "fillets" in s:
            return f"fillets-ng-data-{lang}"
    return "user"


# --------------------------------------------------------------------------------------------
# Inference


def load_vocoder(weights: str | os.PathLike[str] | None = None) -> tuple[Any, VocoderConfig]:
    """Load the trained network (eval mode, float32).

    Raises:
        GeneratorUnavailableError: the weights are missing (names the command that builds them).
    """
    torch = _torch()
    path = Path(weights) if weights is not None else default_weights_dir() / WEIGHTS_NAME
    if not path.is_file():
        raise GeneratorUnavailableError(
            f"neural vocoder weights not found at {path}: build them with `{BUILD_COMMAND}`"
        )
    blob = torch.load(path, map_location="cpu", weights_only=True)
    cfg = VocoderConfig(**blob["config"])
    model = build_model(cfg)
    model.load_state_dict(
        {k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()}
    )
    model.eval()
    return model, cfg


def vocode(model: Any, cfg: VocoderConfig, y: np.ndarray) -> np.ndarray:
    """Waveform at ``cfg.sample_rate`` -> log-mel -> network -> waveform (same length)."""
    torch = _torch()
    mel = MelFrontEnd(cfg)
    with torch.inference_mode():
        wav = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32))[None]
        out = model(mel(wav))[0].numpy()
    out = np.pad(out, (0, max(0, len(y) - len(out))))[: len(y)]
    return out.astype(np.float32)


class NeuralVocoder:
    """Registered as ``neural_vocoder``; see :meth:`generate`."""

    name = "neural_vocoder"
    version = "1"
    modality = "voice"

    def __init__(self, *, weights: str | os.PathLike[str] | None = None) -> None:
        self.weights = Path(weights) if weights is not None else default_weights_dir() / WEIGHTS_NAME
        self._model: Any = None
        self._cfg: VocoderConfig | None = None
        self._sha: str = ""

    def _load(self) -> tuple[Any, VocoderConfig]:
        if self._model is None:
            self._model, self._cfg = load_vocoder(self.weights)
            self._sha = hashlib.sha256(self.weights.read_bytes()).hexdigest()[:16]
        assert self._cfg is not None
        return self._model, self._cfg

    def generate(
        self,
        prompt: str = "",
        *,
        seed: int,
        source_path: str | os.PathLike[str] | None = None,
        language: str = "en",
        tts: str | None = None,
        target_sr: int | None = None,
        peak: float | None = None,
        **_: Any,
    ) -> Generated:
        """Re-synthesise a real clip (``source_path``) or the TTS of ``prompt`` with the network.

        Args:
            prompt: Text to speak through TTS first, or a clip path, or "" for a seeded real clip.
            seed: Seeds the TTS choice / clip pick and the output level.
            source_path: Real clip to re-synthesise (a vocoder twin).
            language: Language of ``prompt`` for the TTS input.
            tts: TTS family for the text input (seeded otherwise).
            target_sr: Output rate (None: the network's 16 kHz).
            peak: Output peak (seeded 0.5-0.95).

        Raises:
            GeneratorUnavailableError: weights missing (build with ``python -m generators.voice.train_vocoder``).
        """
        model, cfg = self._load()
        rng = family_rng(self.name, seed)
        r_peak = round(float(rng.uniform(0.5, 0.95)), 3)
        peak = r_peak if peak is None else float(peak)
        src = resolve_vocoder_input(
            prompt, seed=seed, family=self.name, source_path=source_path, tts=tts, language=language
        )
        y = src.audio
        if src.sample_rate != cfg.sample_rate:
            y = resample(y, src.sample_rate, cfg.sample_rate)
        m = float(np.max(np.abs(y))) if y.size else 0.0
        # Trained on peak-normalised audio (times a 0.3-1.0 gain); keep the input in that range.
        if m > 1e-6:
            y = y * (0.9 / m)
        out = vocode(model, cfg, y)
        out, sr = finish(out, cfg.sample_rate, target_sr=target_sr, peak=peak)
        return Generated(
            modality="voice",
            data=out,
            generator=self.name,
            version=self.version,
            seed=int(seed),
            sample_rate=sr,
            params={
                **src.params,
                "weights": self.weights.name,
                "weights_sha256": self._sha,
                "peak": peak,
                "target_sr": target_sr,
                "engine": "Vocos-like neural vocoder (trained here)",
            },
            prompt=prompt or None,
            source=src.source,
        )


@register_generator(modality="voice", family="vocoder", needs_source=False, needs_weights=True)
def neural_vocoder(**kw: Any) -> NeuralVocoder:
    """Small Vocos-like neural vocoder trained here on real speech (torch)."""
    return NeuralVocoder(**kw)
