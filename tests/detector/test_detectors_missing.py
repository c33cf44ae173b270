"""Every trained detector's factory raises ModelMissingError (with the build command) when absent."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from detector.base import DETECTORS
from detector.errors import ModelMissingError
from detector.eval.report import KIND_CLASSES
from detector.train.io import WeightsError, weights_path

# Detector modules are imported inside fixtures, not at collection: registry-wide tests elsewhere are
# parametrized at collection time and must not see weight-needing detectors they cannot build.
PLUGINS = (
    "detector.image.residual",
    "detector.image.baselines",
    "detector.audio.cnn",
    "detector.audio.gmm",
    "detector.text.detector",
)
TRAINED = [
    "image-residual-cnn",
    "image-npr-cnn",
    "image-fft-lr",
    "audio-lfcc-cnn",
    "audio-lfcc-gmm",
    "text-lm-logreg",
]


@pytest.fixture(autouse=True)
def _registered() -> None:
    import importlib

    for mod in PLUGINS:
        importlib.import_module(mod)


@pytest.mark.parametrize("name", TRAINED)
def test_missing_weights_raise(name: str, tmp_path: Path) -> None:
    assert name in DETECTORS and DETECTORS.tags(name)["calibrated"] is True
    with pytest.raises(ModelMissingError, match=f"provscan models build {name}"):
        DETECTORS.create(name, models_dir=tmp_path)


def test_wrong_kind_is_refused(tmp_path: Path) -> None:
    p = weights_path(tmp_path, "image-residual-cnn")
    p.parent.mkdir(parents=True)
    torch.save({"kind": "audio-seg-cnn", "state": {}}, p)
    with pytest.raises(WeightsError):
        DETECTORS.create("image-residual-cnn", models_dir=tmp_path)


def test_every_kind_has_a_loader() -> None:
    assert set(KIND_CLASSES) == {
        "image-patch-cnn",
        "image-fft-lr",
        "audio-seg-cnn",
        "audio-lfcc-gmm",
        "text-lm-logreg",
    }
