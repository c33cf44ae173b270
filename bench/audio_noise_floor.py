"""Do quiet recordings look synthetic to the audio detector? Noise floor vs score per voice (issue #5).

Synthetic speech is silent between sounds (digital zeros); a microphone in a room never is, unless
the recording was noise-gated or its pauses cut in an editor. This scores every test clip of a
dataset with a detector and measures its noise floor (the 5th percentile of 16 ms frame energies
at 16 kHz, dBFS; -120 dB = digital silence), then reports per real voice (``corpus_source``) and
per generator the median floor, the mean score and the share at or above 0.5, the Spearman
correlation of floor and mean score across the real voices, and the false-positive rate of gated
clips (floor below ``--gated-db``) against the rest. Writes JSON and a scatter plot (PNG).

    python -m bench.audio_noise_floor --data data/datasets/audio-voices-seed1 \\
        --out docs/eval/audio_voices/noise_floor.json --png docs/eval/audio_voices/noise_floor.png
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

FRAME = 256  # 16 ms at 16 kHz
FLOOR_DB = -120.0  # what digital silence reads as (energy floor of the log)


def noise_floor_db(y: np.ndarray, *, frame: int = FRAME, pct: float = 5.0) -> float:
    """The ``pct``-th percentile of frame energies of ``y`` in dBFS (at least ``FLOOR_DB``)."""
    y = np.asarray(y, np.float64)
    n = len(y) // frame
    if n == 0:
        raise ValueError(f"clip shorter than one {frame}-sample frame")
    energy = (y[: n * frame].reshape(n, frame) ** 2).mean(axis=1)
    return float(max(FLOOR_DB, np.percentile(10 * np.log10(energy + 1e-12), pct)))


def _plot(real: dict, synth: dict, rho: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for name, v in real.items():
        ax.scatter(v["median_floor_db"], v["mean_score"], s=12 + 2 * np.sqrt(v["n"]), color="tab:blue", alpha=0.7)
        ax.annotate(name, (v["median_floor_db"], v["mean_score"]), fontsize=6, alpha=0.8)
    for name, v in synth.items():
        ax.scatter(v["median_floor_db"], v["mean_score"], marker="x", color="tab:red")
        ax.annotate(name, (v["median_floor_db"], v["mean_score"]), fontsize=6, color="tab:red")
    ax.set_xlabel("median noise floor of the clips (dBFS, 5th percentile of 16 ms frame energy)")
    ax.set_ylabel("mean calibrated score")
    ax.set_title(f"Real voices (blue, size ~ clips) and generators (red x); Spearman over voices {rho:+.2f}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="dataset with labels.jsonl (its test split is read)")
    ap.add_argument("--models", type=Path, default=Path("models"))
    ap.add_argument("--detector", default="audio-lfcc-cnn")
    ap.add_argument("--gated-db", type=float, default=-90.0, help="a clip whose floor is below this counts as gated")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--png", type=Path)
    args = ap.parse_args(argv)

    from scipy.stats import spearmanr

    from detector import media
    from detector.audio.features import resample
    from detector.errors import DetectorError

    lab = args.data / "labels.jsonl"
    if not lab.is_file():
        print(f"{args.data}: no labels.jsonl", file=sys.stderr)
        return 2
    recs = [r for r in (json.loads(x) for x in lab.read_text("utf-8").splitlines() if x.strip()) if r.get("split") == "test"]
    if not recs:
        print(f"{lab}: no test clips", file=sys.stderr)
        return 2
    det = load_detector(args.detector, args.models)
    if det is None:
        return 2
    groups: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    skipped = 0
    for r in tqdm(recs, desc="noise floor + score", unit="clip", file=sys.stderr):
        try:
            y, sr = media.load_audio(args.data / r["file"])
            floor = noise_floor_db(resample(y, sr))
            score = float(det.score((y, sr)))
        except (DetectorError, ValueError) as exc:  # undecodable or too short: counted, not fatal
            print(f"{r['file']}: {exc}", file=sys.stderr)
            skipped += 1
            continue
        if r["label"] == "real":
            who = r.get("corpus_source") or str(r.get("source", "?")).split("/")[0]
        else:
            who = r.get("generator") or "?"
        groups[(r["label"], who)].append((floor, score))

    def summary(v: list[tuple[float, float]]) -> dict:
        f, s = np.asarray([a for a, _ in v]), np.asarray([b for _, b in v])
        return {"n": len(v), "median_floor_db": round(float(np.median(f)), 1), "mean_score": round(float(s.mean()), 4),
                "share_at_or_above_0.5": round(float(np.mean(s >= 0.5)), 4)}

    real = {k: summary(v) for (label, k), v in sorted(groups.items()) if label == "real"}
    synth = {k: summary(v) for (label, k), v in sorted(groups.items()) if label != "real"}
    rho = p = None
    if len(real) >= 3:
        res = spearmanr([v["median_floor_db"] for v in real.values()], [v["mean_score"] for v in real.values()])
        rho, p = float(res.statistic), float(res.pvalue)
    clips = [c for (label, _), v in groups.items() if label == "real" for c in v]
    gated = [s for f, s in clips if f < args.gated_db]
    rest = [s for f, s in clips if f >= args.gated_db]
    result = {
        "detector": args.detector,
        "data": str(args.data),
        "floor": f"5th percentile of {FRAME}-sample frame energies at 16 kHz, dBFS (digital silence = {FLOOR_DB})",
        "spearman_floor_vs_mean_score_over_real_voices": {"rho": rho, "p": p, "voices": len(real)},
        "gated_db": args.gated_db,
        "real_gated": {"n": len(gated), "fpr_at_0.5": round(float(np.mean(np.asarray(gated) >= 0.5)), 4) if gated else None},
        "real_not_gated": {"n": len(rest), "fpr_at_0.5": round(float(np.mean(np.asarray(rest) >= 0.5)), 4) if rest else None},
        "real": real,
        "synthetic": synth,
        "skipped": skipped,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    if args.png and real:
        _plot(real, synth, rho if rho is not None else float("nan"), args.png)
    print(f"{len(real)} real voices: Spearman(floor, mean score) {rho}; gated clips FPR "
          f"{result['real_gated']['fpr_at_0.5']} (n {len(gated)}) vs others {result['real_not_gated']['fpr_at_0.5']} (n {len(rest)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
