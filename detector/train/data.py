"""Read a ``labels.jsonl`` dataset (as written by ``provscan generate``) for training and evaluation.

Each line has at least ``file``, ``label`` (synthetic | partial | real), ``modality``,
``generator``, ``source`` and ``split`` (train | val | test). The detector package must not
import ``generators``, so this module reads the file format only.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detector.errors import DetectorError

MODALITY_ALIASES = {"voice": "audio", "speech": "audio", "audio": "audio", "image": "image", "text": "text"}


class DatasetError(DetectorError):
    """A dataset folder is missing, empty or lacks what training needs."""


@dataclass(frozen=True)
class Record:
    """One labelled item.

    Attributes:
        path: Absolute file path.
        label: 1 synthetic (synthetic or partial), 0 real.
        raw_label: The label as written (synthetic, partial, real).
        modality: image, audio or text.
        generator: Generator name for synthetic items; None for real ones.
        family: Generator family (the name's first dash-separated part) or the real source family.
        source: Source id (corpus item, prompt id) used for leak-free splitting.
        split: train, val or test.
        mask: Absolute path of a partial item's mask, if any.
    """

    path: Path
    label: int
    raw_label: str
    modality: str
    generator: str | None
    family: str
    source: str
    split: str
    mask: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def generator_family(name: str | None) -> str:
    """Family of a generator name, what leave-one-family-out holds out together.

    ``world_resynth`` and ``world_convert`` → ``world``; ``edit_inpaint`` → ``edit``;
    ``image-diffusion-tiny`` → ``image-diffusion``; ``text-gru`` stays ``text-gru`` (a two-part
    dashed name is modality + architecture). A ``family`` field in ``labels.jsonl`` wins.
    """
    if not name:
        return "real"
    if "_" in name:
        return name.split("_", 1)[0]
    parts = name.split("-")
    return "-".join(parts[:-1]) if len(parts) >= 3 else name


def real_source(rec: dict[str, Any]) -> str:
    """Real-source family of a real item (the corpus source name, e.g. ``opencv-doc``)."""
    for key in ("corpus_source", "source_name", "package"):
        if rec.get(key):
            return str(rec[key])
    src = str(rec.get("source") or "unknown")
    for sep in ("/", ":"):
        if sep in src:
            return src.split(sep, 1)[0]
    return src


def made_from(rec: dict[str, Any]) -> str | None:
    """The real source a synthetic item was made from (a re-synthesis or TTS twin of its recording), if any.

    Vocoder re-syntheses name the recording in ``params.source_path`` (corpus layout
    ``<modality>/<source>/<file>``); twins carry the corpus id ``<source>/<file>`` as ``source``.
    """
    path = (rec.get("params") or {}).get("source_path")
    if path:
        return Path(str(path)).parent.name
    # A corpus id names its source the way a real item's does; a prompt id (no "/") names none.
    return real_source(rec) if "/" in str(rec.get("source") or "") else None


def load_records(data_dir: str | Path, *, modality: str | None = None) -> list[Record]:
    """Every labelled item of a dataset folder.

    Args:
        data_dir: Folder holding ``labels.jsonl``.
        modality: Keep only this modality (``voice`` is accepted for ``audio``).

    Raises:
        DatasetError: No ``labels.jsonl`` or no matching item.
    """
    data_dir = Path(data_dir)
    lab = data_dir / "labels.jsonl"
    if not lab.is_file():
        raise DatasetError(f"no labels.jsonl in {data_dir} (make one with: provscan generate ...)")
    want = MODALITY_ALIASES.get(modality, modality) if modality else None
    out: list[Record] = []
    for n, line in enumerate(lab.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{lab}:{n}: not JSON: {exc}") from None
        mod = MODALITY_ALIASES.get(str(r.get("modality")), str(r.get("modality")))
        if want and mod != want:
            continue
        raw = str(r.get("label"))
        if raw not in ("synthetic", "partial", "real"):
            continue
        gen = r.get("generator") or None
        fam = (str(r.get("family") or generator_family(gen))) if raw != "real" else real_source(r)
        mask = r.get("mask")
        out.append(
            Record(
                path=(data_dir / r["file"]).resolve(),
                label=0 if raw == "real" else 1,
                raw_label=raw,
                modality=mod,
                generator=gen,
                family=fam,
                source=str(r.get("source") or r["file"]),
                split=str(r.get("split") or "train"),
                mask=(data_dir / mask).resolve() if mask else None,
                extra={
                    **{
                        k: r[k]
                        for k in ("text", "prompt", "language", "licence", "codec_history")
                        if r.get(k) is not None
                    },
                    **({"made_from": m} if raw != "real" and (m := made_from(r)) else {}),
                },
            )
        )
    if not out:
        raise DatasetError(f"{lab} has no {want or 'labelled'} items")
    return out


def holdout_family(recs: list[Record], holdout_generator: str | None) -> str | None:
    """The family leave-one-family-out holds out for ``holdout_generator``.

    The family the records give that generator (a ``family`` field in labels.jsonl wins over the
    name, as in :func:`load_records`), else the name's own family (a family name may be passed).
    Training, its card and ``provscan evaluate`` all resolve it here, so they hold out and report
    the same items.

    Raises:
        DatasetError: the records give the generator more than one family.
    """
    if not holdout_generator:
        return None
    fams = {r.family for r in recs if r.label == 1 and r.generator == holdout_generator}
    if len(fams) > 1:
        raise DatasetError(f"generator {holdout_generator!r} is labelled with several families: {sorted(fams)}")
    return fams.pop() if fams else generator_family(holdout_generator)


def split_records(
    recs: list[Record], *, holdout_generator: str | None = None
) -> tuple[list[Record], list[Record], list[Record]]:
    """Train / val / test lists; with ``holdout_generator`` its whole family goes to test only.

    Args:
        recs: All records.
        holdout_generator: A generator name or family; every synthetic item of that family is
            removed from train and val and added to test (leave-one-family-out).

    Raises:
        DatasetError: Training would lack a class.
    """
    held = holdout_family(recs, holdout_generator)

    def is_held(r: Record) -> bool:
        return held is not None and r.label == 1 and (r.generator == holdout_generator or r.family == held)

    train = [r for r in recs if r.split == "train" and not is_held(r)]
    val = [r for r in recs if r.split == "val" and not is_held(r)]
    test = [r for r in recs if r.split == "test" or is_held(r)]
    if held is not None and not any(is_held(r) for r in recs):
        raise DatasetError(f"no synthetic item of generator family {held!r} to hold out")
    if {r.label for r in train} != {0, 1}:
        raise DatasetError(
            f"training split needs both classes, has {dict(Counter(r.raw_label for r in train))}"
        )
    if not val:
        # Tiny datasets may have no val split: carve one from train by source, so it never leaks.
        val_src = {
            r.source for r in train if int(hashlib.sha1(r.source.encode()).hexdigest()[:8], 16) % 5 == 0
        }
        val = [r for r in train if r.source in val_src]
        train = [r for r in train if r.source not in val_src]
        if {r.label for r in train} != {0, 1}:
            train, val = train + val, []
    return train, val, test


def describe(recs: list[Record]) -> dict[str, Any]:
    """Counts per label, generator and real source (for cards and reports)."""
    return {
        "items": len(recs),
        "per_label": dict(sorted(Counter(r.raw_label for r in recs).items())),
        "per_generator": dict(sorted(Counter(r.generator for r in recs if r.label == 1).items())),
        "per_real_source": dict(sorted(Counter(r.family for r in recs if r.label == 0).items())),
        "licences": sorted({str(r.extra.get("licence")) for r in recs if r.extra.get("licence")}),
    }


def load_splits(
    data_dir: str | Path, modality: str, *, holdout_generator: str | None = None, what: str = "items"
) -> tuple[list[Record], list[Record], list[Record], list[Record]]:
    """All records of ``modality`` and their train / val / test split (see :func:`split_records`).

    Raises:
        DatasetError: no validation items, which every trainer needs to calibrate.
    """
    recs = load_records(data_dir, modality=modality)
    tr, va, te = split_records(recs, holdout_generator=holdout_generator)
    if not va:
        raise DatasetError(f"no validation {what} (needed to calibrate); add a val split or more items")
    return recs, tr, va, te
