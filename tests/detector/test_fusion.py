from __future__ import annotations

from detector.fusion import fuse
from detector.types import C2PAResult, Finding, WatermarkResult

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def test_valid_manifest_declaring_ai_is_synthetic() -> None:
    for state in ("Valid", "Trusted"):
        v = fuse(C2PAResult(True, state, [], "Acme CA", IPTC + "trainedAlgorithmicMedia"), [], [])
        assert v.label == "synthetic" and v.score > 0.9
        assert "trainedAlgorithmicMedia" in v.reasons[0]
    v = fuse(C2PAResult(True, "Valid", [], "X", IPTC + "compositeWithTrainedAlgorithmicMedia"), [], [])
    assert v.label == "synthetic"


def test_no_manifest_is_not_authentic() -> None:
    v = fuse(C2PAResult(False), [], [])
    assert v.label == "inconclusive" and v.score == 0.5
    assert any("not evidence" in r for r in v.reasons)


def test_invalid_manifest_or_non_ai_types_do_not_decide() -> None:
    bad = C2PAResult(True, "Invalid", ["assertion.dataHash.mismatch"], "X", IPTC + "trainedAlgorithmicMedia")
    assert fuse(bad, [], []).label == "inconclusive"
    assert "dataHash" in fuse(bad, [], []).reasons[0]
    algo = C2PAResult(True, "Valid", [], "X", IPTC + "algorithmicMedia")
    assert fuse(algo, [], []).label == "inconclusive"


def test_watermark_outweighs_detectors_and_uncalibrated_scores_carry_no_weight() -> None:
    wm = WatermarkResult("provscan-image", True, 0.999, "gen:1", 1e-9)
    heur = Finding("image-noise-floor", "0.1", 0.99)
    assert fuse(None, [wm], [heur]).label == "synthetic"
    assert fuse(C2PAResult(False), [], [heur]).label == "inconclusive"
    # A calibrated detector weighs only once validated (a published threshold at <= 1% human FPR).
    cal = fuse(C2PAResult(False), [], [Finding("cnn", "1", 0.97)], calibrated={"cnn"})
    assert cal.label == "inconclusive" and cal.score == 0.5 and "not yet validated" in cal.reasons[0]
    below = fuse(C2PAResult(False), [], [Finding("cnn", "1", 0.7)], calibrated={"cnn"}, thresholds={"cnn": 0.95})
    assert below.label == "inconclusive" and below.score == 0.7
    dec = fuse(C2PAResult(False), [], [Finding("cnn", "1", 0.97)], calibrated={"cnn"}, thresholds={"cnn": 0.95})
    assert dec.label == "synthetic" and "threshold 0.95" in dec.reasons[0]
    low = fuse(C2PAResult(False), [], [Finding("cnn", "1", 0.02)], calibrated={"cnn"}, thresholds={"cnn": 0.95})
    assert low.label == "inconclusive"  # detectors never say "authentic"


def test_a_detector_caveat_is_shown_as_a_reason_beside_its_score() -> None:
    warn = Finding("audio-lfcc-cnn", "1", 0.1, "ok", {"caveat": "Little or no audio above 4 kHz."})
    v = fuse(None, [], [warn], calibrated={"audio-lfcc-cnn"})
    assert v.label == "inconclusive"
    shown = [r for r in v.reasons if "audio-lfcc-cnn 0.10" in r]
    assert shown and v.reasons.index(shown[0]) < v.reasons.index("audio-lfcc-cnn: Little or no audio above 4 kHz.")
    # An uncalibrated heuristic's evidence is not promoted to a reason.
    assert not any("4 kHz" in r for r in fuse(None, [], [warn]).reasons)


def test_a_score_outside_what_its_threshold_was_validated_on_does_not_decide() -> None:
    """A text detector's score on lyrics or a list is shown, never the reason for "synthetic"."""
    ev = {"outside_validation": True, "caveat": "verse or lyrics (3 of its 7 lines repeat an earlier line): ..."}
    out = Finding("text-lm-logreg", "1", 0.9998, "ok", ev)
    v = fuse(C2PAResult(False), [], [out], calibrated={"text-lm-logreg"}, thresholds={"text-lm-logreg": 0.78})
    assert v.label == "inconclusive" and v.score == 0.5
    assert any("unlike what the detector's threshold was validated on" in r and "text-lm-logreg 1.00" in r
               for r in v.reasons)
    assert any(r.startswith("text-lm-logreg: verse or lyrics") for r in v.reasons)
    # The same score on prose decides.
    prose = Finding("text-lm-logreg", "1", 0.9998, "ok", {})
    assert fuse(C2PAResult(False), [], [prose], calibrated={"text-lm-logreg"},
                thresholds={"text-lm-logreg": 0.78}).label == "synthetic"
