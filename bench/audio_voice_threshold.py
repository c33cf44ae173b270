"""The audio CNN's per-voice verdict threshold (worker/audio_threshold.py): its fit, its check on voices it
never heard, and what it catches (issue #5, Fusion: a label band for a published human FPR).

Fits and checks exactly as ``provscan threshold audio-lfcc-cnn --corpus data/corpus-audio --per-voice
--synthetic DATA`` does (rule: docs/eval/audio_threshold/worst_voice_rule.json; the first ``--data`` is
its usefulness check, TPR >= 20 % on the wideband synthetic clips), then scores the synthetic test
clips of the other evaluation sets at that threshold (true-positive rate per set and per generator). Writes
JSON and a PNG (per-voice false-positive rates, TPR per generator); writes nothing into any card (the
CLI does: its card entry is this JSON's ``threshold``).

    python -m bench.audio_voice_threshold --corpus data/corpus-audio \\
        --data data/datasets/audio-eval-seed1 --data data/datasets/audio-phone-seed1 \\
        --data data/datasets/audio-voices-heldout-seed1 \\
        --out docs/eval/audio_threshold/voice_threshold.json --png docs/eval/audio_threshold/voice_threshold.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import load_detector


def plot(result: dict[str, Any], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = result["threshold"]["value"]
    held = result["threshold"]["held_out"]["per_voice"]
    fit = result["threshold"]["fit"]["per_voice"]
    rows = sorted([(v, r, "fit") for v, r in fit.items()] + [(v, r, "held") for v, r in held.items()],
                  key=lambda x: (x[2], -x[1]["fpr"], x[0]))
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, max(5, 0.2 * len(rows))), gridspec_kw={"width_ratios": [3, 2]})
    # Scores crowd at 1: plot "nines", -log10(1 - score), so the margin below the threshold shows.
    nines = lambda p: -np.log10(np.maximum(1.0 - np.asarray(p, float), 1e-5))  # noqa: E731
    y = np.arange(len(rows))
    a.barh(y, nines([r["max"] for _, r, _ in rows]),
           color=["tab:blue" if k == "fit" else "tab:orange" for *_, k in rows])
    a.set_yticks(y, [f"{v} ({r['n']}; {r['flagged']} flagged)" for v, r, _ in rows], fontsize=7)
    a.axvline(float(nines(t)), color="red", ls="--", label=f"threshold {t}")
    a.axvline(float(nines(0.5)), color="grey", ls=":", label="0.5")
    ticks = [0.5, 0.9, 0.99, 0.999, 0.9999]
    a.set_xticks(nines(ticks), [str(x) for x in ticks])
    a.invert_yaxis()
    a.set_xlabel("highest human score of the voice (axis: -log10(1 - score))")
    a.set_title("per voice: blue fitted on, orange held out")
    a.legend(fontsize=7, loc="lower right")
    gens = [(f"{s}: {g}", v) for s, per in result["synthetic"].items() for g, v in sorted(per["per_generator"].items())]
    yy = np.arange(len(gens))
    b.barh(yy, [100 * v["tpr"] for _, v in gens], color="tab:green")
    b.set_yticks(yy, [f"{k} ({v['n']})" for k, v in gens], fontsize=7)
    b.invert_yaxis()
    b.set_xlim(0, 100)
    b.set_xlabel(f"synthetic clips caught at {t} (%)")
    b.set_title("true-positive rate per set and generator")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=Path, default=Path("models"))
    ap.add_argument("--detector", default="audio-lfcc-cnn")
    ap.add_argument("--corpus", type=Path, required=True, help="speech corpus (worker.model_builders.audio_corpus)")
    ap.add_argument("--data", type=Path, action="append", required=True,
                    help="evaluation set whose synthetic test clips are scored (first: the wideband set)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--png", type=Path)
    args = ap.parse_args(argv)

    from worker.audio_threshold import caught, fit_voice_threshold, synthetic_scores

    det = load_detector(args.detector, args.models)
    if det is None:
        return 2
    for d in args.data:
        if not (d / "labels.jsonl").is_file():
            print(f"{d} has no labels.jsonl", file=sys.stderr)
            return 2
    # The first set is the rule's usefulness check (fit_voice_threshold scores it); the others are reported.
    entry = fit_voice_threshold(det, args.corpus, synthetic=args.data[0])
    t = entry["value"]
    synthetic = {args.data[0].name: entry["synthetic"]}
    for d in args.data[1:]:
        synthetic[d.name] = {"data": f"{d}: synthetic test clips", **caught(synthetic_scores(det, d), t)}
    fails = entry["withheld_because"]
    result = {"detector": args.detector, "threshold": entry, "synthetic": synthetic,
              "rule_met": entry["published"], "rule_failures": fails}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    if args.png:
        plot(result, args.png)
    held = entry["held_out"]
    print(f"threshold {t}: held-out human FPR {held['pooled']['fpr']:.4f} ({held['pooled']['flagged']}/"
          f"{held['pooled']['n']}, 95 % upper {held['pooled']['fpr_upper_95']:.4f}); worst held-out voice "
          f"{held['worst_voice']['voice']} {held['worst_voice']['fpr']:.3f}; TPR "
          + ", ".join(f"{k} {v['tpr']}" for k, v in synthetic.items())
          + f"; rule {'met' if not fails else 'NOT met: ' + '; '.join(fails)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
