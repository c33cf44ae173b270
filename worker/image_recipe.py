"""Image data beyond the generated training set: new-camera photos for evaluation and training (issue #5).

The image training set's test split holds only 35 distinct real photos from the same four sources
the detectors trained on, so its false-positive figures say little about a newsroom's own camera
photos. The new-camera sources (``generators.corpus_sources.NEW_CAMERA_SOURCES``: photographs by
other photographers and cameras, never in the default corpus) are split by photographer into
``NEW_CAMERA_SPLIT`` train / val / test, so a recipe may train on some photographers, be chosen
on others and be reported on the rest.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

from generators.corpus_sources import NEW_CAMERA_SOURCES
from generators.dataset import write_labels

# The 22 photographers of the new-camera sources, sorted, shuffled by random.Random(
# "new-cameras-split:0") and dealt train / val / test in turn (new_camera_split_of reproduces it):
# 8 / 7 / 7 photographers, 8 / 8 / 14 photos. Never split a photographer: their camera and their
# processing are what a model could learn.
NEW_CAMERA_SPLIT: dict[str, tuple[str, ...]] = {
    "train": ("john severns", "sergey nazarov", "us department of agriculture", "lukas baubkus", "eric pouhier",
              "jean-françois fortin tam", "sander klootwijk", "jakub mede"),
    "val": ("trevor freespace", "abhishek mudgal", "derek jensen", "blackcombwhistler", "timothy schellhase",
            "lennart poettering", "marco cogoni"),
    "test": ("charles barbin", "aitzol berasategi", "jens ansorg", "clemens engelhardt", "peter nerlich", "bolly",
             "b navez and others"),
}


class NewCameraPhotosError(ValueError):
    """The corpus holds none of the new-camera photos asked for (not built, or built without apt)."""


def photographer(author: str | None) -> str:
    """A corpus item's author string as one key per person: no years, e-mails, quotes or digits.

    ``'2018. Sander Klootwijk'`` and ``'2008, Charles Barbin <barbinch@free.fr>'`` become
    ``'sander klootwijk'`` and ``'charles barbin'``.
    """
    a = re.sub(r"<[^>]*>", "", author or "")
    a = re.sub(r"[\d\"'.,´]", " ", a)
    return " ".join(a.split()).lower()


def new_camera_split_of(photographers: list[str], seed: str = "new-cameras-split:0") -> dict[str, tuple[str, ...]]:
    """The draw behind ``NEW_CAMERA_SPLIT``: sorted, shuffled by ``random.Random(seed)``, dealt in turn."""
    names = sorted(set(photographers))
    random.Random(seed).shuffle(names)
    return {"train": tuple(names[0::3]), "val": tuple(names[1::3]), "test": tuple(names[2::3])}


def new_camera_photos(corpus: Path, split: str | None = None) -> list[Any]:
    """The new-camera corpus items (of ``NEW_CAMERA_SPLIT[split]``'s photographers, when given), by id.

    Raises:
        ValueError: Unknown split.
        NewCameraPhotosError: The corpus has none of those photos.
    """
    from generators.corpus import CorpusError, load_manifest

    if split is not None and split not in NEW_CAMERA_SPLIT:
        raise ValueError(f"unknown new-camera split {split!r} (known: {', '.join(NEW_CAMERA_SPLIT)})")
    try:
        manifest = load_manifest(corpus)
    except CorpusError as exc:  # never built (e.g. no apt here): the same "none of those photos"
        raise NewCameraPhotosError(f"{exc}; build it with provscan corpus build --dest {corpus} "
                                   f"--sources {','.join(NEW_CAMERA_SOURCES)}") from None
    items = sorted(
        (c for c in manifest if c.source in NEW_CAMERA_SOURCES
         and (split is None or photographer(c.meta.get("author")) in NEW_CAMERA_SPLIT[split])),
        key=lambda c: c.id,
    )
    if not items:
        raise NewCameraPhotosError(f"{corpus} has no photos of {', '.join(NEW_CAMERA_SOURCES)}"
                         f"{' by the ' + split + ' photographers' if split else ''}: build it with "
                         f"provscan corpus build --dest {corpus} --sources {','.join(NEW_CAMERA_SOURCES)}")
    return items


def _image_set_records(image_set: Path) -> list[dict[str, Any]]:
    """The records of a generated image set (``generators.dataset.load_labels``); ValueError, not
    an empty list, when the set was never built."""
    from generators.dataset import load_labels

    if not (image_set / "labels.jsonl").is_file():
        raise ValueError(f"{image_set} has no labels.jsonl (build it with: provscan models build image-residual-cnn)")
    return load_labels(image_set)


def make_new_cameras_set(corpus: Path, image_set: Path, out: Path, *, split: str | None = None,
                         synthetic_split: str = "test") -> Path:
    """"New cameras" evaluation set: unseen photographers' photos vs the image test split's synthetic items.

    Real: every photo of ``NEW_CAMERA_SOURCES`` in ``corpus`` (of ``NEW_CAMERA_SPLIT[split]``'s
    photographers, when given; the corpus's own split is ignored), as shipped (JPEG at 0.7-20
    megapixels), each tagged ``corpus_source`` so the report has one row per package. Synthetic:
    every synthetic item of ``image_set``'s ``synthetic_split`` split (full-frame generators and
    partial edits, as the training set wrote them). All written as split ``test``. The two classes
    differ in size and codec history as they would in a newsroom's queue; the robustness sweep of
    ``provscan evaluate`` re-encodes both.

    Args:
        corpus: A corpus built with the new-camera sources
            (``build_corpus(dest, sources=list(NEW_CAMERA_SOURCES))``).
        image_set: The image detector's training set (``detector-train-image-seed0``).
        out: Dataset folder (replaced).
        split: ``"val"`` for recipe choices, ``"test"`` for reports; None: every photo (for weights
            that trained on none of them).
        synthetic_split: The image set's split whose synthetic items are paired with the photos
            (``val`` with the val photos, so a choice never reads the test split).

    Raises:
        ValueError: The corpus has none of those photos, or the set has no synthetic test items.
    """
    recs = _image_set_records(image_set)
    syn = [r for r in recs if r["label"] != "real" and r.get("split") == synthetic_split]
    if not syn:
        raise ValueError(f"{image_set / 'labels.jsonl'} has no synthetic {synthetic_split} items")
    real = new_camera_photos(corpus, split)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rows: list[dict[str, Any]] = []
    for c in real:
        rel = Path("real") / c.source / Path(c.path).name
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / c.path, out / rel)
        rows.append({"index": len(rows), "file": rel.as_posix(), "label": "real", "modality": "image",
                     "generator": None, "source": c.id, "corpus_source": c.source, "split": "test",
                     "licence": c.licence, "author": c.meta.get("author")})
    for r in syn:
        rel = Path(r["file"])
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image_set / rel, out / rel)
        if r.get("mask"):
            shutil.copyfile(image_set / r["mask"], out / r["mask"])
        rows.append({**r, "index": len(rows)})
    return write_labels(out, rows)


def add_new_camera_photos(image_set: Path, corpus: Path, out: Path, *, per_photo: int = 16) -> Path:
    """The image training set plus ``per_photo`` training items of each train-split new-camera photo.

    ``out`` links ``image_set``'s folders (the generated set stays byte-identical and is never
    copied) and holds the added photos once each under ``newcam/``; its ``labels.jsonl`` is
    ``image_set``'s records followed by ``per_photo`` records per photo, all split ``train`` and all
    naming the one file: the trainer draws fresh patches from the whole photo each time, so the
    copies weigh a large photo against the many small gcompris ones without storing it twice.

    Args:
        image_set: The generated image training set (``detector-train-image-seed0``).
        corpus: A corpus with the new-camera sources.
        out: Dataset folder (replaced).
        per_photo: Training items per photo.
    """
    if per_photo < 1:
        raise ValueError(f"per_photo must be >= 1, got {per_photo}")
    rows = _image_set_records(image_set)
    photos = new_camera_photos(corpus, "train")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for sub in sorted(p for p in image_set.iterdir() if p.is_dir()):
        os.symlink(sub.resolve(), out / sub.name, target_is_directory=True)
    next_index = max((int(r["index"]) for r in rows), default=-1) + 1
    for c in photos:
        rel = Path("newcam") / c.source / Path(c.path).name
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / c.path, out / rel)
        for _ in range(per_photo):
            rows.append({"index": next_index, "file": rel.as_posix(), "label": "real", "modality": "image",
                         "generator": None, "source": c.id, "corpus_source": c.source, "split": "train",
                         "licence": c.licence, "author": c.meta.get("author"), "mask": None})
            next_index += 1
    return write_labels(out, rows)
