"""Train the text detector: human-text n-gram LMs, then logistic regression on their statistics.

The LMs are fitted on the *real* training texts only (plus optional extra human text), so the
features measure "how expected is this text to a model of human writing". The logistic
regression is fitted on train, the Platt calibrator on val.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from detector import media
from detector.text.detector import FEATURES, KIND, TextLMDetector, text_features
from detector.text.lm import NGramLM
from detector.text.tokenize import lm_tokens
from detector.train.common import finish, seed_everything
from detector.train.data import Record, load_splits

VERSION = "0.2.0"
NAME = "text-lm-logreg"


def train_text(
    data_dir: str | Path,
    models_dir: str | Path,
    *,
    seed: int = 0,
    epochs: int | None = None,
    holdout_generator: str | None = None,
    extra_human: list[str] | None = None,
    max_vocab: int = 20000,
    lm_share: float = 0.5,
    lm_count: int | None = None,
    c: float = 10.0,
) -> Path:
    """Train ``text-lm-logreg``.

    Args:
        data_dir: Dataset folder with ``labels.jsonl`` (text items).
        models_dir: Models root; weights and card go to ``models_dir/detectors/``.
        seed: Seed (which real training texts feed the LMs vs the classifier).
        epochs: Unused (closed-form fits); accepted for a uniform interface.
        holdout_generator: Generator (family) kept out of training and reported on test.
        extra_human: More human texts for the LMs only.
        max_vocab: LM vocabulary size.
        lm_share: Fraction of real training texts used for the LMs; the rest (unseen by the LMs)
            train the classifier, so "real" features are not those of memorised text.
        lm_count: Exact number of real training texts for the LMs (overrides ``lm_share``).
        c: Inverse L2 strength of the logistic regression (classes are weighted equally).

    Returns:
        The weights path.
    """
    import torch
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    models_dir = Path(models_dir)
    rng = seed_everything(seed)
    recs, tr, va, te = load_splits(data_dir, "text", holdout_generator=holdout_generator, what="texts")
    read = {r.path: media.load_text(r.path) for r in recs}
    real_tr = [r for r in tr if r.label == 0]
    order = rng.permutation(len(real_tr))
    n_lm = max(1, int(round(lm_share * len(real_tr)))) if len(real_tr) > 1 else len(real_tr)
    if lm_count is not None:
        n_lm = min(max(1, lm_count), len(real_tr))
    lm_paths = [real_tr[int(i)].path for i in order[:n_lm]]  # a list: set order would vary per process
    lm_recs = set(lm_paths)
    lm_texts = [lm_tokens(read[p]) for p in lm_paths] + [lm_tokens(t) for t in (extra_human or [])]
    tri = NGramLM.fit(lm_texts, order=3, max_vocab=max_vocab, min_count=1)
    bi = NGramLM(2, tri.vocab, tri.unigram, {2: tri.tables[2]})
    clf_recs = [r for r in tr if r.path not in lm_recs]
    if {r.label for r in clf_recs} != {0, 1}:
        clf_recs = tr  # tiny datasets: the classifier must see both classes

    def feats(rs: list[Record], d: str) -> np.ndarray:
        bar = tqdm(rs, desc=f"features {d}", file=sys.stderr, leave=False)
        return np.stack([text_features(tri, bi, lm_tokens(read[r.path]))[0] for r in bar])

    x = feats(clf_recs, "train")
    y = np.array([r.label for r in clf_recs])
    mean, std = x.mean(0), x.std(0) + 1e-6
    # Balanced class weights: the human class is larger, and the operating point that matters is
    # a low human FPR, so neither class may be drowned out.
    clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit((x - mean) / std, y)
    state = {
        "vocab": list(tri.vocab),
        **tri.to_state("tri_"),
        "mean": torch.from_numpy(mean),
        "std": torch.from_numpy(std),
        "coef": torch.from_numpy(clf.coef_[0].astype(np.float64)),
        "intercept": torch.tensor([float(clf.intercept_[0])], dtype=torch.float64),
    }
    config = {
        "lm": "trigram observer + bigram performer, absolute discounting 0.75",
        "vocab": len(tri.vocab),
        "features": list(FEATURES),
        "max_tokens": 600,
        "classifier": f"logistic regression C={c}, balanced classes",
    }
    det = TextLMDetector(NAME, {"config": config, "state": state, "version": VERSION})
    raw = lambda rs: np.array([det.raw_score(read[r.path]) for r in rs])  # noqa: E731
    return finish(
        name=NAME,
        kind=KIND,
        version=VERSION,
        config=config,
        state=state,
        models_dir=models_dir,
        val=(va, raw(va)),
        test=(te, raw(te)),
        train_recs=tr,
        seed=seed,
        started=started,
        holdout_generator=holdout_generator,
        card_extra={
            "input": {"tokenizer": "detector.text.tokenize.lm_tokens", "min_words": 20},
            "lm_training_texts": len(lm_texts),
            "coefficients": {k: round(float(c), 4) for k, c in zip(FEATURES, clf.coef_[0], strict=True)},
        },
    )
