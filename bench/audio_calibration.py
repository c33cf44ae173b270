"""Same audio weights, two Platt maps: fitted on the validation split vs on unseen voices (issue #5).

The validation split shares its speakers with training, so a map fitted there is as sure of
"human" as the model is for voices it knows. ``detector.train.audio.source_cv_calibration`` fits
the shipped map on out-of-source scores instead. This check scores the weights' raw (uncalibrated)
clip scores once and compares both maps on held-out sets (no transform): ECE, accuracy, the share
of synthetic clips at or above 0.5 and, per real source, the share of human clips at or above 0.5.
The ranking (AUC) is the same for both maps by construction. Writes JSON and a reliability plot.

    python -m bench.audio_calibration --models models --train data/datasets/detector-train-audio-seed0 \\
        --data data/datasets/audio-eval-seed1 --data data/datasets/audio-phone-seed1 \\
        --out docs/eval/audio_confound/calibration.json --png docs/eval/audio_confound/calibration.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm


def _raw(det: object, recs: list) -> np.ndarray:
    from detector import media

    out = []
    for r in tqdm(recs, desc="raw scores", file=sys.stderr, leave=False):
        try:
            out.append(det.raw_score(media.load_audio(r.path)))  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - an unreadable or too-short clip is counted, not fatal
            print(f"skipped {r.path.name}: {exc}", file=sys.stderr)
            out.append(np.nan)
    return np.asarray(out, dtype=np.float64)


def _summary(p: np.ndarray, y: np.ndarray, fams: list[str]) -> dict:
    from detector.eval.metrics import compute_metrics

    m = compute_metrics(y, p).to_dict()
    per = {}
    for f in sorted({f for f, yy in zip(fams, y, strict=True) if yy == 0}):
        s = np.array([pp for pp, ff, yy in zip(p, fams, y, strict=True) if yy == 0 and ff == f])
        per[f] = {"n": int(len(s)), "fpr_at_0.5": round(float((s >= 0.5).mean()), 4), "mean": round(float(s.mean()), 3)}
    return {
        "ece": round(m["ece"], 4),
        "accuracy_at_0.5": round(m["accuracy"], 4),
        "auc": round(m["auc"], 4),
        "tpr_at_0.5": round(float((p[y == 1] >= 0.5).mean()), 4),
        "per_real_source": per,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=Path, default=Path("models"))
    ap.add_argument("--detector", default="audio-lfcc-cnn")
    ap.add_argument("--train", type=Path, required=True, help="the training set (its val split refits the val map)")
    ap.add_argument("--data", type=Path, action="append", required=True, help="held-out set (repeatable)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--png", type=Path)
    args = ap.parse_args(argv)

    from detector.audio.cnn import KIND, SegmentCNNDetector
    from detector.errors import DetectorError
    from detector.eval.metrics import reliability
    from detector.train.data import load_records, load_splits
    from detector.train.io import Platt, fit_platt, load_weights

    wpath = args.models / "detectors" / f"{args.detector}.pt"
    if not wpath.is_file():
        print(f"no weights at {wpath} (build them: provscan models build {args.detector})", file=sys.stderr)
        return 2
    try:
        payload = load_weights(wpath, kind=KIND, name=args.detector)
        _, _, va, _ = load_splits(args.train, "audio")
        for d in args.data:
            load_records(d, modality="audio")
    except DetectorError as exc:  # DatasetError included: a clear message, not a traceback
        print(f"audio_calibration: {exc}", file=sys.stderr)
        return 2
    det = SegmentCNNDetector(args.detector, payload)
    vraw, vy = _raw(det, va), np.array([r.label for r in va])
    ok = ~np.isnan(vraw)
    maps = {"val": fit_platt(vraw[ok], vy[ok]), "shipped": Platt.from_dict(payload.get("calibrator"))}
    out: dict = {
        "detector": args.detector,
        "weights": str(wpath),
        "shipped_method": "see the card's calibration.method",
        "maps": {k: v.to_dict() for k, v in maps.items()},
        "val_clips": int(ok.sum()),
        "sets": {},
    }
    curves = []
    for d in args.data:
        recs = [r for r in load_records(d, modality="audio") if r.split == "test"]
        x = _raw(det, recs)
        keep = ~np.isnan(x)
        y = np.array([r.label for r in recs])[keep]
        fams = [r.family for r, k in zip(recs, keep, strict=True) if k]
        out["sets"][d.name] = {"skipped": int((~keep).sum())}
        for name, cal in maps.items():
            p = cal(x[keep])
            out["sets"][d.name][name] = _summary(p, y, fams)
            curves.append((d.name, name, reliability(y, p)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n", "utf-8")
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        sets = list(out["sets"])
        fig, axes = plt.subplots(1, len(sets), figsize=(5 * len(sets), 4.6), squeeze=False)
        for ax, s in zip(axes[0], sets, strict=True):
            ax.plot([0, 1], [0, 1], color="0.7", lw=1)
            for ds, name, rel in curves:
                if ds != s:
                    continue
                b = [(m, f) for m, f, c in zip(rel.mean_score, rel.frac_positive, rel.count, strict=True) if c]
                ax.plot([m for m, _ in b], [f for _, f in b], marker="o", label=f"{name} map (ECE {rel.ece:.3f})")
            ax.set(title=s, xlabel="mean calibrated score in bin", ylabel="share synthetic", xlim=(0, 1), ylim=(0, 1))
            ax.legend(loc="upper left")
        fig.suptitle(f"{args.detector}: Platt map fitted on val vs shipped map (held-out clips, no transform)")
        fig.tight_layout()
        args.png.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.png, dpi=100)
    print(json.dumps({s: {k: v["ece"] for k, v in o.items() if isinstance(v, dict)} for s, o in out["sets"].items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
