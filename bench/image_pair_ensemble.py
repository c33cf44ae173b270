"""Would averaging the two image CNNs beat either? Residual CNN, NPR CNN and their mean, per build.

    python -m bench.image_pair_ensemble --data data/datasets/detector-train-image-seed0 \\
        --models models/detectors /tmp/rebuilt/models/detectors --out docs/benchmarks/image_pair_ensemble.md

Each ``--models`` folder is one build of ``image-residual-cnn`` and ``image-npr-cnn`` (e.g. the
committed weights and a ``make models`` rebuild on another host). The ensemble is the mean of the
two detectors' calibrated log-odds (each Platt map was fitted on val by its build), so the two
scores are on one scale before they are averaged. Chosen on val; test only reported. Nothing is
trained here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PAIR = ("image-residual-cnn", "image-npr-cnn")


def calibrated_logit(det: Any, raw: float) -> float:
    """log-odds of the detector's calibrated P(synthetic), clipped so 0 and 1 stay finite."""
    import math

    p = min(max(float(det.calibrator(raw)), 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def pair_scores(models_dir: Path, data: Path) -> dict[str, dict[str, dict[str, float | None]]]:
    """{split: {"residual" | "npr" | "mean": {"all" | "partial" | "full": AUC}}} on val and test."""
    import numpy as np

    from bench.image_recipe_variants import kind_aucs
    from detector import media
    from detector.eval.report import load_model
    from detector.train.data import load_splits

    dets = [load_model(models_dir / f"{name}.pt")[0] for name in PAIR]
    _, _, va, te = load_splits(data, "image", what="images")
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for split, recs in (("val", va), ("test", te)):
        y = np.array([r.label for r in recs])
        part = np.array([r.mask is not None for r in recs])
        z = np.zeros((len(recs), 2))
        for i, r in enumerate(recs):
            img = media.load_image(r.path)
            z[i] = [calibrated_logit(d, d.raw_score(img)) for d in dets]
        out[split] = {"residual": kind_aucs(y, part, z[:, 0]), "npr": kind_aucs(y, part, z[:, 1]),
                      "mean": kind_aucs(y, part, z.mean(axis=1))}
    return out


def report(rows: list[tuple[str, dict[str, Any]]], data: Path) -> str:
    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.4f}"

    lines = [
        "## Image CNN pair: residual, NPR and their mean (per build)",
        "",
        f"`python -m bench.image_pair_ensemble --data {data} --models DIR ...`; AUC, chosen on val, test "
        "only reported. Mean = average of the two calibrated log-odds.",
        "",
        "| build | scorer | val all | val partial | val full | test all | test partial | test full |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for build, res in rows:
        for scorer in ("residual", "npr", "mean"):
            cells = " | ".join(f(res[s][scorer][k]) for s in ("val", "test") for k in ("all", "partial", "full"))
            lines.append(f"| {build} | {scorer} | {cells} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the image training set (labels.jsonl)")
    ap.add_argument("--models", type=Path, nargs="+", required=True, help="folders holding both CNNs' .pt files")
    ap.add_argument("--out", type=Path, help="Markdown table")
    args = ap.parse_args(argv)
    if not (args.data / "labels.jsonl").exists():
        print(f"image_pair_ensemble: no labels.jsonl in {args.data}", file=sys.stderr)
        return 2
    missing = [str(d / f"{n}.pt") for d in args.models for n in PAIR if not (d / f"{n}.pt").is_file()]
    if missing:
        print(f"image_pair_ensemble: missing weights: {', '.join(missing)}", file=sys.stderr)
        return 2
    rows = [(str(d), pair_scores(d, args.data)) for d in args.models]
    text = report(rows, args.data)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
