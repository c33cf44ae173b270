from __future__ import annotations

import pytest

from detector.base import DETECTORS, create_detector, list_detectors
from detector.errors import RegistryError
from detector.pipeline import load_plugins
from detector.registry import Registry

load_plugins()  # registry-wide tests are parametrized at collection time


def test_register_create_list() -> None:
    reg: Registry[int] = Registry("thing")

    @reg.register(modality="image")
    def one(**kw: int) -> int:
        return 1 + kw.get("plus", 0)

    @reg.register("two-audio", modality="audio")
    def two(**kw: int) -> int:
        return 2

    assert reg.create("one", plus=2) == 3
    assert reg.list() == ["one", "two-audio"]
    assert reg.list(modality="audio") == ["two-audio"]
    assert reg.list("t*") == ["two-audio"]
    with pytest.raises(RegistryError, match="already registered"):
        reg.register("one")(one)
    with pytest.raises(RegistryError, match="unknown thing 'nope'"):
        reg.create("nope")


def test_every_modality_has_a_detector() -> None:
    load_plugins()
    for modality in ("image", "audio", "text", "video"):
        assert list_detectors(modality=modality), modality


@pytest.mark.parametrize("name", sorted(DETECTORS.list()))
def test_registered_detectors_have_identity(name: str) -> None:
    load_plugins()
    det = create_detector(name)
    assert det.name == name and det.version and det.modality == DETECTORS.tags(name)["modality"]
