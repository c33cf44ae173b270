"""Every registered generator's output, as a scanner sees it: a valid C2PA manifest declaring AI
and our watermark found by our own detector code."""

from __future__ import annotations

import pytest

from generators.base import GENERATORS, list_generators
from generators.dataset import generate_dataset
from generators.verify import verify_dataset


@pytest.mark.parametrize("modality", ["image", "voice", "text"])
def test_every_family_is_signed_and_marked(tmp_path, settings, modality) -> None:
    import generators.image  # noqa: F401  (register the families)
    import generators.text  # noqa: F401
    import generators.voice  # noqa: F401

    # The shipped families only (other tests register throwaway generators in the same registry).
    families = [n for n in list_generators(modality=modality)
                if GENERATORS.entry(n).factory.__module__.startswith(f"generators.{modality}.")]
    assert len(families) >= 2
    out = tmp_path / modality
    summary = generate_dataset(modality=modality, count=len(families), out=out, seed=11, settings=settings,
                               generators=families, progress=False)
    assert not summary.failed, summary.failed
    tallies = verify_dataset(out, settings=settings, progress=False)
    assert set(tallies) == set(families)  # round-robin: one item per family
    for name, t in tallies.items():
        assert t.items == 1
        assert t.watermark_detected == 1, (name, t.failures)
        if modality != "text":
            assert t.c2pa_valid == 1 and t.c2pa_declares_ai == 1, (name, t.failures)
        if modality == "image":
            assert t.payload_recovered == 1, name
