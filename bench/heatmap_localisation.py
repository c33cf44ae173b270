"""Does the image detector's heatmap point at the edited region? (issue #5, partial edits)

For every partial-edit item of a dataset split (items with a mask), scores the image like a scan does
(``analyze``: centre crop, per-cell calibrated heat), resizes the heat to the crop and compares the
mean heat inside the true mask with the mean outside. Prints the per-generator share of items whose
heat is higher inside, writes JSON, and draws the item with the median inside-minus-outside
difference (overlay | true mask) as a PNG: a typical example, not the best one.

    python -m bench.heatmap_localisation --data data/datasets/detector-train-image-seed0 \\
        --out docs/eval/heatmap_localisation.json --png docs/eval/heatmap_edit_inpaint.png
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.common import load_detector


def _summary(rows: list[dict]) -> dict[str, float | int]:
    return {"n": len(rows), "higher_inside": sum(x["inside"] > x["outside"] for x in rows),
            "mean_inside": float(np.mean([x["inside"] for x in rows])),
            "mean_outside": float(np.mean([x["outside"] for x in rows]))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=Path, default=Path("models"))
    ap.add_argument("--data", type=Path, required=True, help="image dataset (labels.jsonl with partial items)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--detector", default="image-residual-cnn")
    ap.add_argument("--generator", default="edit_inpaint", help="which generator's median item to draw")
    ap.add_argument("--out", type=Path, required=True, help="JSON results")
    ap.add_argument("--png", type=Path, help="example overlay PNG")
    args = ap.parse_args(argv)

    import cv2

    from detector import media
    from detector.eval.metrics import heat_inside_outside
    from detector.image.residual import overlay_heatmap
    from detector.types import MediaItem

    labels_path = args.data / "labels.jsonl"
    if not labels_path.is_file():
        print(f"{labels_path} not found (make the set with provscan generate)", file=sys.stderr)
        return 2
    det = load_detector(args.detector, args.models)
    if det is None:
        return 2
    recs = [json.loads(x) for x in labels_path.read_text("utf-8").splitlines() if x.strip()]
    recs = [r for r in recs if r.get("mask") and r.get("split") == args.split]
    if not recs:
        print(f"no partial items with masks in split {args.split!r} of {args.data}", file=sys.stderr)
        return 2
    rows = []
    for r in tqdm(recs, desc="partial items", unit="img", file=sys.stderr):
        path = args.data / r["file"]
        img = media.load_image(path)
        f = det.analyze(MediaItem(str(path), path.name, "0" * 64, "image", "", 0), img)
        mask = cv2.imread(str(args.data / r["mask"]), cv2.IMREAD_GRAYSCALE) > 127
        io = heat_inside_outside(f.evidence["heatmap"], f.evidence["heatmap_box"], mask) if f.status == "ok" else None
        if io is not None:
            rows.append({"file": r["file"], "generator": r["generator"], "score": f.score, "inside": io[0],
                         "outside": io[1], "_f": f, "_img": img, "_mask": mask})
    per_gen: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        per_gen[row["generator"]].append(row)
    summary = {g: _summary(v) for g, v in sorted(per_gen.items())}
    summary["all"] = _summary(rows)
    for g, s in summary.items():
        print(f"{g:14s} n={s['n']:3d}  heat higher inside the mask: {s['higher_inside']:3d}  "
              f"mean inside {s['mean_inside']:.3f} vs outside {s['mean_outside']:.3f}")
    example = None
    if args.png and per_gen.get(args.generator):
        cands = sorted(per_gen[args.generator], key=lambda x: x["inside"] - x["outside"])
        example = cands[len(cands) // 2]
        f = example["_f"]
        left = overlay_heatmap(example["_img"], f.evidence["heatmap"], box=f.evidence["heatmap_box"])
        right = np.repeat((example["_mask"] * 255).astype(np.uint8)[:, :, None], 3, axis=2)
        args.png.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(args.png), np.concatenate([left, right], axis=1)[:, :, ::-1])
        print(f"example {example['file']} (score {example['score']:.2f}, inside {example['inside']:.3f}, "
              f"outside {example['outside']:.3f}) -> {args.png}")
    out = {
        "detector": args.detector, "version": det.version, "data": str(args.data), "split": args.split,
        "summary": summary, "example": example and example["file"],
        "items": [{k: v for k, v in x.items() if not k.startswith("_")} for x in rows],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
