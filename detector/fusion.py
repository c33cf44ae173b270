"""Fuse provenance, watermarks and detector scores into one verdict with plain-words reasons.

Order of strength (strongest first): a valid C2PA manifest that declares generative AI, then a
detected watermark of a known generator, then calibrated detectors. An absent manifest is never
evidence of authenticity: with no positive evidence the verdict is "inconclusive".
Uncalibrated detectors (registry tag ``calibrated=False``) are shown but carry no weight.
"""

from __future__ import annotations

from typing import Any

from detector.types import C2PAResult, Finding, Verdict, WatermarkResult

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
# digitalSourceType values that declare generative-AI involvement, with the words we show.
AI_SOURCE_TYPES = {
    "trainedAlgorithmicMedia": "made by generative AI",
    "compositeWithTrainedAlgorithmicMedia": "partly made by generative AI (composite)",
}
# Declared as not captured, but not generative AI either (IPTC: "created purely by an algorithm
# not based on any sampled training data"); shown, but not a "synthetic" (AI) verdict.
NON_AI_SYNTHETIC_TYPES = {
    "algorithmicMedia": "made by an algorithm without trained models (not generative AI)",
    "compositeSynthetic": "a composite that includes synthetic (not necessarily AI) elements",
    "digitalCreation": "created digitally by a person (not generative AI)",
}

PRIOR = 0.5


def source_type_name(iri: str | None) -> str | None:
    if not iri:
        return None
    return iri.rsplit("/", 1)[-1]


def fuse(
    c2pa: C2PAResult | None,
    watermarks: list[WatermarkResult],
    findings: list[Finding],
    *,
    calibrated: set[str] | frozenset[str] = frozenset(),
    thresholds: dict[str, float] | None = None,
) -> Verdict:
    """Combine evidence into a ``Verdict``.

    Args:
        c2pa: The C2PA reading (None when it could not run).
        watermarks: Every scheme's detection result.
        findings: Detector findings.
        calibrated: Names of detectors whose scores are calibrated probabilities.
        thresholds: Per-detector score at or above which that detector alone may label an item
            "synthetic". Only detectors whose card publishes such a threshold, chosen for <= 1 %
            false positives on held-out human-made media, get one; only those move
            ``verdict.score`` (the others are shown in the reasons, unweighted). Detectors never label anything "authentic": a low score is
            the absence of one kind of evidence, not proof of a camera or a person.
    """
    reasons: list[tuple[float, str]] = []  # (strength, text)
    label = "inconclusive"
    score = PRIOR

    if c2pa is not None and c2pa.present:
        dst = source_type_name(c2pa.digital_source_type)
        signer = c2pa.signer or "an unknown signer"
        if c2pa.state in ("Trusted", "Valid") and dst in AI_SOURCE_TYPES:
            label, score = "synthetic", 0.99 if c2pa.state == "Trusted" else 0.97
            trust = "a trusted" if c2pa.state == "Trusted" else "a valid (signer not on the trust list)"
            reasons.append((1.0, f"{trust.capitalize()} C2PA manifest signed by {signer} declares this "
                                 f"{AI_SOURCE_TYPES[dst]} ({dst})."))
        elif c2pa.state in ("Trusted", "Valid"):
            if dst in NON_AI_SYNTHETIC_TYPES:
                what = f"declares it {NON_AI_SYNTHETIC_TYPES[dst]} ({dst})"
            else:
                what = f"declares source type {dst}" if dst else "makes no AI declaration"
            reasons.append((0.5, f"C2PA manifest ({c2pa.state}) signed by {signer} {what}; a manifest is "
                                 "provenance, not proof that the content is authentic."))
        elif c2pa.state == "Invalid":
            codes = ", ".join(c2pa.failures[:3]) or "validation failed"
            decl = f" It declares {dst}." if dst else ""
            reasons.append((0.8, f"C2PA manifest is present but invalid ({codes}): the content or its claim "
                                 f"changed after signing, so its statements cannot be relied on.{decl}"))
        elif c2pa.remote_url:
            reasons.append((0.3, f"C2PA manifest is stored remotely at {c2pa.remote_url} and could not be fetched."))
    else:
        reasons.append((0.0, "No C2PA manifest; absence of provenance is not evidence either way."))

    for wm in watermarks:
        if wm.detected:
            p = f" (p = {wm.p_value:.1e})" if wm.p_value is not None else ""
            payload = f", payload {wm.payload!r}" if wm.payload else ""
            reasons.append((0.95, f"Watermark '{wm.scheme}' detected{p}{payload}: the file was marked by an AI generator."))
            if label != "synthetic":
                label, score = "synthetic", max(score, 0.98 if wm.p_value is None or wm.p_value < 1e-6 else 0.9)

    thresholds = thresholds or {}
    ok = [f for f in findings if f.status == "ok" and f.score is not None]
    # Only validated detectors (calibrated AND a published <= 1 % human-FPR threshold) weigh: a
    # calibrated score off its training distribution (e.g. real PCM speech for a model trained on
    # Ogg game dialogue) can be confidently wrong, and "P(synthetic) 0.9" on a real file misleads.
    # A detector may also say its input is outside what its threshold was validated on (text: a
    # list or lyrics, evidence ``outside_validation``): shown like an unvalidated one.
    outside = {id(f) for f in ok if f.evidence.get("outside_validation")}
    usable = [f for f in ok if f.name in calibrated and f.name in thresholds and id(f) not in outside]
    if usable and label == "inconclusive":
        score = sum(f.score or 0.0 for f in usable) / len(usable)
        deciding = [f for f in usable if (f.score or 0.0) >= thresholds[f.name]]
        if deciding:
            top = max(deciding, key=lambda f: f.score or 0.0)
            label, score = "synthetic", float(top.score or 0.0)
            reasons.append((0.7, f"Detector {top.name} scores {top.score:.2f}, above its threshold "
                                 f"{thresholds[top.name]:.2f} (set for <= 1% false positives on human-made media)."))
        else:
            names = ", ".join(f"{f.name} {f.score:.2f}" for f in usable)
            reasons.append((0.4, f"Validated detectors are below their thresholds: P(synthetic) {names}."))
    unvalidated = [f for f in ok if f.name in calibrated and f.name not in thresholds]
    if unvalidated:
        names = ", ".join(f"{f.name} {f.score:.2f}" for f in unvalidated)
        reasons.append((0.2, f"Trained detectors not yet validated at <= 1% false positives on human-made media "
                             f"(shown, not weighted): {names}."))
    beyond = [f for f in ok if f.name in calibrated and f.name in thresholds and id(f) in outside]
    if beyond:
        names = ", ".join(f"{f.name} {f.score:.2f}" for f in beyond)
        reasons.append((0.2, f"Input unlike what the detector's threshold was validated on (shown, not weighted): "
                             f"{names}."))
    # A detector's own warning about this input (e.g. telephone-band audio for the audio CNN): the
    # reader of a low score must see it next to the score, not only in the evidence JSON.
    for f in ok:
        if f.name in calibrated and isinstance(f.evidence.get("caveat"), str):
            reasons.append((0.15, f"{f.name}: {f.evidence['caveat']}"))
    uncal = [f for f in findings if f.status == "ok" and f.score is not None and f.name not in calibrated]
    if uncal:
        names = ", ".join(f"{f.name} {f.score:.2f}" for f in uncal)
        reasons.append((0.1, f"Uncalibrated heuristics (shown, not weighted): {names}."))
    errs = [f.name for f in findings if f.status == "error"]
    if errs:
        reasons.append((0.05, f"Detectors that failed: {', '.join(errs)}."))

    reasons.sort(key=lambda r: -r[0])
    return Verdict(label=label, score=round(float(score), 4), reasons=[r[1] for r in reasons])


def summarize(verdict: Verdict) -> dict[str, Any]:
    return {"label": verdict.label, "score": verdict.score, "reasons": list(verdict.reasons)}
