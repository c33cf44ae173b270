"""Argument parsers and handlers for ``provscan train`` and ``provscan evaluate`` (wired by worker/cli.py).

    provscan train image|audio|text --data DIR [--models-dir DIR] [--seed 0] [--epochs N]
                   [--holdout-generator NAME] [--no-baselines] [--calibration source-cv|val]
    provscan evaluate MODEL --data DIR --out DIR [--models-dir DIR] [--no-robustness]
                   [--split test] [--holdout-generator NAME] [--max-items N] [--json]

``MODEL`` is a detector name (weights under ``<models-dir>/detectors``) or a ``.pt`` path.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_train_args(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of ``provscan train``."""
    p.add_argument("modality", choices=["image", "audio", "voice", "text"])
    p.add_argument("--data", required=True, type=Path, help="dataset folder with labels.jsonl")
    p.add_argument("--models-dir", type=Path, default=None, help="default: PROVSCAN_MODELS_DIR")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--holdout-generator", default=None, help="leave this generator's family out of training")
    p.add_argument("--no-baselines", action="store_true", help="train the main detector only")
    p.add_argument(
        "--calibration",
        choices=["source-cv", "val"],
        default=None,
        help="audio only: fit the CNN's Platt map on voices the scoring model never heard (source-cv, the "
        "default: two more CNN trainings) or on the validation split (val: quicker, over-states for new voices)",
    )
    return p


def cmd_train(args: argparse.Namespace) -> int:
    """Run ``train_detector``; prints the main weights path on stdout."""
    from detector.train import train_detector
    from detector.train.io import resolve_models_dir

    kw = {}
    if args.calibration:
        if args.modality not in ("audio", "voice"):
            print(f"provscan train: --calibration applies to audio only, not {args.modality}", file=sys.stderr)
            return 2
        kw["calibration"] = args.calibration
    path = train_detector(
        args.modality,
        args.data,
        resolve_models_dir(args.models_dir),
        seed=args.seed,
        epochs=args.epochs,
        holdout_generator=args.holdout_generator,
        baselines=not args.no_baselines,
        **kw,
    )
    print(path)
    return 0


def add_evaluate_args(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of ``provscan evaluate``."""
    p.add_argument("model", help="detector name or weights .pt path")
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path, help="report folder (summary.md, results.json, plots)")
    p.add_argument("--models-dir", type=Path, default=None)
    p.add_argument("--no-robustness", action="store_true")
    p.add_argument("--split", default="test", help="held-out split (test; 'all' only for foreign data)")
    p.add_argument("--holdout-generator", default=None)
    p.add_argument("--max-items", type=int, default=None, help="cap per class for a quick look")
    p.add_argument("--json", action="store_true", help="print results.json on stdout")
    return p


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Run ``evaluate``; prints the Markdown summary (or the JSON results) on stdout."""
    from detector.eval.report import evaluate, summary_markdown

    res = evaluate(
        args.model,
        args.data,
        out_dir=args.out,
        robustness=not args.no_robustness,
        models_dir=args.models_dir,
        split=args.split,
        holdout_generator=args.holdout_generator,
        max_items=args.max_items,
    )
    sys.stdout.write(json.dumps(res) + "\n" if args.json else summary_markdown(res))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m detector.train.cli train|evaluate ...`` (same options as the provscan commands)."""
    ap = argparse.ArgumentParser(prog="python -m detector.train.cli")
    sub = ap.add_subparsers(dest="cmd", required=True)
    add_train_args(sub.add_parser("train")).set_defaults(fn=cmd_train)
    add_evaluate_args(sub.add_parser("evaluate")).set_defaults(fn=cmd_evaluate)
    args = ap.parse_args(argv)
    return int(args.fn(args))


if __name__ == "__main__":
    raise SystemExit(main())
