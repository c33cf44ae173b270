"""The audio detector's verdict threshold: fitted per voice on validation voices, checked on voices it never heard.

A pooled 1 %-FPR threshold on held-out human clips is set by the voices with the most clips: at the
one fitted for the audio CNN in 2026-12 (0.812501) one unseen speaker was flagged 18.6 % of the time
(docs/eval/README.md, Audio). So the rule (fixed before any score was seen:
docs/eval/audio_threshold/worst_voice_rule.json) bounds every voice instead:

* **fit**: the human clips of the volunteer voices of ``VOLUNTEER_VALIDATION_LANGUAGES`` (never
  trained on); the threshold is the smallest value >= 0.5 at which each of those voices has at most
  1 % of its clips flagged (``detector.eval.threshold.per_group_threshold``);
* **check** on human clips the fit never saw and the model never trained on: every clip of the
  held-out volunteer languages, the telephone voices and the two held-out wideband sources, plus the
  test split of the training sources. The threshold is published only if the pooled false-positive
  rate there has a 95 % upper bound <= ``MAX_POOLED_UPPER`` and no voice with >= ``MIN_VOICE_CLIPS``
  clips is flagged more than ``MAX_VOICE_FPR`` of the time, and it still catches ``MIN_TPR`` of the
  synthetic test clips of an evaluation set (a threshold that flags nothing is no label band);
  otherwise the card says why it is withheld.

Run by hand (``provscan threshold audio-lfcc-cnn --corpus data/corpus-audio --per-voice --synthetic
data/datasets/audio-eval-seed1``; ``bench/audio_voice_threshold.py`` adds the other sets and a plot),
not by ``make models``: the usefulness check needs the evaluation set, which the build does not make.
The card template carries no threshold, so rebuilt weights never keep one fitted for others.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from worker.audio_recipe import (
    PHONE_REAL,
    VOLUNTEER_REAL,
    VOLUNTEER_VALIDATION_LANGUAGES,
    in_eval_view,
    is_heldout_volunteer,
)

FIT_FPR = 0.01  # per validation voice
MAX_POOLED_UPPER = 0.01  # 95 % upper bound of the pooled FPR on the held-out human clips
MAX_VOICE_FPR = 0.05  # no held-out voice (with enough clips to tell) flagged more often than this
MIN_VOICE_CLIPS = 20
MIN_TPR = 0.20  # of the evaluation set's synthetic test clips caught at the threshold
RULE = "docs/eval/audio_threshold/worst_voice_rule.json"


def voice_of(c: Any) -> str:
    """A volunteer source holds one voice per language folder; every other source is one voice."""
    return f"{c.source}-{c.language}" if c.source in VOLUNTEER_REAL else str(c.source)


def is_fit_clip(c: Any) -> bool:
    return c.modality == "audio" and c.source in VOLUNTEER_REAL and c.language in VOLUNTEER_VALIDATION_LANGUAGES


def is_check_clip(c: Any) -> bool:
    """Human clips neither the model nor the fit saw (``in_eval_view``: the wideband held-out set's clips)."""
    return c.modality == "audio" and (in_eval_view(c) or c.source in PHONE_REAL or is_heldout_volunteer(c))


def scores_by_voice(det: Any, corpus: Path, clips: list[Any], *, desc: str) -> tuple[dict[str, list[float]], int]:
    """The scan's score (rounded as a verdict sees it) of every clip, by voice; and the number of
    clips the detector skipped (too short) or could not decode."""
    from detector.eval.threshold import scan_score

    out: dict[str, list[float]] = {}
    skipped = 0
    for c in tqdm(clips, desc=desc, unit="clip", file=sys.stderr):
        score = scan_score(det, corpus / c.path, c.sha256)
        if score is None:
            skipped += 1
        else:
            out.setdefault(voice_of(c), []).append(score)
    return out, skipped


def synthetic_scores(det: Any, data: Path) -> dict[str, list[float]]:
    """Scan scores of the synthetic test clips of an evaluation set (``labels.jsonl``), by generator.

    Raises:
        DatasetError: ``data`` has no labels.jsonl or no labelled item.
    """
    from detector.eval.threshold import scan_score
    from detector.train.data import load_records

    out: dict[str, list[float]] = {}
    recs = [r for r in load_records(data) if r.label == 1 and r.split == "test"]
    for r in tqdm(recs, desc=f"synthetic {Path(data).name}", unit="clip", file=sys.stderr):
        score = scan_score(det, r.path)
        if score is not None:
            out.setdefault(str(r.generator), []).append(score)
    return out


def caught(per_generator: dict[str, list[float]], value: float) -> dict[str, Any]:
    """True-positive rate at ``value``, pooled and per generator."""
    from detector.eval.threshold import group_rates

    pool = [s for v in per_generator.values() for s in v]
    return {"n": len(pool), "tpr": round(sum(s >= value for s in pool) / len(pool), 4) if pool else None,
            "per_generator": {g: {"n": r["n"], "tpr": r["fpr"]} for g, r in group_rates(per_generator, value).items()}}


def fit_voice_threshold(det: Any, corpus: Path, synthetic: Path | None = None) -> dict[str, Any]:
    """Fit the per-voice threshold, check it on the held-out voices and (given an evaluation set
    ``synthetic``) what it catches: the card entry, with ``published``."""
    from detector.eval.threshold import group_rates, per_group_threshold, pooled_rate
    from generators.corpus import load_manifest

    corpus = Path(corpus)
    if synthetic is not None:
        from detector.train.data import load_records

        load_records(synthetic)  # a folder that is no evaluation set fails now, not after minutes of scoring
    items = load_manifest(corpus)
    fit, fit_skipped = scores_by_voice(det, corpus, [c for c in items if is_fit_clip(c)], desc="threshold fit voices")
    if not fit:
        raise ValueError(f"{corpus} holds no clip of the validation voices ({', '.join(VOLUNTEER_VALIDATION_LANGUAGES)})")
    value = per_group_threshold(fit, target_fpr=FIT_FPR)
    check, check_skipped = scores_by_voice(det, corpus, [c for c in items if is_check_clip(c)],
                                           desc="threshold check voices")
    pooled = pooled_rate(check, value)
    per_voice = group_rates(check, value)
    failures = []
    if not check:
        failures.append("no held-out human clip to check it on")
    elif pooled["fpr_upper_95"] > MAX_POOLED_UPPER:
        failures.append(f"pooled FPR on held-out human clips {pooled['fpr']:.2%} (95 % upper bound "
                        f"{pooled['fpr_upper_95']:.2%}) is not bounded by {MAX_POOLED_UPPER:.0%}")
    loud = {v: r for v, r in per_voice.items() if r["n"] >= MIN_VOICE_CLIPS and r["fpr"] > MAX_VOICE_FPR}
    if loud:
        failures.append("held-out voices flagged more than {:.0%} of the time: {}".format(
            MAX_VOICE_FPR, ", ".join(f"{v} {r['fpr']:.1%} ({r['flagged']}/{r['n']})" for v, r in sorted(loud.items()))))
    tpr = None
    if synthetic is None:
        failures.append("no synthetic evaluation set given: what the threshold catches was not measured")
    else:
        tpr = {"data": f"{synthetic}: synthetic test clips", **caught(synthetic_scores(det, synthetic), value)}
        if (tpr["tpr"] or 0.0) < MIN_TPR:
            failures.append(f"catches {tpr['tpr'] or 0.0:.1%} of the synthetic test clips of {Path(synthetic).name} "
                            f"(< {MIN_TPR:.0%}): no useful label band")
    worst = max(per_voice.items(), key=lambda kv: (kv[1]["fpr"], kv[1]["n"])) if per_voice else None
    if corpus.is_absolute() and corpus.is_relative_to(Path.cwd()):
        corpus = corpus.relative_to(Path.cwd())  # the card's command then runs as written from the checkout
    return {
        "value": value,
        "published": not failures,
        "withheld_because": failures,
        "rule": f"per voice: the smallest score >= 0.5 at which every validation voice has <= {FIT_FPR:.0%} of its "
        f"clips flagged; published only if the pooled FPR on held-out human clips is bounded by "
        f"{MAX_POOLED_UPPER:.0%} (95 %), no held-out voice with >= {MIN_VOICE_CLIPS} clips exceeds {MAX_VOICE_FPR:.0%} "
        f"and it catches >= {MIN_TPR:.0%} of an evaluation set's synthetic test clips ({RULE})",
        "target_fpr": FIT_FPR,
        "fit": {
            "data": f"{corpus}: human clips of the volunteer voices of {', '.join(VOLUNTEER_VALIDATION_LANGUAGES)} "
            "(never trained on)",
            "voices": len(fit),
            "clips": sum(len(v) for v in fit.values()),
            "skipped": fit_skipped,
            "per_voice": group_rates(fit, value),
        },
        "held_out": {
            "data": f"{corpus}: every clip of the held-out volunteer languages, the telephone voices, alsa and the "
            "Italian asterisk speaker, and the test split of the training sources (neither trained on nor fitted on)",
            "pooled": pooled,
            "worst_voice": {"voice": worst[0], **worst[1]} if worst else None,
            "skipped": check_skipped,
            "per_voice": per_voice,
        },
        "synthetic": tpr,
        "measured_fpr": pooled["fpr"],
        "fpr_upper_95": pooled["fpr_upper_95"],
        "human_items": pooled["n"],
        "measured_at": time.strftime("%Y-%m-%d"),
        "command": f"provscan threshold {det.name} --corpus {corpus} --per-voice"
        + (f" --synthetic {synthetic}" if synthetic is not None else ""),
    }


def write_voice_threshold(card: Path, entry: dict[str, Any]) -> None:
    """Put the entry in the card as ``verdict_threshold`` (published) or ``verdict_threshold_withheld``,
    removing the other key so a card never carries a stale threshold beside a fresh refusal."""
    import yaml

    data = yaml.safe_load(card.read_text()) if card.exists() else {}
    data = data or {}
    data.pop("verdict_threshold", None)
    data.pop("verdict_threshold_withheld", None)
    data["verdict_threshold" if entry["published"] else "verdict_threshold_withheld"] = entry
    # width 110: the width the committed cards were written at, so a rewrite changes only this entry.
    card.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110))
