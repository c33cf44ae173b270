"""Weights files and calibrators shared by every trained detector.

One format for all: a ``torch.save`` dict of tensors, numbers, strings and lists, loaded with
``weights_only=True`` so a weights file can never run code. It holds ``kind`` (which detector
class reads it), ``version``, ``config``, ``state`` (tensors) and ``calibrator`` (Platt
parameters fitted on validation data, so the detector's ``score`` is a calibrated P(synthetic)).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from detector.errors import DetectorError, ModelMissingError

DETECTORS_SUBDIR = "detectors"


class WeightsError(DetectorError):
    """A weights file exists but is unreadable or of the wrong kind."""


@dataclass(frozen=True)
class Platt:
    """Platt scaling: P(synthetic) = sigmoid(a * raw + b), with ``a > 0`` so order is kept.

    Attributes:
        a: Slope (positive: a higher raw score never lowers the probability).
        b: Offset.
    """

    a: float = 1.0
    b: float = 0.0

    def __call__(self, raw: Any) -> Any:
        z = np.clip(self.a * np.asarray(raw, dtype=np.float64) + self.b, -40, 40)
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self) -> dict[str, float]:
        return {"a": float(self.a), "b": float(self.b)}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Platt:
        d = d or {}
        return cls(float(d.get("a", 1.0)), float(d.get("b", 0.0)))


def fit_platt(raw: Any, labels: Any, *, balanced: bool = False) -> Platt:
    """Fit Platt scaling on held-out (validation) raw scores.

    Uses Platt's target smoothing (``(N+ + 1)/(N+ + 2)`` and ``1/(N- + 2)``) so a perfectly
    separated validation set does not yield infinite slopes and 0/1 probabilities.

    Args:
        raw: Uncalibrated scores (higher = more synthetic).
        labels: 1 synthetic, 0 real.
        balanced: Weight the classes equally (each carries half the loss), so the fitted map
            assumes a 50/50 prior whatever the class counts of the calibration scores.

    Returns:
        The fitted calibrator; identity-like (``a = 1``) when a class is missing.
    """
    import torch

    x = np.asarray(raw, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    n_pos, n_neg = float(y.sum()), float(len(y) - y.sum())
    if n_pos == 0 or n_neg == 0:
        return Platt()
    t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    mu, sd = float(x.mean()), float(x.std() or 1.0)
    xs = torch.tensor((x - mu) / sd)
    tt = torch.tensor(t)
    # Unbalanced: the plain mean loss, kept as it was so earlier calibrations refit bit for bit.
    wt = torch.tensor(np.where(y == 1, 0.5 / n_pos, 0.5 / n_neg)) if balanced else None
    # Parametrise a = exp(log_a) to keep the map increasing (monotone calibration by construction).
    log_a = torch.zeros((), dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_a, b], lr=0.5, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> Any:
        opt.zero_grad()
        z = torch.exp(log_a) * xs + b
        if wt is None:
            bce = torch.nn.functional.binary_cross_entropy_with_logits(z, tt)
        else:
            bce = torch.nn.functional.binary_cross_entropy_with_logits(z, tt, weight=wt, reduction="sum")
        loss = bce + 1e-4 * log_a**2
        loss.backward()
        return loss

    opt.step(closure)
    a_std = math.exp(float(log_a.detach()))
    return Platt(a=a_std / sd, b=float(b.detach()) - a_std * mu / sd)


def resolve_models_dir(models_dir: Path | str | None) -> Path:
    """``models_dir`` or, when None (e.g. a caller without settings), ``PROVSCAN_MODELS_DIR``."""
    if models_dir is not None:
        return Path(models_dir)
    from detector.settings import Settings

    return Settings.from_env().models_dir


def weights_path(models_dir: Path | str, name: str) -> Path:
    """Where detector ``name`` keeps its weights under ``models_dir``."""
    return Path(models_dir) / DETECTORS_SUBDIR / f"{name}.pt"


def card_path(models_dir: Path | str, name: str) -> Path:
    return Path(models_dir) / DETECTORS_SUBDIR / f"{name}.yaml"


def save_weights(path: Path, payload: dict[str, Any]) -> Path:
    """Write a weights dict atomically (tmp file + rename)."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def load_weights(path: Path | str, *, kind: str | None = None, name: str | None = None) -> dict[str, Any]:
    """Read a weights dict (no code execution) and check its ``kind``.

    Args:
        path: The ``.pt`` file.
        kind: Expected ``kind`` field (None: any).
        name: Detector name for the "build with" hint when the file is missing.

    Raises:
        ModelMissingError: The file does not exist.
        WeightsError: Unreadable, or of another kind.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        hint = f"; build with: provscan models build {name}" if name else ""
        raise ModelMissingError(f"weights not found at {path}{hint}")
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"cannot read weights {path}: {exc}") from exc
    if not isinstance(payload, dict) or (kind is not None and payload.get("kind") != kind):
        got = payload.get("kind") if isinstance(payload, dict) else type(payload).__name__
        raise WeightsError(f"{path} holds {got!r} weights, expected {kind!r}")
    # Retraining with the same code must still change report idempotency keys: tag the digest.
    payload["version"] = f"{payload.get('version', '0')}+{digest[:8]}"
    payload["digest"] = digest
    return payload


def write_card(path: Path, card: dict[str, Any]) -> Path:
    """Write a model card YAML (keys in the template's order)."""
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(_plain(card), sort_keys=False, allow_unicode=True), "utf-8")
    return path


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float):
        return round(obj, 6)
    if isinstance(obj, Path):
        return str(obj)
    return obj
