"""What the text detector's input gates (detector/text/detector.py) skip or keep from deciding, and on what.

Two gates protect the published verdict threshold: a text mostly unknown to the English LMs is
skipped (``MAX_UNKNOWN``), and a list or verse is scored but never decides (``unvalidated_form``).
This measures, with the shipped weights: the probe texts that were labelled "synthetic" before the
gates (their score and what the gates now do), every human passage of the corpus (unknown share per
source; which passages each gate catches, by split; the scores of the caught test-split passages
against the published threshold, which was fitted on that split), and texts sampled from the two
generators (the synthetic side of the evaluation must not be gated). Writes JSON.

    python -m bench.text_input_gates --corpus data/corpus --out docs/eval/text_input_gates.json
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bench.common import load_detector

PROBES = {
    "french_news": "Le gouvernement a annoncé mardi une série de mesures destinées à soutenir les agriculteurs "
    "touchés par la sécheresse. Selon le ministre, les aides seront versées avant la fin du mois et concerneront "
    "près de dix mille exploitations dans le sud du pays. Les syndicats agricoles jugent cependant ces annonces "
    "insuffisantes et appellent à une mobilisation nationale la semaine prochaine.",
    "german_news": "Die Bundesregierung hat am Dienstag ein Paket von Maßnahmen angekündigt, mit dem Landwirte "
    "unterstützt werden sollen, die unter der Dürre leiden. Nach Angaben des Ministers sollen die Hilfen noch vor "
    "Ende des Monats ausgezahlt werden und rund zehntausend Betriebe im Süden des Landes betreffen.",
    "base64": base64.b64encode(np.random.default_rng(0).bytes(3000)).decode(),
    "numbers": " ".join(str(n) for n in np.random.default_rng(1).integers(0, 999, 800)),
    "lyrics": "Oh the river runs and the river flows\nAnd where it goes nobody knows\nOh the river runs and the "
    "river flows\nAnd where it goes nobody knows\nI walked along the water side\nI walked along the water side\n"
    "And the night was long and the night was wide",
    "table_of_contents": "Chapter 1 Introduction 1\nChapter 2 Background 15\n2.1 History 16\n2.2 Related Work 22\n"
    "Chapter 3 Methods 35\n3.1 Data Collection 36\n3.2 Analysis 44\nChapter 4 Results 59\nChapter 5 Discussion 80\n"
    "References 95\nIndex 110",
    "recipe": "2 cups flour\n1 teaspoon baking soda\n1/2 teaspoon salt\n1 cup butter, softened\n3/4 cup sugar\n"
    "3/4 cup brown sugar\n1 teaspoon vanilla extract\n2 large eggs\n2 cups chocolate chips\n1 cup chopped walnuts\n"
    "Preheat oven to 375 degrees. Combine flour, baking soda and salt in small bowl. Beat butter, sugar, brown sugar "
    "and vanilla in large mixer bowl until creamy. Add eggs one at a time, beating well after each addition.",
    "english_news": "The city council voted on Tuesday to approve a new budget that includes funding for road "
    "repairs, public libraries and a pilot program for electric buses. Council members debated the proposal for "
    "more than three hours before the final vote, which passed seven to two. The mayor said the plan would help "
    "the city meet its climate goals while keeping taxes stable for residents.",
}


def gate(det: object, text: str) -> str:
    """What the detector does with ``text``: "skipped", "outside_validation" or "scored"."""
    from detector.types import MediaItem

    f = det.analyze(MediaItem("x.txt", "x.txt", "0" * 64, "text", "text/plain", 1), text)
    if f.status != "ok":
        return "skipped"
    return "outside_validation" if f.evidence.get("outside_validation") else "scored"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", type=Path, default=Path("models"))
    ap.add_argument("--corpus", type=Path, required=True, help="real corpus (provscan corpus build)")
    ap.add_argument("--generated", type=int, default=60, help="texts sampled per generator")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    if not (args.corpus / "manifest.jsonl").is_file():
        print(f"{args.corpus} has no manifest.jsonl (provscan corpus build --dest {args.corpus})", file=sys.stderr)
        return 2
    from detector.eval.threshold import read_from_card
    from detector.text.detector import MAX_UNKNOWN, unvalidated_form

    det = load_detector("text-lm-logreg", args.models)
    if det is None:
        return 2
    threshold = read_from_card(args.models / "detectors" / "text-lm-logreg.yaml")
    probes = {k: {"score_ungated": round(det.score(t), 4), "unknown_share": round(det.unknown_share(t), 3),
                  "now": gate(det, t)} for k, t in PROBES.items()}

    recs = [json.loads(x) for x in (args.corpus / "manifest.jsonl").read_text("utf-8").splitlines() if x.strip()]
    recs = [r for r in recs if r["modality"] == "text"]
    unknown: dict[str, list[float]] = defaultdict(list)
    caught: dict[str, Counter] = {"unknown": Counter(), "form": Counter()}
    caught_test: list[dict] = []
    for r in tqdm(recs, desc="corpus passages", unit="text", file=sys.stderr):
        text = (args.corpus / r["path"]).read_text("utf-8")
        u = det.unknown_share(text)
        unknown[r["source"]].append(u)
        form = unvalidated_form(text)
        for name, hit in (("unknown", u > MAX_UNKNOWN), ("form", form is not None)):
            if hit:
                caught[name][r["split"]] += 1
                if r["split"] == "test":
                    caught_test.append({"id": r["id"], "gate": name, "score_ungated": round(det.score(text), 4)})
    pool = np.concatenate([np.asarray(v) for v in unknown.values()])

    from generators.base import GENERATORS
    from generators.dataset import _register_families

    _register_families("text")
    generated = {}
    for name in ("text-gru", "text-ngram"):
        g = GENERATORS.create(name)
        us, forms = [], 0
        for i in tqdm(range(args.generated), desc=name, unit="text", file=sys.stderr):
            made = str(g.generate("The city council", seed=i, max_words=(150, 200, 330)[i % 3],
                                  temperature=(0.6, 0.8, 1.0, 1.1, 1.4)[i % 5], top_k=0, top_p=1.0).data)
            us.append(det.unknown_share(made))
            forms += unvalidated_form(made) is not None
        generated[name] = {"n": args.generated, "max_unknown_share": round(max(us), 3), "unvalidated_form": forms}

    result = {
        "published_threshold": threshold,
        "max_unknown": MAX_UNKNOWN,
        "probes": probes,
        "corpus": {
            "passages": int(len(pool)),
            "unknown_share_p99_9": round(float(np.quantile(pool, 0.999)), 3),
            "unknown_share_per_source": {s: {"n": len(v), "median": round(float(np.median(v)), 3),
                                             "max": round(float(max(v)), 3)} for s, v in sorted(unknown.items())},
            "skipped_not_english_by_split": dict(caught["unknown"]),
            "unvalidated_form_by_split": dict(caught["form"]),
            "test_split_caught": caught_test,
            "test_split_caught_above_threshold": sum(c["score_ungated"] >= (threshold or 1.0) for c in caught_test),
        },
        "generated": generated,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({"probes": probes, "corpus_caught": {k: dict(v) for k, v in caught.items()},
                      "test_split_caught_above_threshold": result["corpus"]["test_split_caught_above_threshold"],
                      "generated": generated}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
