"""labels.jsonl loading, generator families and leak-free splits (leave-one-family-out)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from detector.train.data import (
    DatasetError,
    generator_family,
    holdout_family,
    load_records,
    load_splits,
    split_records,
)


def _write(tmp: Path, rows: list[dict]) -> Path:
    (tmp / "labels.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return tmp


def _rows() -> list[dict]:
    rows = []
    for i, split in enumerate(["train"] * 6 + ["val"] * 2 + ["test"] * 2):
        rows.append(
            {
                "file": f"real/{i}.wav",
                "label": "real",
                "modality": "voice",
                "generator": None,
                "source": f"fillets-cs/clip{i}.ogg",
                "split": split,
            }
        )
        for gen in ("world_resynth", "world_convert", "espeak_ng"):
            rows.append(
                {
                    "file": f"synthetic/{gen}/{i}.wav",
                    "label": "synthetic",
                    "modality": "voice",
                    "generator": gen,
                    "source": f"p{i}",
                    "split": split,
                }
            )
    rows.append(
        {"file": "x.png", "label": "real", "modality": "image", "source": "skimage/a.png", "split": "train"}
    )
    return rows


def test_families() -> None:
    assert generator_family("world_resynth") == generator_family("world_convert") == "world"
    assert generator_family("text-gru") != generator_family("text-ngram")
    assert generator_family("image-diffusion-tiny") == "image-diffusion"
    assert generator_family(None) == "real"


def test_load_and_holdout(tmp_path: Path) -> None:
    recs = load_records(_write(tmp_path, _rows()), modality="audio")
    assert len(recs) == 40 and {r.modality for r in recs} == {"audio"}
    assert {r.family for r in recs if r.label == 0} == {"fillets-cs"}
    tr, va, te = split_records(recs, holdout_generator="world_resynth")
    assert not any(r.family == "world" for r in tr + va)
    # Every world item (any split) is in test; espeak test items too; no train item leaks in.
    assert sum(r.family == "world" for r in te) == 20
    assert {r.split for r in te if r.family == "espeak"} == {"test"}
    assert not ({r.path for r in tr} & {r.path for r in te})


def test_holdout_follows_a_family_field_in_the_labels(tmp_path: Path) -> None:
    """labels.jsonl may group generators into a family its names do not share; holding out one
    of them holds out the family the labels give it (before, the held-out family was taken from the
    name alone, so espeak_ng labelled into "tts-family" held out only espeak_ng's own items and
    `provscan evaluate` then looked for family "espeak")."""
    rows = [{**r, "family": "tts-family"} if r.get("generator") in ("espeak_ng", "world_convert") else r
            for r in _rows()]
    recs = load_records(_write(tmp_path, rows), modality="audio")
    assert holdout_family(recs, "espeak_ng") == "tts-family"
    assert holdout_family(recs, "world_resynth") == "world"  # no field: the name's family
    assert holdout_family(recs, "world") == "world"  # a family name itself
    assert holdout_family(recs, None) is None
    tr, va, te = split_records(recs, holdout_generator="espeak_ng")
    assert not any(r.generator in ("espeak_ng", "world_convert") for r in tr + va)
    assert sum(r.generator in ("espeak_ng", "world_convert") for r in te) == 20
    assert {r.split for r in te if r.generator == "world_resynth"} == {"test"}
    clash = [{**r, "family": "tts-" + r["split"]} if r.get("generator") == "espeak_ng" else r for r in _rows()]
    with pytest.raises(DatasetError, match="several families"):
        holdout_family(load_records(_write(tmp_path, clash), modality="audio"), "espeak_ng")


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no labels.jsonl"):
        load_records(tmp_path)
    recs = load_records(_write(tmp_path, _rows()), modality="audio")
    with pytest.raises(DatasetError, match="hold out"):
        split_records(recs, holdout_generator="nonexistent_gen")
    only_real = [r for r in recs if r.label == 0]
    with pytest.raises(DatasetError, match="both classes"):
        split_records(only_real)


def test_load_splits_needs_a_validation_split(tmp_path: Path) -> None:
    rows = _rows()
    recs, tr, va, te = load_splits(_write(tmp_path, rows), "audio")
    assert len(recs) == 40 and len(va) == 8 and len(tr) + len(va) + len(te) == 40
    # Too few training sources to carve a validation split from: a clear error, not a crash later.
    no_val = [r for r in rows if r["split"] == "test" or (r["split"] == "train" and r["source"] in
                                                           ("fillets-cs/clip0.ogg", "p0"))]
    with pytest.raises(DatasetError, match="no validation clips"):
        load_splits(_write(tmp_path, no_val), "audio", what="clips")


def test_synthetic_items_know_the_real_recording_they_were_made_from(tmp_path: Path) -> None:
    # The source-cv calibration leaves these out with their real source (detector.train.audio).
    base = {"modality": "voice", "label": "synthetic", "split": "train"}
    rows = [
        {**base, "file": "a.wav", "generator": "world_resynth", "source": "vm-INBOX.flac@32837cad664a",
         "params": {"source_path": "data/x/corpus-view/audio/asterisk-fr/vm-INBOX.flac"}},
        {**base, "file": "b.wav", "generator": "espeak_ng", "source": "fillets-nl/intro.ogg"},
        {**base, "file": "c.wav", "generator": "espeak_ng", "source": "pf2a65b7c6b"},
        {"file": "d.wav", "label": "real", "modality": "voice", "source": "fillets-nl/intro.ogg", "split": "train"},
    ]
    recs = {r.path.name: r for r in load_records(_write(tmp_path, rows))}
    assert recs["a.wav"].extra["made_from"] == "asterisk-fr"
    assert recs["b.wav"].extra["made_from"] == "fillets-nl"
    assert "made_from" not in recs["c.wav"].extra and "made_from" not in recs["d.wav"].extra
