"""Image CNN recipe variants side by side on the validation split, over seeds (issue #5).

The image test split has 35 distinct real photos and 14 items per generator, and two seeds of the
same recipe differ by ~0.01 in AUC (more on partial edits): one run per variant proves nothing. This
trains the main detector (``image-residual-cnn`` only, the recipe of the committed weights plus the
variant's options) once per seed and scores the validation and test splits: all items, partial
edits vs real and full-frame generators vs real. A variant is chosen on **validation** by a rule
fixed before its runs (docs/eval/README.md); test figures are reported, never used to choose.

    python -m bench.image_recipe_variants --data data/datasets/detector-train-image-seed0 \\
        --variant anchor --seed 1 --json /tmp/v_anchor_1.json        # one process per run (1 thread)
    python -m bench.image_recipe_variants --data DATA --variant base --seed 0 \\
        --weights models/detectors/image-residual-cnn.pt --json /tmp/v_base_0.json   # the committed weights
    python -m bench.image_recipe_variants --data DATA --variant balance --held opencv --json /tmp/o_balance_opencv.json
    python -m bench.image_recipe_variants --report /tmp/v_*.json /tmp/o_*.json --out docs/benchmarks/image_recipe_variants.md

``--held SOURCE``: the out-of-source check instead (``detector.train.image.out_of_source_scores``): a
main CNN trained without that real source's photos scores them against the validation synthetic
items, for recipe changes aimed at unfamiliar cameras, which the validation split cannot see.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import emit, read_results, recipe_parser, run_args_problem, run_header

# Recipe changes tried against the shipped recipe (worker.model_builders.DETECTOR_RECIPES["image"]).
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    # Partial-edit patches keep a drawn edited pixel in their central half (no edit-free positives).
    "anchor": {"mask_anchor": True},
    # Real photos drawn with weight n_source ** -0.5: gcompris 52 % of real patches instead of 80 %.
    "balance": {"real_balance": 0.5},
}


def kind_aucs(y: Any, part: Any, s: Any) -> dict[str, float | None]:
    """AUC of all items, of partial edits vs real and of full-frame generators vs real (None: one class)."""
    import numpy as np

    from detector.eval.metrics import roc_auc

    y, part, s = np.asarray(y), np.asarray(part, dtype=bool), np.asarray(s)
    kinds = {"all": np.ones_like(part), "partial": (y == 0) | part, "full": (y == 0) | ((y == 1) & ~part)}
    return {k: roc_auc(y[m], s[m]) if len(set(y[m].tolist())) == 2 else None for k, m in kinds.items()}


def split_scores(weights: Path, data: Path) -> dict[str, Any]:
    """Raw scores and AUCs (all / partial edits vs real / full-frame vs real) on val and test."""
    import numpy as np

    from detector import media
    from detector.eval.report import load_model
    from detector.train.data import load_splits

    det, _ = load_model(weights)
    _, _, va, te = load_splits(data, "image", what="images")
    out: dict[str, Any] = {}
    for split, recs in (("val", va), ("test", te)):
        y = np.array([r.label for r in recs])
        s = np.array([det.raw_score(media.load_image(r.path)) for r in recs])
        part = np.array([r.mask is not None for r in recs])
        res = kind_aucs(y, part, s)
        out[split] = {
            **res,
            "n_real": int((y == 0).sum()),
            "n_partial": int(part.sum()),
            "n_full": int(((y == 1) & ~part).sum()),
            # Same items in the same order for every run (same data): paired comparisons stay possible.
            "items": [r.path.name for r in recs],
            "scores": [round(float(x), 5) for x in s],
            "labels": [int(x) for x in y],
        }
    return out


def run_variant(
    data: Path, variant: str, *, seed: int = 0, epochs: int | None = None, weights: Path | None = None
) -> dict[str, Any]:
    """Train the main image CNN of one variant (or take ``weights``) and score val and test."""
    from detector.train.image import train_image

    recipe = _recipe(variant, epochs)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="imgvar-") as tmp:
        path = weights or train_image(data, tmp, seed=seed, baselines=False, **recipe)
        res = split_scores(Path(path), data)
    return {
        **run_header(variant, VARIANTS[variant], seed, recipe["epochs"], data, started),
        "weights": str(weights) if weights else "trained in this run",
        **res,
    }


def _recipe(variant: str, epochs: int | None) -> dict[str, Any]:
    """The shipped image recipe with one variant's changes (and a quick-check epoch override)."""
    from worker.model_builders import DETECTOR_RECIPES

    recipe = {**DETECTOR_RECIPES["image"]["train"], **VARIANTS[variant]}
    if epochs:
        recipe["epochs"] = int(epochs)
    return recipe


def run_held(data: Path, variant: str, held: list[str], *, seed: int = 0, epochs: int | None = None) -> dict[str, Any]:
    """Out-of-source scores of one variant with ``held`` real sources kept out of training."""
    from detector.eval.metrics import roc_auc
    from detector.train.image import out_of_source_scores

    recipe = _recipe(variant, epochs)
    started = time.perf_counter()
    res = out_of_source_scores(data, held, seed=seed, **recipe)
    return {
        **run_header(variant, VARIANTS[variant], seed, recipe["epochs"], data, started),
        "mode": "out-of-source",
        "auc": roc_auc(res["labels"], res["scores"]),
        **res,
    }


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.4f}"


def report_held(results: list[dict[str, Any]]) -> list[str]:
    """Out-of-source rows: AUC per held-out source and pooled over them, per variant and seed."""
    import numpy as np

    from detector.eval.metrics import roc_auc

    lines = ["", "### Out-of-source check (real sources kept out of training; training and validation data only)", "",
             "| variant | seed | per held-out source: AUC (real photos vs val synthetic) | pooled AUC |", "|---|---|---|---|"]
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["variant"], r["seed"]), []).append(r)
    for (v, seed), rs in sorted(groups.items(), key=lambda kv: (kv[0][0] != "base", kv[0])):
        rs.sort(key=lambda r: r["held_sources"])
        per = ", ".join(f"{'+'.join(r['held_sources'])} ({r['n_real']} photos) {r['auc']:.4f}" for r in rs)
        pooled = roc_auc(np.concatenate([r["labels"] for r in rs]), np.concatenate([r["scores"] for r in rs]))
        lines.append(f"| {v} | {seed} | {per} | {pooled:.4f} |")
    lines += ["", "Pooled: every fold's held-out real photos and the validation synthetic items each fold model "
              "scored, in one ranking."]
    return lines


def report(results: list[dict[str, Any]]) -> str:
    held = [r for r in results if r.get("mode") == "out-of-source"]
    results = [r for r in results if r.get("mode") != "out-of-source"]
    if not results:
        return "\n".join(report_held(held)[1:]) + "\n"
    cols = [("val", "all"), ("val", "partial"), ("val", "full"), ("test", "all"), ("test", "partial"), ("test", "full")]
    lines = [
        "## Image CNN recipe variants (main detector, per seed)",
        "",
        "`python -m bench.image_recipe_variants --data DATA --variant V --seed S --json OUT` per run (one process "
        "each), then `--report`. Chosen on val; test only reported.",
        "",
        "| variant | changes | seed | val all | val partial | val full | test all | test partial | test full | weights |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = sorted(results, key=lambda r: (r["variant"] != "base", r["variant"], r["seed"]))
    for r in order:
        cells = " | ".join(_fmt(r[s][k]) for s, k in cols)
        ch = json.dumps(r["changes"]) if r["changes"] else "shipped recipe"
        lines.append(f"| {r['variant']} | {ch} | {r['seed']} | {cells} | {r['weights']} |")
    lines += ["", "Mean over seeds:", "", "| variant | seeds | " + " | ".join(f"{s} {k}" for s, k in cols) + " |",
              "|---|---|" + "---|" * len(cols)]
    for v in dict.fromkeys(r["variant"] for r in order):
        rs = [r for r in order if r["variant"] == v]
        means = []
        for s, k in cols:
            vals = [r[s][k] for r in rs if r[s][k] is not None]
            means.append(sum(vals) / len(vals) if vals else None)
        lines.append(f"| {v} | {', '.join(str(r['seed']) for r in rs)} | " + " | ".join(_fmt(m) for m in means) + " |")
    n = order[0]
    lines += ["", f"val: {n['val']['n_real']} real, {n['val']['n_full']} full-frame, {n['val']['n_partial']} partial-edit "
              f"items; test: {n['test']['n_real']} / {n['test']['n_full']} / {n['test']['n_partial']}; data `{n['data']}`, "
              f"{n['epochs']} epochs. Raw (uncalibrated) scores; AUC is unchanged by the Platt map."]
    if held:
        lines += report_held(held)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = recipe_parser(__doc__.split("\n")[0], list(VARIANTS), "image")
    ap.add_argument("--weights", type=Path, help="score these weights instead of training (e.g. the committed ones)")
    ap.add_argument("--held", help="real source(s) to keep out, comma-separated: the out-of-source check")
    args = ap.parse_args(argv)
    if args.report:
        results = read_results(args.report, "image_recipe_variants")
        if results is None:
            return 2
        emit(report(results), args.out)
        return 0
    why = run_args_problem(args)
    if why:
        print(f"image_recipe_variants: {why}", file=sys.stderr)
        return 2
    if args.weights is not None and not args.weights.is_file():
        print(f"image_recipe_variants: no weights file {args.weights}", file=sys.stderr)
        return 2
    if args.held:
        try:
            res = run_held(args.data, args.variant, args.held.split(","), seed=args.seed, epochs=args.epochs)
        except ValueError as e:
            print(f"image_recipe_variants: {e}", file=sys.stderr)
            return 2
        args.json.write_text(json.dumps(res, indent=1) + "\n")
        print(json.dumps({"variant": res["variant"], "held": res["held_sources"], "auc": res["auc"]}))
        return 0
    res = run_variant(args.data, args.variant, seed=args.seed, epochs=args.epochs, weights=args.weights)
    args.json.write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps({"variant": res["variant"], "seed": res["seed"], "val": res["val"]["all"], "test": res["test"]["all"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
