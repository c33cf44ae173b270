"""Small word-level scoring language models for the text detector (no generator code imported).

An interpolated absolute-discounting n-gram model (order 2 or 3) over ``lm_tokens`` (words plus
sentence punctuation, see ``detector.text.tokenize``), trained on human text. It returns, for
each position, the full next-token distribution over its vocabulary, which is what GLTR's rank
statistics and Binoculars' cross-perplexity need.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

UNK = "<unk>"
BOS = "<s>"
DISCOUNT = 0.75


@dataclass
class NGramLM:
    """Interpolated absolute-discounting n-gram LM with an add-one unigram floor.

    Attributes:
        order: 2 (bigram) or 3 (trigram).
        vocab: Token strings; index 0 is ``<unk>``, 1 is ``<s>``.
        unigram: Counts per token id.
        tables: For each order k in 2..order: context tuple → (next ids, counts).
    """

    order: int
    vocab: list[str]
    unigram: np.ndarray
    tables: dict[int, dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]]]

    def __post_init__(self) -> None:
        self.index = {w: i for i, w in enumerate(self.vocab)}
        u = self.unigram.astype(np.float64)
        self._p1 = (u + 1.0) / (u.sum() + len(u))

    @classmethod
    def fit(
        cls,
        texts: list[list[str]],
        *,
        order: int = 3,
        max_vocab: int = 20000,
        min_count: int = 1,
        max_entries: int = 80_000,
    ) -> NGramLM:
        """Count n-grams in tokenised human texts.

        Args:
            texts: Token lists (``lm_tokens`` output).
            order: 2 or 3.
            max_vocab: Most frequent tokens kept; the rest map to ``<unk>``.
            min_count: n-grams (order >= 2) seen fewer times are dropped.
            max_entries: Cap on stored n-grams per order (most frequent kept) so weights stay small.
        """
        freq = Counter(t for toks in texts for t in toks)
        vocab = [UNK, BOS] + [w for w, _ in freq.most_common(max_vocab)]
        index = {w: i for i, w in enumerate(vocab)}
        ids = [[1] * (order - 1) + [index.get(t, 0) for t in toks] for toks in texts]
        uni = np.zeros(len(vocab), np.int64)
        for s in ids:
            np.add.at(uni, np.asarray(s[order - 1 :], dtype=np.int64), 1)
        tables: dict[int, dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]]] = {}
        for k in range(2, order + 1):
            c: Counter[tuple[int, ...]] = Counter()
            for s in ids:
                c.update(tuple(s[i - k + 1 : i + 1]) for i in range(order - 1, len(s)))
            kept = [(g, n) for g, n in c.most_common(max_entries) if n >= min_count]
            by: dict[tuple[int, ...], list[tuple[int, int]]] = {}
            for g, n in kept:
                by.setdefault(g[:-1], []).append((g[-1], n))
            tables[k] = {
                ctx: (np.array([w for w, _ in v], np.int64), np.array([n for _, n in v], np.float64))
                for ctx, v in by.items()
            }
        return cls(order, vocab, uni, tables)

    def encode(self, toks: list[str]) -> list[int]:
        return [self.index.get(t, 0) for t in toks]

    def dist(self, ctx: tuple[int, ...]) -> np.ndarray:
        """Next-token distribution after ``ctx`` (the last ``order-1`` ids), summing to 1."""
        p = self._p1
        for k in range(2, self.order + 1):
            c = ctx[len(ctx) - (k - 1) :]
            entry = self.tables[k].get(c)
            if entry is None:
                continue
            nxt, cnt = entry
            total = cnt.sum()
            q = p * (DISCOUNT * len(nxt) / total)
            q[nxt] += np.maximum(cnt - DISCOUNT, 0) / total
            p = q
        return p

    def sparse(self, ctx: tuple[int, ...]) -> tuple[float, np.ndarray, np.ndarray]:
        """:meth:`dist` as ``(a, ids, extra)``: p = a * unigram floor, plus ``extra`` at ``ids``.

        Interpolation only rescales the floor and adds mass at the words counted after the
        context, so a whole distribution is one scalar and a few hundred entries, not a dense
        vocabulary-sized vector (what makes scoring ~20x faster). ``ids`` are unique.
        """
        a = 1.0
        ids: np.ndarray | None = None
        extra: np.ndarray | None = None
        for k in range(2, self.order + 1):
            entry = self._sorted_tables()[k].get(ctx[len(ctx) - (k - 1) :])
            if entry is None:
                continue
            nxt, alpha, add = entry
            a *= alpha
            if ids is None or extra is None:
                ids, extra = nxt, add
            else:
                both = np.concatenate([ids, nxt])
                ids, inv = np.unique(both, return_inverse=True)
                extra = np.bincount(inv, weights=np.concatenate([extra * alpha, add]), minlength=len(ids))
        if ids is None or extra is None:
            return a, np.zeros(0, np.int64), np.zeros(0)
        return a, ids, extra

    def _sorted_tables(self) -> dict[int, dict[tuple[int, ...], tuple[np.ndarray, float, np.ndarray]]]:
        """Per context: successor ids sorted (for searchsorted), back-off weight, added mass.

        Built once, beside ``tables`` (whose stored order the weights file keeps)."""
        if not hasattr(self, "_st"):
            self._st = {}
            for k, table in self.tables.items():
                view = {}
                for ctx, (nxt, cnt) in table.items():
                    o = np.argsort(nxt, kind="stable")
                    total = cnt.sum()
                    view[ctx] = (nxt[o], DISCOUNT * len(nxt) / total, np.maximum(cnt[o] - DISCOUNT, 0) / total)
                self._st[k] = view
        return self._st

    def _floor_stats(self) -> tuple[np.ndarray, float, float, float]:
        """Sorted floor, and sum p1, sum p1 log p1, sum p1 log^2 p1 over the whole vocabulary."""
        if not hasattr(self, "_fs"):
            lp1 = np.log(self._p1)
            self._fs = (np.sort(self._p1), self._p1.sum(), self._p1 @ lp1, self._p1 @ (lp1 * lp1))
        return self._fs

    def score(self, toks: list[str], *, other: NGramLM | None = None) -> dict[str, np.ndarray]:
        """Per-position statistics of a token list.

        Args:
            toks: ``lm_tokens`` of a text.
            other: A second LM with the same vocabulary for cross-entropy (Binoculars); optional.

        Returns:
            ``logp`` (log-prob of each actual token), ``rank`` (1 = the model's top choice),
            ``entropy`` of the predicted distribution, ``var`` = the variance of log p(w) under
            the predicted distribution (Fast-DetectGPT's normaliser), ``seen`` = 1 where the
            full-order n-gram was counted in training, and with ``other``: ``xent`` =
            -sum_w p_self(w) log p_other(w).

        Every sum over the vocabulary is split into the rescaled floor (closed form from the
        floor's precomputed sums) and the context's few counted words, so the figures equal the
        dense computation over :meth:`dist` to float rounding (tested against it).
        """
        if other is not None and len(other.vocab) != len(self.vocab):
            raise ValueError("cross-entropy needs two LMs over the same vocabulary")
        p1 = self._p1
        srt, tot, ltot, qtot = self._floor_stats()
        if other is not None:
            lp1o = np.log(other._p1)
            cross = p1 @ lp1o  # sum p1 log p1_other over the whole vocabulary
        ids = [1] * (self.order - 1) + self.encode(toks)
        n = len(toks)
        logp, rank, ent, var, seen, xent = (np.zeros(n) for _ in range(6))
        nv = len(srt)
        for i in range(n):
            pos = i + self.order - 1
            ctx = tuple(ids[pos - self.order + 1 : pos])
            w = ids[pos]
            a, s_ids, s_add = self.sparse(ctx)
            p1s = p1[s_ids]
            ps = a * p1s + s_add
            j = int(np.searchsorted(s_ids, w))
            in_s = j < len(s_ids) and s_ids[j] == w
            pw = ps[j] if in_s else a * p1[w]
            logp[i] = np.log(pw)
            # Words outside the context's counted set compare on the floor alone (a > 0 keeps the
            # order; comparing p1 directly keeps the many equal-count words tied, as dense does).
            t = pw / a if in_s else p1[w]
            above_floor = nv - int(np.searchsorted(srt, t, side="right"))
            rank[i] = 1 + np.count_nonzero(ps > pw) + above_floor - np.count_nonzero(p1s > t)
            la = np.log(a)
            lps = np.log(ps)
            lp1s = np.log(p1s)
            rest_p = tot - p1s.sum()
            rest_l = ltot - p1s @ lp1s
            rest_q = qtot - p1s @ (lp1s * lp1s)
            ent[i] = -(a * (la * rest_p + rest_l) + ps @ lps)
            m2 = a * (la * la * rest_p + 2 * la * rest_l + rest_q) + ps @ (lps * lps)
            var[i] = max(m2 - ent[i] ** 2, 0.0)
            top = self.tables[self.order].get(ctx) if self.order > 1 else None
            seen[i] = float(top is not None and bool(np.any(top[0] == w)))
            if other is not None:
                octx = tuple(ids[pos - other.order + 1 : pos]) if other.order > 1 else ()
                b, o_ids, o_add = other.sparse(octx)
                at = np.searchsorted(s_ids, o_ids)
                if len(s_ids) and np.all(s_ids[np.minimum(at, len(s_ids) - 1)] == o_ids):
                    u, mine = s_ids, ps  # the usual case: a trigram LM's counted set covers its bigram's
                else:
                    u = np.union1d(s_ids, o_ids)
                    mine = a * p1[u]
                    mine[np.searchsorted(u, s_ids)] += s_add
                theirs = b * other._p1[u]
                theirs[np.searchsorted(u, o_ids)] += o_add
                rest = a * (np.log(b) * (tot - p1[u].sum()) + cross - p1[u] @ lp1o[u])
                xent[i] = -(rest + mine @ np.log(theirs))
        out = {"logp": logp, "rank": rank, "entropy": ent, "var": var, "seen": seen}
        if other is not None:
            out["xent"] = xent
        return out

    def score_dense(self, toks: list[str], *, other: NGramLM) -> dict[str, np.ndarray]:
        """:meth:`score`'s figures straight from the dense :meth:`dist` vectors: the definition
        the sparse code is tested and benchmarked against (bench/text_scoring.py), not for use."""
        ids = [1] * (self.order - 1) + self.encode(toks)
        rows = []
        for i in range(len(toks)):
            pos = i + self.order - 1
            p = self.dist(tuple(ids[pos - self.order + 1 : pos]))
            q = other.dist(tuple(ids[pos - other.order + 1 : pos]) if other.order > 1 else ())
            w = ids[pos]
            lp = np.log(p)
            ent = -p @ lp
            rows.append((lp[w], 1 + np.count_nonzero(p > p[w]), ent, p @ (lp * lp) - ent**2, -p @ np.log(q)))
        cols = [np.array(c, np.float64) for c in zip(*rows, strict=True)] if rows else [np.zeros(0)] * 5
        return dict(zip(("logp", "rank", "entropy", "var", "xent"), cols, strict=True))

    def to_state(self, prefix: str) -> dict[str, Any]:
        """Tensors + lists for the weights file (no pickled objects)."""
        import torch

        st: dict[str, Any] = {
            f"{prefix}order": self.order,
            f"{prefix}unigram": torch.from_numpy(self.unigram.astype(np.int32)),
        }
        for k, table in self.tables.items():
            rows = [(*ctx, w, c) for ctx, (ws, cs) in table.items() for w, c in zip(ws, cs, strict=True)]
            arr = np.array(rows, np.int64).reshape(-1, k + 1)
            # int32 ids and counts halve the file; vocabularies stay far below 2**31.
            st[f"{prefix}ngrams{k}"] = torch.from_numpy(arr.astype(np.int32))
        return st

    @classmethod
    def from_state(cls, st: dict[str, Any], prefix: str, vocab: list[str]) -> NGramLM:
        order = int(st[f"{prefix}order"])
        tables: dict[int, dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]]] = {}
        for k in range(2, order + 1):
            arr = np.asarray(st[f"{prefix}ngrams{k}"]).astype(np.int64)
            by: dict[tuple[int, ...], tuple[list[int], list[float]]] = {}
            for row in arr:
                ws, cs = by.setdefault(tuple(int(v) for v in row[: k - 1]), ([], []))
                ws.append(int(row[k - 1]))
                cs.append(float(row[k]))
            tables[k] = {c: (np.array(w, np.int64), np.array(n, np.float64)) for c, (w, n) in by.items()}
        return cls(order, vocab, np.asarray(st[f"{prefix}unigram"]).astype(np.int64), tables)
