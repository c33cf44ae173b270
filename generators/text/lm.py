"""What the word-level text generators share: vocabulary, training corpus, sampling and the decode loop.

Both language models (``text-ngram``, ``text-gru``) predict *LM tokens* (normalised words plus
sentence punctuation, :func:`detector.text.tokenize.lm_tokens`) and are decoded by
:func:`decode`, which applies the ``provscan-text`` watermark bias to word tokens, then
temperature / top-k / top-p, and samples with a seeded numpy generator, so a (model, seed,
params) triple always gives the same text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from detector.text.tokenize import PUNCT, SENTENCE_END, detokenize, lm_tokens, words
from detector.watermark.text import TextWatermark
from generators.errors import GeneratorError, GeneratorUnavailableError

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
SPECIALS = (UNK, BOS, EOS)
# Training text for the language models: prose-like sources. WordNet glosses are left out of
# training (terse definitions) and kept for the watermark's false-positive benchmark.
LM_SOURCES = ("pydoc", "fortunes", "devil", "jargon")
# Every n-th document goes to validation: a split by document, never by window.
VAL_EVERY = 20


class Vocab:
    """A word-level vocabulary: specials, sentence punctuation, then the most frequent words.

    Args:
        tokens: All tokens, specials first; indices are positions in this list.
    """

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens: list[str] = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        if len(self.index) != len(self.tokens):
            raise GeneratorError("vocabulary has duplicate tokens")
        self.unk, self.bos, self.eos = (self.index[s] for s in SPECIALS)
        # Only word tokens are watermarked (the detector scores words, not punctuation).
        self.word_mask = np.array([t not in PUNCT and t not in SPECIALS for t in self.tokens], dtype=bool)
        self.punct_ids = [self.index[p] for p in PUNCT if p in self.index]

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, toks: Iterable[str]) -> list[int]:
        return [self.index.get(t, self.unk) for t in toks]


def build_vocab(docs: Iterable[Sequence[str]], size: int) -> Vocab:
    """The ``size`` most frequent tokens (ties alphabetical), plus specials and punctuation.

    Tokens that would not survive ``words(detokenize([t]))`` unchanged are dropped, so every
    generated word reads back as itself (the watermark depends on it).
    """
    counts: Counter[str] = Counter()
    for toks in docs:
        counts.update(toks)
    fixed = list(SPECIALS) + list(PUNCT)
    ranked = sorted((t for t in counts if t not in fixed), key=lambda t: (-counts[t], t))
    chosen = []
    for t in ranked:
        if len(fixed) + len(chosen) >= size:
            break
        if words(detokenize([t])) == [t]:
            chosen.append(t)
    return Vocab(fixed + chosen)


def load_documents(data: Path | Sequence[str] | None = None) -> tuple[list[list[str]], list[str]]:
    """Training documents as LM-token lists, and a description of where they came from.

    Args:
        data: None (the default sources under ``$PROVSCAN_DATA_DIR/text-src``), a folder of
            extracted Debian packages (:mod:`generators.text.sources`), or a list of texts.

    Returns:
        ``(docs, description)``; ``description`` lists sources with licences for the card.
    """
    from generators.text.sources import LICENCES, iter_documents

    if data is None or isinstance(data, str | Path):
        found: Counter[str] = Counter()
        docs = []
        for d in iter_documents(Path(data) if data is not None else None, sources=LM_SOURCES):
            toks = lm_tokens(d.text)
            if toks:
                docs.append(toks)
                found[d.source] += 1
        desc = [f"{s}: {n} documents, {LICENCES[s]}" for s, n in sorted(found.items())]
    else:
        docs = [t for t in (lm_tokens(x) for x in data) if t]
        desc = [f"{len(docs)} texts given by the caller"]
    if not docs:
        raise GeneratorUnavailableError(
            "no training text found (see generators.text.sources.fetch_text_sources)"
        )
    return docs, desc


def split_documents(docs: Sequence[Sequence[str]]) -> tuple[list[Sequence[str]], list[Sequence[str]]]:
    """(train, validation): every ``VAL_EVERY``-th document is validation (at least one)."""
    val = [d for i, d in enumerate(docs) if i % VAL_EVERY == VAL_EVERY - 1]
    train = [d for i, d in enumerate(docs) if i % VAL_EVERY != VAL_EVERY - 1]
    if not val:
        val, train = [docs[-1]], list(docs[:-1]) or [docs[-1]]
    return train, val


def sample_token(
    logits: np.ndarray,
    rng: np.random.Generator,
    *,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
) -> int:
    """Sample one id from ``logits`` (``-inf`` = forbidden).

    Args:
        logits: 1-D float array.
        rng: Seeded generator; exactly one ``rng.random()`` draw per call keeps runs aligned.
        temperature: Softmax temperature; 0 means greedy.
        top_k: Keep the k most likely ids (0 = all).
        top_p: Keep the smallest set of ids whose probability reaches ``top_p``.

    Returns:
        The sampled id.
    """
    u = rng.random()
    logits = np.asarray(logits, dtype=np.float64)
    if temperature <= 0:
        return int(np.argmax(logits))
    z = logits / temperature
    if not (top_k and top_k > 0) and top_p >= 1.0:
        # Plain sampling needs no sort (the sort dominated decode time on an 8k vocabulary).
        p = np.exp(z - z.max())
        cdf = np.cumsum(p)
        return int(min(np.searchsorted(cdf, u * cdf[-1], side="right"), len(p) - 1))
    order = np.argsort(-z, kind="stable")
    if top_k and top_k > 0:
        order = order[:top_k]
    z = z[order]
    p = np.exp(z - z[0])
    p /= p.sum()
    if top_p < 1.0:
        keep = int(np.searchsorted(np.cumsum(p), top_p) + 1)
        order, p = order[:keep], p[:keep] / p[:keep].sum()
    idx = int(np.searchsorted(np.cumsum(p), u * p.sum(), side="right"))
    return int(order[min(idx, len(order) - 1)])


StepFn = Callable[[Any, int], tuple[np.ndarray, Any]]


@dataclass(frozen=True)
class Decoded:
    """A decoded continuation: LM tokens and the text they detokenise to."""

    tokens: list[str]
    text: str
    n_words: int


def decode(
    step: StepFn,
    state: Any,
    vocab: Vocab,
    *,
    prompt: str,
    seed: int,
    max_words: int = 200,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    watermark: TextWatermark | None = None,
) -> Decoded:
    """Sample a continuation of ``prompt`` with a model given as a step function.

    Args:
        step: ``step(state, token_id) -> (next-token logits over vocab, new state)``.
        state: The model's initial state (before ``<s>``).
        vocab: The model's vocabulary.
        prompt: Text to condition on (may be empty); it is not part of the output.
        seed: Seed of the sampler.
        max_words: Stop after this many words (punctuation not counted).
        temperature: See :func:`sample_token`.
        top_k: See :func:`sample_token`.
        top_p: See :func:`sample_token`.
        watermark: When given, its ``bias_logits`` is applied to word tokens at every step.

    Returns:
        The continuation.
    """
    rng = np.random.default_rng(seed)
    logits, state = step(state, vocab.bos)
    prev_word: str | None = None
    for tok in lm_tokens(prompt):
        logits, state = step(state, vocab.index.get(tok, vocab.unk))
        if tok not in PUNCT:
            prev_word = tok
    forbidden = [vocab.unk, vocab.bos]
    out: list[str] = []
    n_words = 0
    # No punctuation right after a break or punctuation; no empty paragraph.
    after_break, after_punct = True, False
    while n_words < max_words:
        z = np.array(logits, dtype=np.float64, copy=True)
        z[forbidden] = -np.inf
        if after_break or after_punct:
            z[vocab.punct_ids] = -np.inf
        if after_break:
            z[vocab.eos] = -np.inf
        if watermark is not None:
            z = watermark.bias_logits(prev_word, z, vocab.tokens, word_mask=vocab.word_mask)
        tid = sample_token(z, rng, temperature=temperature, top_k=top_k, top_p=top_p)
        if tid == vocab.eos:
            # End of a document in the training stream: start a new paragraph and a new context.
            out.append("\n")
            logits, state = step(state, vocab.eos)
            logits, state = step(state, vocab.bos)
            after_break, after_punct = True, False
            continue
        tok = vocab.tokens[tid]
        out.append(tok)
        logits, state = step(state, tid)
        after_break, after_punct = False, tok in PUNCT
        if not after_punct:
            prev_word = tok
            n_words += 1
    while out and out[-1] == "\n":
        out.pop()
    if out and out[-1] not in SENTENCE_END:
        out = out[:-1] + [out[-1], "."] if out[-1] not in PUNCT else out[:-1] + ["."]
    return Decoded(tokens=out, text=detokenize(out), n_words=n_words)


def models_dir(override: Path | None = None) -> Path:
    """``Settings.models_dir / "generators"`` unless ``override`` is given."""
    if override is not None:
        return Path(override)
    from detector.settings import Settings

    return Settings.from_env().models_dir / "generators"


def make_watermark(enabled: bool, key: str | None, gamma: float, delta: float) -> TextWatermark | None:
    """The watermark used while decoding, or None; the key defaults to ``Settings.watermark_key``."""
    if not enabled:
        return None
    if key is None:
        from detector.settings import Settings

        key = Settings.from_env().watermark_key
    return _watermark(key, gamma, delta)


@lru_cache(maxsize=16)
def _watermark(key: str, gamma: float, delta: float) -> TextWatermark:
    # One instance per setting, so its green-mask cache survives across generate() calls.
    return TextWatermark(key, gamma=gamma, delta=delta)
