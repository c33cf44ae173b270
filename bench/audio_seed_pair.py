"""Two training seeds of an audio recipe, and their average, on held-out sets (issue #5).

One training seed moved the share of unseen volunteer voices flagged at 0.5 from 8.4 % to 3.3 %
(docs/eval/README.md, Audio, "Second seed"), so recipe choices compare two seeds, and this bench
also scores the per-clip mean of the members' calibrated log-odds (each member keeps its own
Platt map; the average is not refitted). Per set and per model: AUC, EER, TPR at 1 % FPR, ECE,
pooled and per-voice false-positive rate at 0.5. Writes JSON; writes nothing into any card.

    python -m bench.audio_seed_pair --weights /tmp/S0/detectors/audio-lfcc-cnn.pt \\
        --weights /tmp/S1/detectors/audio-lfcc-cnn.pt \\
        --data data/datasets/audio-voices-val-seed1 --data data/datasets/audio-eval-seed1 \\
        --out docs/eval/audio_voices/seed_pair.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def pair_mean(scores: list[np.ndarray]) -> np.ndarray:
    """Per-clip mean of the members' log-odds, mapped back to a probability."""
    return 1 / (1 + np.exp(-np.mean([_logit(s) for s in scores], axis=0)))


def metrics(y: np.ndarray, p: np.ndarray, voices: list[str]) -> dict[str, Any]:
    """Ranking, calibration and false positives at 0.5 (pooled and per real voice)."""
    from detector.eval.metrics import compute_metrics

    m = compute_metrics(y, p, threshold=0.5).to_dict()
    neg = y == 0
    names = np.array(voices)
    per = {v: round(float((p[neg & (names == v)] >= 0.5).mean()), 4) for v in sorted(set(names[neg].tolist()))}
    return {"auc": round(m["auc"], 4), "eer": round(m["eer"], 4), "tpr_at_1fpr": round(m["tpr_at_1fpr"], 4),
            "ece": round(m["ece"], 4), "fpr_at_0.5_pooled": round(float((p[neg] >= 0.5).mean()), 4),
            "fpr_at_0.5_per_real_source": per}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", type=Path, action="append", required=True, help="a member's .pt (give two or more)")
    ap.add_argument("--data", type=Path, action="append", required=True, help="dataset folder (its test split)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if len(args.weights) < 2:
        print("give --weights at least twice (the members of the pair)", file=sys.stderr)
        return 2
    missing = [str(p) for p in args.weights if not p.is_file()]
    missing += [str(d) for d in args.data if not (d / "labels.jsonl").is_file()]
    if missing:
        print(f"not found: {', '.join(missing)}", file=sys.stderr)
        return 2

    from detector.errors import DetectorError
    from detector.eval.report import _decode, load_model
    from detector.train.common import set_threads
    from detector.train.data import DatasetError, load_records

    set_threads()
    try:
        members = [load_model(p)[0] for p in args.weights]
    except DetectorError as exc:
        print(f"cannot load weights: {exc}", file=sys.stderr)
        return 2
    names = [f"{p.parent.parent.name}/{p.name}" if p.parent.name == "detectors" else str(p) for p in args.weights]
    result: dict[str, Any] = {"members": names, "method": "mean of the members' calibrated log-odds per clip",
                              "sets": {}}
    for data in args.data:
        try:
            recs = [r for r in load_records(data, modality="audio") if r.split == "test"]
        except DatasetError as exc:
            print(f"{data}: {exc}", file=sys.stderr)
            return 2
        if {r.label for r in recs} != {0, 1}:
            print(f"{data}: its test split needs both classes", file=sys.stderr)
            return 2
        scores = [np.zeros(len(recs)) for _ in members]
        for i, r in enumerate(tqdm(recs, desc=f"score {data.name}", unit="clip", file=sys.stderr)):
            sig = _decode(r, "audio")
            for s, det in zip(scores, members, strict=True):
                s[i] = det.score(sig)
        y = np.array([r.label for r in recs])
        voices = [r.family if r.label == 0 else "" for r in recs]
        row = {n: metrics(y, s, voices) for n, s in zip(names, scores, strict=True)}
        row["mean of members"] = metrics(y, pair_mean(scores), voices)
        result["sets"][str(data)] = {"n_real": int((y == 0).sum()), "n_synthetic": int((y == 1).sum()), **row}
        print(f"{data}: " + "; ".join(f"{k} AUC {v['auc']:.4f} FPR@0.5 {v['fpr_at_0.5_pooled']:.4f}"
                                      for k, v in row.items()), file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
