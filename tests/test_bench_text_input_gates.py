"""bench/text_input_gates.py on a tiny corpus with the shipped text weights: every figure it writes is checked."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.detector.test_watermark_text_embed import human_passage

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_text_input_gates_report(tmp_path: Path) -> None:
    from bench import text_input_gates as bench

    corpus = tmp_path / "corpus"
    texts = {"prose": (human_passage(200), "test"), "verse": (bench.PROBES["lyrics"], "test"),
             "latin": (bench.PROBES["french_news"], "train")}
    lines = []
    for name, (text, split) in texts.items():
        (corpus / "text").mkdir(parents=True, exist_ok=True)
        (corpus / "text" / f"{name}.txt").write_text(text)
        lines.append(json.dumps({"id": f"toy/{name}", "path": f"text/{name}.txt", "modality": "text", "split": split,
                                 "source": "toy", "sha256": hashlib.sha256(text.encode()).hexdigest()}))
    (corpus / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    out = tmp_path / "gates.json"
    assert bench.main(["--models", str(REPO / "models"), "--corpus", str(corpus), "--generated", "2",
                       "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["probes"]["french_news"]["now"] == "skipped" and r["probes"]["lyrics"]["now"] == "outside_validation"
    assert r["probes"]["english_news"]["now"] == "scored"
    assert r["corpus"]["passages"] == 3
    assert r["corpus"]["skipped_not_english_by_split"] == {"train": 1}
    assert r["corpus"]["unvalidated_form_by_split"] == {"test": 1}
    (caught,) = r["corpus"]["test_split_caught"]
    assert caught["id"] == "toy/verse" and caught["gate"] == "form"
    assert r["corpus"]["test_split_caught_above_threshold"] == int(caught["score_ungated"] >= r["published_threshold"])
    assert set(r["generated"]) == {"text-gru", "text-ngram"} and all(g["n"] == 2 for g in r["generated"].values())
    assert bench.main(["--corpus", str(tmp_path / "none"), "--out", str(out)]) == 2
