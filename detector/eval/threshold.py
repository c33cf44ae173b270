"""Verdict thresholds: the score above which one detector alone may call an item "synthetic".

Chosen on human-made media only (a held-out corpus split the detector never trained on) so that
at most ``target_fpr`` of it would be flagged; published in the detector's card as
``verdict_threshold`` with the data, counts and the measured rate, and read by the pipeline.

    provscan threshold NAME --corpus DIR [--split test] [--fpr 0.01]
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from detector.errors import DetectorError
from detector.types import MediaItem

CORPUS_MODALITY = {"image": "image", "audio": "audio", "text": "text"}


def _decode(path: Path, modality: str) -> Any:
    from detector import media

    if modality == "image":
        return media.load_image(path)
    if modality == "audio":
        return media.load_audio(path)
    return media.load_text(path)


def _upper_bound(k: int, n: int, conf: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound on a rate seen k times in n."""
    from scipy.stats import beta

    return 1.0 if k >= n else float(beta.ppf(conf, k + 1, n - k))


def human_scores(
    detector: Any, corpus: Path, *, split: str = "test", limit: int | None = None
) -> tuple[list[dict[str, Any]], list[float], int]:
    """Score the human items of ``corpus``'s ``split``: (manifest records scored, their scores,
    items skipped). An undecodable or unscorable file is skipped and counted, not fatal."""
    recs = [json.loads(line) for line in (Path(corpus) / "manifest.jsonl").read_text().splitlines() if line.strip()]
    recs = [r for r in recs if r["modality"] == CORPUS_MODALITY[detector.modality] and r["split"] == split]
    if limit:
        recs = recs[:limit]
    if not recs:
        raise ValueError(f"no {detector.modality} items in the {split!r} split of {corpus}")
    kept, scores, skipped = [], [], 0
    for r in tqdm(recs, desc=f"threshold {detector.name}", unit="item", file=sys.stderr):
        score = scan_score(detector, Path(corpus) / r["path"], r["sha256"])
        if score is None:
            skipped += 1
            continue
        kept.append(r)
        scores.append(score)
    return kept, scores, skipped


def scan_score(detector: Any, path: Path, sha256: str = "0" * 64) -> float | None:
    """The score a scan would give ``path`` (``analyze``: rounded, as a verdict compares it), or None
    when the detector skips it (too short, ...) or cannot decode it."""
    item = MediaItem(str(path), path.name, sha256, detector.modality, "", 0)
    try:
        f = detector.analyze(item, _decode(path, detector.modality))
    except DetectorError:
        return None
    return None if f.status != "ok" or f.score is None else float(f.score)


def fit_verdict_threshold(
    detector: Any, corpus: Path, *, split: str = "test", target_fpr: float = 0.01, limit: int | None = None
) -> dict[str, Any]:
    """Score the human items of ``corpus``'s ``split`` and pick the smallest threshold whose
    empirical false-positive rate is at most ``target_fpr``.

    Returns the card entry: value, target and measured FPR with its 95 % upper bound, counts, data.
    """
    recs, scores, skipped = human_scores(detector, corpus, split=split, limit=limit)
    return threshold_entry(detector, corpus, recs, scores, skipped, split=split, target_fpr=target_fpr)


def threshold_entry(
    detector: Any,
    corpus: Path,
    recs: list[dict[str, Any]],
    scores: list[float],
    skipped: int,
    *,
    split: str,
    target_fpr: float,
) -> dict[str, Any]:
    """The card entry for human ``scores`` (from :func:`human_scores`)."""
    s = np.sort(np.asarray(scores))
    n = len(s)
    value = _threshold_of(s, target_fpr)
    k = int(np.sum(s >= value))
    return {
        "value": value,
        "target_fpr": target_fpr,
        "measured_fpr": round(k / n, 6),
        "fpr_upper_95": round(_upper_bound(k, n), 6),
        "human_items": n,
        "skipped": skipped,
        "data": f"{corpus} split={split} ({detector.modality}, human-made only; never trained on)",
        "sources": sorted({r.get("source", "?") for r in recs}),
        "measured_at": time.strftime("%Y-%m-%d"),
        "command": f"provscan threshold {detector.name} --corpus {corpus} --split {split} --fpr {target_fpr}",
    }


def per_group_threshold(groups: dict[str, list[float]], *, target_fpr: float, floor: float = 0.5) -> float:
    """The smallest threshold >= ``floor`` at which *every* group's false-positive rate is <= ``target_fpr``.

    A pooled rate is set by the groups with the most items: one voice with a few dozen clips can sit
    far above it (audio: 18.6 % of one speaker at a pooled 1 % threshold). Here each group (a voice)
    may have at most ``floor(target_fpr * n_group)`` items at or above the threshold, so a group
    with fewer than ``1 / target_fpr`` items may have none. Rounded up to 6 decimals, like
    :func:`threshold_entry`, so the published value never admits one more item than measured.
    """
    if not groups or not any(groups.values()):
        raise ValueError("no human scores to fit a threshold on")
    return max(_threshold_of(scores, target_fpr, floor) for scores in groups.values() if len(scores))


def _threshold_of(scores: Any, target_fpr: float, floor: float = 0.5) -> float:
    """The smallest threshold >= ``floor`` that at most ``floor(target_fpr * n)`` of ``scores`` reach."""
    s = np.sort(np.asarray(scores, float))
    n = len(s)
    allowed = int(math.floor(target_fpr * n))  # human items that may score at or above the threshold
    # Threshold just above the (allowed+1)-th highest human score: at most `allowed` human items reach it.
    value = float(np.nextafter(s[n - allowed - 1], 1.0)) if allowed < n else float(s[0])
    value = min(max(value, floor), 1.0)  # never below even odds
    # Published rounded *up*: rounding to nearest could land exactly on a (rounded) human score and
    # let one more human item reach the published threshold than was measured.
    return min(math.ceil(value * 1e6) / 1e6, 1.0)


def group_rates(groups: dict[str, list[float]], value: float) -> dict[str, dict[str, Any]]:
    """Per group at threshold ``value``: items, items flagged, false-positive rate, highest score."""
    out = {}
    for g, scores in sorted(groups.items()):
        s = np.asarray(scores, float)
        if len(s):
            k = int(np.sum(s >= value))
            out[g] = {"n": int(len(s)), "flagged": k, "fpr": round(k / len(s), 4), "max": round(float(s.max()), 4)}
    return out


def pooled_rate(groups: dict[str, list[float]], value: float) -> dict[str, Any]:
    """Pooled false-positive rate of every group's items at ``value``, with its 95 % upper bound."""
    s = np.concatenate([np.asarray(v, float) for v in groups.values()]) if groups else np.zeros(0)
    n, k = int(len(s)), int(np.sum(s >= value))
    return {"n": n, "flagged": k, "fpr": round(k / n, 6) if n else None, "fpr_upper_95": round(_upper_bound(k, n), 6) if n else None}


def write_to_card(card: Path, entry: dict[str, Any]) -> None:
    import yaml

    data = yaml.safe_load(card.read_text()) if card.exists() else {}
    data["verdict_threshold"] = entry
    card.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def read_from_card(card: Path) -> float | None:
    """The published verdict threshold of a detector card, or None."""
    if not card.exists():
        return None
    import yaml

    try:
        entry = (yaml.safe_load(card.read_text()) or {}).get("verdict_threshold")
    except yaml.YAMLError:
        return None
    return float(entry["value"]) if isinstance(entry, dict) and "value" in entry else None
