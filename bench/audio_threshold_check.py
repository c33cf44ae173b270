"""Would a 1 %-FPR verdict threshold for an audio detector hold on every held-out human source? (issue #5)

Scores every human clip in the test split of an evaluation set's corpus view (``make_audio_set(...,
evaluation=True)`` writes one), fits the pooled threshold exactly as ``provscan threshold`` would,
then reports per real source the share of clips flagged at it, and the share of the set's synthetic
test clips caught. A threshold is only worth publishing when no source is far above the target.
``--unseen-corpus`` also scores every clip of the telephone voices (``PHONE_REAL``) and of the
volunteer voices (``VOLUNTEER_REAL``, one row per language folder; the voices of
``VOLUNTEER_TRAINING_LANGUAGES``, which the shipped recipe trains on, are left out) of the speech corpus at that threshold; they are not part of the fit. Leave-one-source-out: the threshold refitted
without each source in turn and that source's FPR at it (what a new speaker would meet). Writes
JSON; writes nothing into any card.

    python -m bench.audio_threshold_check --models models --data data/datasets/audio-eval-seed1 \\
        --unseen-corpus data/corpus-audio --out docs/eval/audio_confound/threshold_check.json
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


def _leave_one_out(det: object, view: Path, recs: list[dict], scores: list[float], fpr: float) -> dict:
    """Per source: the threshold fitted (as ``provscan threshold``) on every other source, and its FPR there."""
    from detector.eval.threshold import threshold_entry

    out = {}
    for src in sorted({r["source"] for r in recs}):
        rest = [(r, s) for r, s in zip(recs, scores, strict=True) if r["source"] != src]
        mine = np.asarray([s for r, s in zip(recs, scores, strict=True) if r["source"] == src])
        t = threshold_entry(det, view, [r for r, _ in rest], [s for _, s in rest], 0, split="test", target_fpr=fpr)
        out[src] = {"n": int(len(mine)), "threshold_without_it": t["value"],
                    "fpr_on_it": round(float(np.mean(mine >= t["value"])), 4)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=Path, default=Path("models"))
    ap.add_argument("--data", type=Path, required=True, help="evaluation set with a corpus-view/ folder")
    ap.add_argument("--detector", default="audio-lfcc-cnn")
    ap.add_argument("--fpr", type=float, default=0.01)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--unseen-corpus", type=Path, help="speech corpus holding the telephone voices (checked, not fitted)")
    args = ap.parse_args(argv)

    from detector import media
    from detector.errors import DetectorError
    from detector.eval.threshold import human_scores, threshold_entry

    det = load_detector(args.detector, args.models)
    if det is None:
        return 2
    view = args.data / "corpus-view"
    if not (view / "manifest.jsonl").is_file():
        print(f"{view} has no manifest.jsonl (make the set with make_audio_set(..., evaluation=True))", file=sys.stderr)
        return 2
    recs, scores, skipped = human_scores(det, view, split="test")
    entry = threshold_entry(det, view, recs, scores, skipped, split="test", target_fpr=args.fpr)
    thr = entry["value"]
    by_source: dict[str, list[float]] = defaultdict(list)
    for r, s in zip(recs, scores, strict=True):
        by_source[r["source"]].append(s)

    from worker.audio_threshold import synthetic_scores

    caught = [s >= thr for v in synthetic_scores(det, args.data).values() for s in v]
    unseen: dict[str, list[float]] = defaultdict(list)
    unseen_skipped = 0
    if args.unseen_corpus:
        from generators.corpus import load_manifest
        from worker.audio_recipe import PHONE_REAL, VOLUNTEER_REAL, VOLUNTEER_TRAINING_LANGUAGES

        # The shipped recipe trains on some clips of the volunteer voices of VOLUNTEER_TRAINING_LANGUAGES:
        # those voices are not unseen, so they are left out.
        clips = [c for c in load_manifest(args.unseen_corpus)
                 if c.source in PHONE_REAL
                 or (c.source in VOLUNTEER_REAL and c.language not in VOLUNTEER_TRAINING_LANGUAGES)]
        for c in tqdm(clips, desc="unseen voices", unit="clip", file=sys.stderr):
            # A volunteer source holds one voice per language folder: report each.
            key = c.source if c.source in PHONE_REAL else f"{c.source}-{c.language}"
            try:
                unseen[key].append(det.score(media.load_audio(args.unseen_corpus / c.path)))
            except DetectorError as exc:  # e.g. an undecodable clip: reported, counted as skipped
                print(f"{c.id}: {exc}", file=sys.stderr)
                unseen_skipped += 1
    result = {
        "detector": args.detector,
        "threshold_pooled": entry,
        "tpr_at_threshold": float(np.mean(caught)) if caught else None,
        "synthetic_test_clips": len(caught),
        "per_source": {
            src: {"n": len(v), "fpr_at_threshold": float(np.mean(np.asarray(v) >= thr)), "max": float(max(v))}
            for src, v in sorted(by_source.items())
        },
        "unseen_sources_not_fitted": {
            src: {"n": len(v), "fpr_at_threshold": float(np.mean(np.asarray(v) >= thr)), "max": float(max(v))}
            for src, v in sorted(unseen.items())
            if v
        },
        "unseen_skipped": unseen_skipped,
        # Would the rule hold for a voice it was not fitted on? Refit it without each source in turn and
        # measure that source: the honest estimate of the false-positive rate on a new speaker.
        "leave_one_source_out": _leave_one_out(det, view, recs, scores, args.fpr),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    worst = max(result["per_source"].items(), key=lambda kv: kv[1]["fpr_at_threshold"])
    loso = max(result["leave_one_source_out"].items(), key=lambda kv: kv[1]["fpr_on_it"])
    print(f"threshold {thr} (pooled FPR {entry['measured_fpr']:.4f} on {entry['human_items']} human clips); "
          f"TPR {result['tpr_at_threshold']}; worst source {worst[0]}: {worst[1]['fpr_at_threshold']:.3f}; "
          f"left out of the fit, worst {loso[0]}: {loso[1]['fpr_on_it']:.3f}")
    if result["unseen_sources_not_fitted"]:
        pool = [s for v in unseen.values() for s in v]
        far = max(result["unseen_sources_not_fitted"].items(), key=lambda kv: kv[1]["fpr_at_threshold"])
        print(f"unseen voices: {len(pool)} clips, FPR {np.mean(np.asarray(pool) >= thr):.4f}; "
              f"worst {far[0]}: {far[1]['fpr_at_threshold']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
