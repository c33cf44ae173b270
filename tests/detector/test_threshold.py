from __future__ import annotations

import hashlib
import json

from detector.eval.threshold import fit_verdict_threshold, read_from_card, write_to_card
from detector.types import Finding


class LengthDetector:
    """Scores a text by its length: a stand-in whose scores we know exactly."""

    name, version, modality = "len", "1", "text"

    def analyze(self, item, signal: str) -> Finding:
        return Finding(self.name, self.version, min(len(signal) / 1000.0, 1.0))


def test_threshold_meets_the_target_fpr_on_held_out_human_items(tmp_path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "text").mkdir(parents=True)
    lines = []
    for i in range(200):
        body = "w" * (500 + 2 * i)  # scores 0.500 .. 0.898
        p = corpus / "text" / f"{i}.txt"
        p.write_text(body)
        split = "test" if i % 2 == 0 else "train"
        lines.append(json.dumps({"modality": "text", "split": split, "path": f"text/{i}.txt", "source": "toy",
                                 "sha256": hashlib.sha256(body.encode()).hexdigest()}))
    (corpus / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    entry = fit_verdict_threshold(LengthDetector(), corpus, split="test", target_fpr=0.05)
    assert entry["human_items"] == 100  # only the held-out split is used
    assert entry["measured_fpr"] <= 0.05 and entry["fpr_upper_95"] > entry["measured_fpr"]
    # 5 of the 100 test items (the longest: 0.880..0.896) may reach the threshold, the 6th may not.
    assert 0.872 < entry["value"] <= 0.880
    card = tmp_path / "len.yaml"
    card.write_text("name: len\n")
    write_to_card(card, entry)
    assert read_from_card(card) == entry["value"]
    assert read_from_card(tmp_path / "missing.yaml") is None
