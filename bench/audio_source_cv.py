"""Out-of-source validation of audio CNN recipes: how does each treat voices it never heard? (issue #5)

The validation split shares its speakers with training (in-distribution EER there is ~0), so it
cannot choose between recipes whose difference is generalisation. This runs the cross-fitting of
``detector.train.audio.source_cv_scores`` for each recipe variant on the *training* set: the real
sources are dealt into two folds; per fold a CNN is trained without that fold's voices (and without
synthetic clips made from them) and scores those voices plus the synthetic validation clips. The
pooled out-of-source AUC / EER chooses a recipe before anything is measured on the held-out test
sets (docs/eval). Variants share the seed, the data and every other option.

    python -m bench.audio_source_cv --data data/datasets/detector-train-audio-seed0 \\
        --variant base --json /tmp/cv_base.json          # one process per variant (1 thread each)
    python -m bench.audio_source_cv --report /tmp/cv_*.json --out docs/benchmarks/audio_source_cv.md
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import emit, read_results, recipe_parser, run_args_problem, run_header

# Recipe changes tried against the shipped recipe (worker.model_builders.AUDIO_RECIPE["train"]).
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    # Label-blind speed perturbation 0.88-1.12x: voices higher and lower than the training speakers'.
    "speed": {"speed": 0.12},
    # SpecAugment frequency masks up to 16 of the 128 bins on half the training windows.
    "fmask": {"freq_mask": 16},
}


def run_variant(data: Path, variant: str, *, seed: int = 0, epochs: int | None = None) -> dict[str, Any]:
    """Out-of-source scores of one recipe variant (``out_of_source_scores``), with pooled and per-fold metrics.

    ``epochs`` overrides the recipe's (a quick check; the table is only meaningful at the recipe's).
    """
    import numpy as np

    from detector.eval.metrics import eer, roc_auc
    from detector.train.audio import out_of_source_scores
    from worker.model_builders import AUDIO_RECIPE

    recipe = {**AUDIO_RECIPE["train"], **VARIANTS[variant]}
    if epochs:
        recipe["epochs"] = int(epochs)
    started = time.perf_counter()
    raws, ys, folds = out_of_source_scores(data, seed=seed, **recipe)
    # Per fold: its held-out voices against the synthetic clips that fold model scored.
    start = 0
    for f in folds:
        n = f["n_real"] + f["n_synthetic"]
        both = f["n_real"] and f["n_synthetic"]  # a tiny set can leave a fold one class
        f["auc"] = roc_auc(ys[start : start + n], raws[start : start + n]) if both else None
        f["eer"] = eer(ys[start : start + n], raws[start : start + n])[0] if both else None
        start += n
    if len(set(ys.tolist())) < 2:
        raise SystemExit("audio_source_cv: the folds scored only one class (too few sources or clips)")
    return {
        **run_header(variant, VARIANTS[variant], seed, recipe["epochs"], data, started),
        "auc": roc_auc(ys, raws),
        "eer": eer(ys, raws)[0],
        "n_real": int((ys == 0).sum()),
        "n_synthetic": int((ys == 1).sum()),
        "real_scores_mean": float(np.mean(raws[ys == 0])),
        "folds": folds,
        # Same clips in the same order for every variant (same data and seed): a paired comparison.
        "scores": [round(float(x), 5) for x in raws],
        "labels": [int(x) for x in ys],
    }


def auc_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an AUC (Hanley & McNeil, 1982): how far two variants must differ to matter."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)
    return float(max(var, 0.0) / (n_pos * n_neg)) ** 0.5


def paired_delta_auc(base: dict[str, Any], other: dict[str, Any], *, n_boot: int = 2000, seed: int = 0) -> tuple:
    """AUC(other) - AUC(base) on the same clips with a 95 % paired-bootstrap interval; None without stored scores."""
    import numpy as np

    from detector.eval.metrics import roc_auc

    if "scores" not in base or "scores" not in other or base["labels"] != other["labels"]:
        return None
    y = np.asarray(base["labels"])
    a, b = np.asarray(base["scores"]), np.asarray(other["scores"])
    rng = np.random.default_rng(seed)
    pos, neg = np.nonzero(y == 1)[0], np.nonzero(y == 0)[0]
    deltas = []
    for _ in range(n_boot):  # resample each class separately: both stay present
        i = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        deltas.append(roc_auc(y[i], b[i]) - roc_auc(y[i], a[i]))
    lo, hi = np.percentile(deltas, [2.5, 97.5])
    return roc_auc(y, b) - roc_auc(y, a), float(lo), float(hi)


def report(results: list[dict[str, Any]]) -> str:
    base = next((r for r in results if r["variant"] == "base"), None)
    lines = [
        "## Audio CNN recipes: out-of-source validation",
        "",
        "`python -m bench.audio_source_cv --data DATA --variant V --json OUT` per variant (one process each), then "
        "`--report`. Each real-source fold scored by a CNN trained without its voices (and without synthetic clips "
        "made from them) against the synthetic validation clips; same seed and data for every variant. "
        "Training data only: nothing here touches the held-out test sets.",
        "",
        "| variant | changes | out-of-source AUC (± SE) | AUC - base [95 % paired bootstrap] | EER | EER ratio to base "
        "| per fold EER | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = f"{r['eer'] / base['eer']:.2f}" if base and base["eer"] else "-"
        d = paired_delta_auc(base, r) if base and r is not base else None
        delta = f"{d[0]:+.4f} [{d[1]:+.4f}, {d[2]:+.4f}]" if d else "-"
        se = auc_se(r["auc"], r["n_synthetic"], r["n_real"])
        per = " / ".join(
            f"{'-' if f['eer'] is None else format(f['eer'], '.1%')} ({', '.join(f['held_out_real_sources'])})"
            for f in r["folds"]
        )
        lines.append(
            f"| {r['variant']} | {json.dumps(r['changes']) if r['changes'] else 'shipped recipe'} | {r['auc']:.4f} "
            f"± {se:.4f} | {delta} | {r['eer']:.1%} | {ratio} | {per} | {r['seconds']:.0f} |"
        )
    n = results[0]
    lines += ["", f"{n['n_real']} real clips (every train+val clip of each fold's voices), {n['n_synthetic']} synthetic "
              f"validation clips; data `{n['data']}`, seed {n['seed']}, {n['epochs']} epochs. SE: Hanley & McNeil (1982); "
              "the paired interval needs the per-clip scores the JSON files keep (since they were added; '-' without)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = recipe_parser(__doc__.split("\n")[0], list(VARIANTS), "audio").parse_args(argv)
    if args.report:
        results = read_results(args.report, "audio_source_cv")
        if results is None:
            return 2
        results.sort(key=lambda r: (r["variant"] != "base", r["variant"]))
        emit(report(results), args.out)
        return 0
    why = run_args_problem(args)
    if why:
        print(f"audio_source_cv: {why}", file=sys.stderr)
        return 2
    res = run_variant(args.data, args.variant, seed=args.seed, epochs=args.epochs)
    args.json.write_text(json.dumps(res, indent=1) + "\n")
    print(json.dumps({k: res[k] for k in ("variant", "auc", "eer", "seconds")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
