"""Text detector LM scoring: the sparse back-off sums (``NGramLM.score``) against the dense
definition (``NGramLM.score_dense``, vocabulary-sized vectors per token) on the same passages, in
the same process, alternating, with the committed text-lm-logreg LMs. Also checks they agree.

    .venv/bin/python bench/text_scoring.py [--models-dir models] [--passages 60]

Passages: the corpus test split's texts when `data/corpus` is built, else this repo's Markdown.
Writes the `text-scoring` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, table, write_section  # noqa: E402


def _passages(n: int) -> tuple[list[str], str]:
    corpus = REPO / "data" / "corpus"
    if (corpus / "manifest.jsonl").is_file():
        recs = [json.loads(x) for x in (corpus / "manifest.jsonl").read_text("utf-8").splitlines() if x.strip()]
        recs = [r for r in recs if r["modality"] == "text" and r["split"] == "test"][:n]
        return [(corpus / r["path"]).read_text("utf-8") for r in recs], "data/corpus test split"
    docs = sorted(REPO.glob("docs/**/*.md"))[:n]
    return [p.read_text("utf-8") for p in docs], "docs/*.md (no corpus built)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models-dir", type=Path, default=REPO / "models")
    ap.add_argument("--passages", type=int, default=60)
    args = ap.parse_args(argv)

    from detector.text.detector import MAX_TOKENS, TextLMDetector
    from detector.text.tokenize import lm_tokens

    det = TextLMDetector.from_models_dir(args.models_dir, "text-lm-logreg")
    texts, source = _passages(args.passages)
    toks = [t for t in (lm_tokens(x)[:MAX_TOKENS] for x in texts) if t]
    det.tri.score(toks[0][:3], other=det.bi)  # one-off index build, not part of the timing
    sparse = dense = 0.0
    worst = 0.0
    for t in toks:
        a = time.perf_counter()
        got = det.tri.score(t, other=det.bi)
        b = time.perf_counter()
        want = det.tri.score_dense(t, other=det.bi)
        c = time.perf_counter()
        sparse, dense = sparse + b - a, dense + c - b
        if not np.array_equal(got["rank"], want["rank"]):
            print("ranks differ between sparse and dense scoring", file=sys.stderr)
            return 1
        for k in ("logp", "entropy", "var", "xent"):
            worst = max(worst, float(np.max(np.abs(got[k] - want[k]) / (np.abs(want[k]) + 1e-12))))
    n_tok = sum(len(t) for t in toks)
    rows = [["dense (definition)", round(dense, 2), round(n_tok / dense), 1.0],
            ["sparse (NGramLM.score)", round(sparse, 2), round(n_tok / sparse), round(dense / sparse, 1)]]
    body = (
        "## Text LM scoring (sparse vs dense)\n\n"
        f"`.venv/bin/python bench/text_scoring.py --passages {args.passages}`: {len(toks)} passages from "
        f"{source}, {n_tok:,} tokens, trigram scoring with the bigram cross-entropy (the per-token work of "
        "every text scan and of the threshold fit), alternating in one process.\n\n"
        + table(["method", "seconds", "tokens/s", "speed-up"], rows)
        + f"\n\nRanks identical; largest relative difference in log-prob/entropy/variance/cross-entropy {worst:.1e}."
    )
    write_section("text-scoring", body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
