"""Text detector: GLTR rank statistics and a Binoculars-style ratio from two small n-gram LMs,
fed to a logistic regression and calibrated with Platt scaling.

Both LMs (a trigram "observer" and a bigram "performer" sharing one vocabulary) are trained on
human text only. Machine text from small LMs sits in the head of a human-text model's
distribution: more top-1 / top-10 ranked tokens (GLTR, Gehrmann et al. 2019), and a lower
perplexity relative to the cross-entropy between the two models (Binoculars, Hans et al. 2024).
Evidence carries the per-word rank bucket (GLTR colours) with character offsets for highlighting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from detector.base import register_detector
from detector.text.lm import NGramLM
from detector.text.tokenize import PUNCT, lm_tokens, word_spans
from detector.train.io import Platt, load_weights, resolve_models_dir, weights_path
from detector.types import Finding, MediaItem

KIND = "text-lm-logreg"
MIN_WORDS = 20
MAX_TOKENS = 600
FEATURES = (
    "mean_logp_tri",
    "std_logp_tri",
    "mean_logp_bi",
    "rank1",
    "rank10",
    "rank100",
    "rank_gt1000",
    "mean_entropy",
    "binoculars",
    "mean_logp_gain",
    "unk_frac",
)
BUCKETS = ((1, "top1"), (10, "top10"), (100, "top100"))


def text_features(tri: NGramLM, bi: NGramLM, toks: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The feature vector (order of ``FEATURES``) and the per-token statistics."""
    toks = toks[:MAX_TOKENS]
    s = tri.score(toks, other=bi)
    b = bi.score(toks)
    r = s["rank"]
    ppl = -s["logp"].mean()
    f = np.array(
        [
            s["logp"].mean(),
            s["logp"].std(),
            b["logp"].mean(),
            np.mean(r <= 1),
            np.mean(r <= 10),
            np.mean(r <= 100),
            np.mean(r > 1000),
            s["entropy"].mean(),
            ppl / max(s["xent"].mean(), 1e-6),
            (s["logp"] - b["logp"]).mean(),
            np.mean(np.array(tri.encode(toks)) == 0),
        ],
        np.float64,
    )
    return f, s


class TextLMDetector:
    """Two n-gram LMs + standardised logistic regression + Platt calibrator."""

    modality = "text"

    def __init__(self, name: str, payload: dict[str, Any]) -> None:
        st = payload["state"]
        self.name = name
        self.version = str(payload.get("version", "0"))
        self.config = dict(payload.get("config", {}))
        vocab = list(st["vocab"])
        self.tri = NGramLM.from_state(st, "tri_", vocab)
        self.bi = NGramLM(2, vocab, self.tri.unigram, {2: self.tri.tables[2]})
        self.mean = np.asarray(st["mean"], np.float64)
        self.std = np.asarray(st["std"], np.float64)
        self.coef = np.asarray(st["coef"], np.float64)
        self.intercept = float(np.asarray(st["intercept"]).ravel()[0])
        self.calibrator = Platt.from_dict(payload.get("calibrator"))
        self.threshold = float(payload.get("threshold", 0.5))

    @classmethod
    def load(cls, path: Path, *, name: str) -> TextLMDetector:
        return cls(name, load_weights(path, kind=KIND, name=name))

    def _raw(self, text: str) -> tuple[float, list[str], dict[str, np.ndarray], np.ndarray]:
        toks = lm_tokens(text)
        f, s = text_features(self.tri, self.bi, toks)
        return float(((f - self.mean) / self.std) @ self.coef + self.intercept), toks, s, f

    def raw_score(self, text: str) -> float:
        return self._raw(text)[0]

    def score(self, text: str) -> float:
        return float(self.calibrator(self.raw_score(text)))

    def analyze(self, item: MediaItem, signal: str) -> Finding:
        spans = word_spans(signal)
        if len(spans) < MIN_WORDS:
            return Finding(
                self.name, self.version, None, "skipped", {"reason": f"fewer than {MIN_WORDS} words"}
            )
        raw, toks, s, f = self._raw(signal)
        highlight = []
        wi = 0
        for t, rank, lp in zip(toks[:MAX_TOKENS], s["rank"], s["logp"], strict=False):
            if t in PUNCT:
                continue
            if wi >= len(spans):
                break
            _, a, b = spans[wi]
            wi += 1
            bucket = next((name for lim, name in BUCKETS if rank <= lim), "rest")
            highlight.append(
                {"start": a, "end": b, "rank": int(rank), "bucket": bucket, "logp": round(float(lp), 2)}
            )
        return Finding(
            self.name,
            self.version,
            round(float(self.calibrator(raw)), 4),
            "ok",
            {
                "calibrated": True,
                "raw_score": round(raw, 4),
                "threshold": self.threshold,
                "features": {k: round(float(v), 4) for k, v in zip(FEATURES, f, strict=True)},
                "tokens_scored": min(len(toks), MAX_TOKENS),
                "highlight": highlight,
                "highlight_legend": "GLTR rank buckets under a human-text trigram LM: top1/top10 words are what "
                "a language model would most expect; machine text has more of them.",
            },
        )


@register_detector("text-lm-logreg", modality="text", calibrated=True)
def text_lm_logreg(*, models_dir: Path | None = None, **kw: Any) -> TextLMDetector:
    """GLTR + Binoculars-style features from human-text n-gram LMs; needs ``detectors/text-lm-logreg.pt``."""
    return TextLMDetector.load(
        weights_path(resolve_models_dir(models_dir), "text-lm-logreg"), name="text-lm-logreg"
    )
