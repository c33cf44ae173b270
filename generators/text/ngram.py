"""``text-ngram``: a word-level trigram language model with interpolated Kneser-Ney smoothing.

Counts are taken from the human text of :mod:`generators.text.sources` by
:func:`train_text_ngram` and stored as sorted integer arrays (``text-ngram.npz``, a few MB) next
to a card (``text-ngram.yaml``) in ``Settings.models_dir / "generators"``. A distribution over
the whole vocabulary is computed per step (Chen & Goodman 1998, interpolated KN with one
discount per order), so the ``provscan-text`` watermark can bias it like any neural LM's logits.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from generators.base import Generated, register_generator
from generators.errors import GeneratorError, GeneratorUnavailableError
from generators.text.lm import (
    VAL_EVERY,
    Vocab,
    build_vocab,
    decode,
    load_documents,
    make_watermark,
    models_dir,
    split_documents,
)

NAME = "text-ngram"
VERSION = "1"
WEIGHTS = "text-ngram.npz"
CARD = "text-ngram.yaml"
BUILD_HINT = "provscan train-generator text-ngram  (or: python -m generators.text.train text-ngram)"


def _discount(counts: np.ndarray) -> float:
    """Ney's discount D = n1 / (n1 + 2 n2) from the count-of-counts."""
    n1 = int((counts == 1).sum())
    n2 = int((counts == 2).sum())
    if n1 + n2 == 0:
        return 0.5
    return min(0.95, max(0.05, n1 / (n1 + 2 * n2)))


class TrigramKN:
    """Interpolated Kneser-Ney trigram model over a :class:`Vocab`.

    Args:
        vocab: The vocabulary.
        tri_keys: Sorted unique ``(u * V + v) * V + w`` trigram keys (int64).
        tri_counts: Their counts.
        bi_keys: Sorted unique ``v * V + w`` bigram keys.
        bi_cont: Kneser-Ney continuation counts ``N1+(. v w)``.
        uni_cont: ``N1+(. w)`` per word (length V).
    """

    def __init__(
        self,
        vocab: Vocab,
        tri_keys: np.ndarray,
        tri_counts: np.ndarray,
        bi_keys: np.ndarray,
        bi_cont: np.ndarray,
        uni_cont: np.ndarray,
    ) -> None:
        self.vocab = vocab
        V = len(vocab)
        self.V = V
        self.tri_keys, self.tri_counts = tri_keys.astype(np.int64), tri_counts.astype(np.float64)
        self.bi_keys, self.bi_cont = bi_keys.astype(np.int64), bi_cont.astype(np.float64)
        self.tri_ctx = self.tri_keys // V
        self.tri_w = self.tri_keys % V
        self.bi_ctx = self.bi_keys // V
        self.bi_w = self.bi_keys % V
        self.d3 = _discount(tri_counts)
        self.d2 = _discount(bi_cont)
        uni = uni_cont.astype(np.float64) + 1e-3  # every word keeps a little mass (no zeros)
        self.p1 = uni / uni.sum()
        self._p2_cache: dict[int, np.ndarray] = {}

    @classmethod
    def fit(cls, docs: Sequence[Sequence[int]], vocab: Vocab) -> TrigramKN:
        """Count trigrams of ``<s> <s> doc </s>`` for every encoded document."""
        V = len(vocab)
        seqs = [np.asarray([vocab.bos, vocab.bos, *d, vocab.eos], dtype=np.int64) for d in docs]
        a = np.concatenate([s[:-2] for s in seqs])
        b = np.concatenate([s[1:-1] for s in seqs])
        c = np.concatenate([s[2:] for s in seqs])
        tri_keys, tri_counts = np.unique((a * V + b) * V + c, return_counts=True)
        # Continuation count of (v, w): how many distinct u precede it.
        bi_keys, bi_cont = np.unique(tri_keys % (V * V), return_counts=True)
        uni_cont = np.bincount(bi_keys % V, minlength=V)
        return cls(vocab, tri_keys, tri_counts, bi_keys, bi_cont, uni_cont)

    def _range(self, ctx_arr: np.ndarray, ctx: int) -> tuple[int, int]:
        return int(np.searchsorted(ctx_arr, ctx, "left")), int(np.searchsorted(ctx_arr, ctx, "right"))

    def _p2(self, v: int) -> np.ndarray:
        p = self._p2_cache.get(v)
        if p is not None:
            return p
        lo, hi = self._range(self.bi_ctx, v)
        if hi == lo:
            p = self.p1
        else:
            cnt = self.bi_cont[lo:hi]
            tot = cnt.sum()
            p = self.p1 * (self.d2 * (hi - lo) / tot)
            p[self.bi_w[lo:hi]] += np.maximum(cnt - self.d2, 0.0) / tot
        if len(self._p2_cache) > 20000:
            self._p2_cache.clear()
        self._p2_cache[v] = p
        return p

    def prob(self, u: int, v: int) -> np.ndarray:
        """``P(w | u, v)`` for every w (sums to 1)."""
        p2 = self._p2(v)
        lo, hi = self._range(self.tri_ctx, u * self.V + v)
        if hi == lo:
            return p2
        cnt = self.tri_counts[lo:hi]
        tot = cnt.sum()
        p = p2 * (self.d3 * (hi - lo) / tot)
        p[self.tri_w[lo:hi]] += np.maximum(cnt - self.d3, 0.0) / tot
        return p

    def step(self, state: tuple[int, int] | None, token: int) -> tuple[np.ndarray, tuple[int, int]]:
        """Step function for :func:`generators.text.lm.decode`: state = last two ids."""
        if token == self.vocab.bos:
            state = (self.vocab.bos, self.vocab.bos)
        else:
            assert state is not None
            state = (state[1], token)
        return np.log(self.prob(*state)), state

    def perplexity(self, docs: Sequence[Sequence[int]]) -> float:
        """Per-token perplexity on encoded documents (``</s>`` included, like training)."""
        nll, n = 0.0, 0
        for d in docs:
            seq = [self.vocab.bos, self.vocab.bos, *d, self.vocab.eos]
            for i in range(2, len(seq)):
                nll -= float(np.log(self.prob(seq[i - 2], seq[i - 1])[seq[i]]))
                n += 1
        return float(np.exp(nll / max(n, 1)))

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            vocab=np.array(self.vocab.tokens),
            tri_keys=self.tri_keys,
            tri_counts=self.tri_counts.astype(np.uint32),
            bi_keys=self.bi_keys,
            bi_cont=self.bi_cont.astype(np.uint32),
            uni_cont=(np.bincount(self.bi_w, minlength=self.V)).astype(np.uint32),
        )

    @classmethod
    def load(cls, path: Path) -> TrigramKN:
        with np.load(path, allow_pickle=False) as z:
            vocab = Vocab([str(t) for t in z["vocab"]])
            return cls(vocab, z["tri_keys"], z["tri_counts"], z["bi_keys"], z["bi_cont"], z["uni_cont"])


def train_text_ngram(
    out_dir: Path,
    *,
    seed: int = 0,
    data: Path | Sequence[str] | None = None,
    vocab_size: int = 8000,
) -> Path:
    """Count a Kneser-Ney trigram model on human text; write weights and card to ``out_dir``.

    Args:
        out_dir: Folder for ``text-ngram.npz`` and ``text-ngram.yaml`` (usually
            ``Settings.models_dir / "generators"``).
        seed: Recorded on the card (counting is deterministic).
        data: See :func:`generators.text.lm.load_documents`.
        vocab_size: Vocabulary size including specials and punctuation.

    Returns:
        Path of the weights file.
    """
    import yaml

    t0 = time.time()
    docs, desc = load_documents(data)
    train, val = split_documents(docs)
    vocab = build_vocab(train, vocab_size)
    model = TrigramKN.fit([vocab.encode(d) for d in train], vocab)
    # Validation perplexity on a bounded sample keeps training in seconds.
    val_ids = [vocab.encode(d) for d in val][:300]
    ppl = model.perplexity(val_ids)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / WEIGHTS
    model.save(path)
    card = {
        "name": NAME,
        "version": VERSION,
        "kind": "word-level trigram LM, interpolated Kneser-Ney (Chen & Goodman 1998)",
        "weights": WEIGHTS,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "size_bytes": path.stat().st_size,
        "vocab_size": len(vocab),
        "trigram_types": len(model.tri_keys),
        "discounts": {"trigram": round(model.d3, 4), "bigram": round(model.d2, 4)},
        "data": desc,
        "train_tokens": int(sum(len(d) + 1 for d in train)),
        "val_tokens": int(sum(len(d) + 1 for d in val_ids)),
        "val_documents": f"every {VAL_EVERY}th document",
        "val_perplexity": round(ppl, 2),
        "seed": seed,
        "time_s": round(time.time() - t0, 2),
    }
    (out_dir / CARD).write_text(yaml.safe_dump(card, sort_keys=False))
    return path


class NgramGenerator:
    """The ``text-ngram`` generator (see module docstring)."""

    name = NAME
    version = VERSION
    modality = "text"

    def __init__(self, model: TrigramKN, *, watermark_key: str | None = None) -> None:
        self.model = model
        self.watermark_key = watermark_key

    def generate(
        self,
        prompt: str = "",
        *,
        seed: int,
        max_words: int = 200,
        temperature: float = 1.0,
        top_k: int = 0,
        top_p: float = 1.0,
        watermark: bool = False,
        gamma: float = 0.25,
        delta: float = 2.0,
    ) -> Generated:
        """Sample about ``max_words`` words continuing ``prompt``.

        Args:
            prompt: Conditioning text (not included in the output).
            seed: Sampling seed; same seed and params give the same text.
            max_words: Words to generate (punctuation not counted).
            temperature: Softmax temperature (0 = greedy).
            top_k: Keep only the k most likely tokens (0 = off).
            top_p: Nucleus sampling mass (1 = off).
            watermark: Apply the ``provscan-text`` green-list bias while sampling.
            gamma: Green-list fraction of the watermark.
            delta: Logit bias of the watermark.

        Returns:
            ``Generated`` with the text in ``data``.
        """
        wm = make_watermark(watermark, self.watermark_key, gamma, delta)
        out = decode(
            self.model.step,
            None,
            self.model.vocab,
            prompt=prompt,
            seed=seed,
            max_words=max_words,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            watermark=wm,
        )
        params: dict[str, Any] = {
            "max_words": max_words,
            "temperature": temperature,
            "top_k": top_k,
            "top_p": top_p,
            "watermark": "provscan-text" if watermark else None,
        }
        if watermark:
            params.update(gamma=gamma, delta=delta)
        return Generated(
            modality="text",
            data=out.text,
            generator=NAME,
            version=VERSION,
            seed=seed,
            params=params,
            prompt=prompt,
        )


def load_ngram(path: Path) -> TrigramKN:
    """Load ``text-ngram.npz``; raise ``GeneratorUnavailableError`` with the build command if absent."""
    if not path.exists():
        raise GeneratorUnavailableError(f"{NAME} weights not found at {path}; build them with: {BUILD_HINT}")
    try:
        return TrigramKN.load(path)
    except (OSError, KeyError, ValueError) as exc:
        raise GeneratorError(f"cannot read {path}: {exc}") from exc


@register_generator(NAME, modality="text")
def text_ngram(*, weights_dir: Path | None = None, watermark_key: str | None = None) -> NgramGenerator:
    """Factory: ``create_generator("text-ngram")`` loads ``<models_dir>/generators/text-ngram.npz``."""
    return NgramGenerator(load_ngram(models_dir(weights_dir) / WEIGHTS), watermark_key=watermark_key)
