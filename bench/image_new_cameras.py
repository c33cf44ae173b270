"""Are photos from new cameras flagged more often than the familiar ones? Per-photo image scores.

    python -m bench.image_new_cameras --data data/datasets/image-new-cameras-test \\
        --train-set data/datasets/detector-train-image-seed0 \\
        --out docs/eval/image_new_cameras/test/per_photo.json --png docs/eval/image_new_cameras/test/per_photo.png

Every image detector's score (calibrated P(synthetic), the figure a scan shows) for each real photo
of the new-cameras set (``worker/image_recipe.py``: photographers and cameras no training set draws
from), next to the training set's real test photos (the sources the detectors trained on, photos
they did not) and its synthetic test items. The peer of each new-camera figure is the familiar
photos' figure from the same run. Nothing is trained here. With ``--split val`` on the val-split
photographers' set (``make_new_cameras_set(..., split="val", synthetic_split="val")``) and one run's
``--models`` folder, it gives the figures the image recipe was chosen by
(docs/eval/image_new_cameras/new_camera_photos_recipe.json).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DETECTORS = ("image-residual-cnn", "image-npr-cnn", "image-fft-lr")
GROUPS = ("familiar real", "new cameras", "full-frame synthetic", "partial edits")
THRESHOLD = 0.5  # the cards' score threshold (no verdict threshold is published for images)


def _group(r: Any, new_camera: bool) -> str:
    if r.label == 0:
        return "new cameras" if new_camera else "familiar real"
    return "partial edits" if r.mask is not None else "full-frame synthetic"


def _auc(real: Any, synthetic: Any) -> float | None:
    """ROC AUC of synthetic over real scores; None when either side is empty (a set without edits)."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    if not len(real) or not len(synthetic):
        return None
    return float(roc_auc_score(np.r_[np.zeros(len(real)), np.ones(len(synthetic))], np.r_[real, synthetic]))


def score_photos(data: Path, train_set: Path, models: Path, *, split: str = "test",
                 detectors: tuple[str, ...] = DETECTORS) -> dict[str, Any]:
    """{"photos": [{file, group, source, author, scores: {detector: p}}], "summary": {detector: {...}}}."""
    import numpy as np
    from tqdm import tqdm

    import detector.image.baselines  # noqa: F401  (registers the NPR and FFT baselines)
    from bench.common import load_detector
    from detector import media
    from detector.train.data import load_records

    dets = {name: load_detector(name, models) for name in detectors}
    if any(d is None for d in dets.values()):
        raise SystemExit(2)
    new = [r for r in load_records(data, modality="image") if r.label == 0]
    ref = [r for r in load_records(train_set, modality="image") if r.split == split]
    if not new or not ref:
        raise SystemExit(f"no real photos in {data} or no {split} items in {train_set}")
    meta = {json.loads(x)["file"]: json.loads(x) for x in (data / "labels.jsonl").read_text("utf-8").splitlines() if x}
    rows: list[dict[str, Any]] = []
    for r, is_new in tqdm([(r, True) for r in new] + [(r, False) for r in ref], desc="score photos", file=sys.stderr):
        img = media.load_image(r.path)
        m = meta.get(Path(r.path).relative_to(data.resolve()).as_posix(), {}) if is_new else {}
        rows.append({"file": Path(r.path).name, "group": _group(r, is_new), "source": r.family,
                     "author": m.get("author"), "pixels": int(img.shape[0] * img.shape[1]),
                     "scores": {n: round(float(d.score(img)), 4) for n, d in dets.items()}})
    summary: dict[str, Any] = {}
    for n in detectors:
        by = {g: np.array([x["scores"][n] for x in rows if x["group"] == g]) for g in GROUPS}
        syn = np.concatenate([by["full-frame synthetic"], by["partial edits"]])
        summary[n] = {  # None for a group with no items (a set without partial edits)
            **{f"flagged_{g.replace(' ', '_')}": float((by[g] >= THRESHOLD).mean()) if len(by[g]) else None
               for g in GROUPS},
            **{f"median_{g.replace(' ', '_')}": float(np.median(by[g])) if len(by[g]) else None for g in GROUPS},
            **{f"auc_{g.replace(' ', '_')}_vs_{k.replace(' ', '_').replace('-', '_')}": _auc(by[g], pos)
               for g in ("familiar real", "new cameras")
               for k, pos in (("synthetic", syn), ("full-frame", by["full-frame synthetic"]),
                              ("partial edits", by["partial edits"]))},
        }
    counts = {g: sum(x["group"] == g for x in rows) for g in GROUPS}
    return {"threshold": THRESHOLD, "split": split, "counts": counts, "summary": summary, "photos": rows}


def plot(res: dict[str, Any], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rng = np.random.default_rng(0)  # jitter only
    names = list(res["summary"])
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 4.2), sharey=True, squeeze=False)
    axes = axes[0]
    colours = ("tab:blue", "tab:green", "tab:red", "tab:orange")
    for ax, n in zip(axes, names, strict=True):
        for k, (g, c) in enumerate(zip(GROUPS, colours, strict=True)):
            v = [x["scores"][n] for x in res["photos"] if x["group"] == g]
            ax.scatter(k + rng.uniform(-0.25, 0.25, len(v)), v, s=12, alpha=0.7, color=c)
        ax.axhline(res["threshold"], color="grey", lw=0.8, ls="--")
        ax.set_xticks(range(len(GROUPS)), [f"{g}\n(n={res['counts'][g]})" for g in GROUPS], fontsize=7)
        s = res["summary"][n]
        ax.set_title(f"{n}\nflagged: familiar {s['flagged_familiar_real']:.0%}, new {s['flagged_new_cameras']:.0%}",
                     fontsize=9)
    axes[0].set_ylabel("score (calibrated P(synthetic))")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="new-cameras set (worker.image_recipe.make_new_cameras_set)")
    ap.add_argument("--train-set", type=Path, required=True, help="the detectors' training set (its test split)")
    ap.add_argument("--split", default="test", choices=["val", "test"],
                    help="the training set's split whose items are the familiar peers and the synthetic side")
    ap.add_argument("--models", type=Path, default=Path("models"), help="models root (its detectors/ folder)")
    ap.add_argument("--detectors", default=",".join(DETECTORS), help="comma-separated image detectors")
    ap.add_argument("--out", type=Path, default=None, help="JSON results (default: stdout)")
    ap.add_argument("--png", type=Path, default=None, help="strip plot of every score")
    args = ap.parse_args(argv)
    for p in (args.data, args.train_set):
        if not (p / "labels.jsonl").is_file():
            print(f"{p} has no labels.jsonl", file=sys.stderr)
            return 2
    res = score_photos(args.data, args.train_set, args.models, split=args.split,
                       detectors=tuple(d for d in args.detectors.split(",") if d))
    text = json.dumps(res, indent=1, sort_keys=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    else:
        print(text)
    if args.png:
        plot(res, args.png)
    for n, s in res["summary"].items():
        print(f"{n}: flagged at {THRESHOLD}: familiar real {s['flagged_familiar_real']:.1%} vs new cameras "
              f"{s['flagged_new_cameras']:.1%}; AUC vs synthetic {s['auc_familiar_real_vs_synthetic']:.3f} vs "
              f"{s['auc_new_cameras_vs_synthetic']:.3f}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
