"""The provscan text watermark: a keyed green-list watermark (Kirchenbauer et al. 2023), word level.

How it works. For every pair of consecutive words (prev, word) a keyed pseudo-random value
``u(prev, word)`` in [0, 1) decides whether ``word`` is *green* after ``prev``
(``u < gamma``, so a fraction ``gamma`` of any vocabulary is green after any word). A generator
that knows the key adds ``delta`` to the logits of green words before sampling
(:meth:`TextWatermark.bias_logits`), so marked text holds more green words than chance. The
detector re-splits any text into words, counts green pairs ``G`` out of ``T`` scored pairs and
computes ``z = (G - gamma T) / sqrt(T gamma (1 - gamma))``; ``z >= 4`` means "watermarked".

Design choices:

* **Vocabulary-free.** The original scheme hashes model token ids, so only the model's own
  tokenizer can detect. Here the hash is over normalised *words*
  (:mod:`detector.text.tokenize`), so detection needs no model and works on any text, and
  every provscan text generator (n-gram, GRU, ...) shares one detector. Punctuation, case and
  whitespace are not scored, so re-typesetting the text does not remove the mark.
* **Repeated pairs are scored once** (Kirchenbauer et al., "On the Reliability of
  Watermarks", 2023): repetitive human text (lists, refrains, code) would otherwise repeat
  the same green pair and inflate ``z``.
* **Hash.** Each word gets a keyed 64-bit BLAKE2b hash (cached); a pair's value is a
  SplitMix64 mix of the two word hashes. Without the key the word hashes are unknown, and the
  mix vectorises, so the green mask of an 8k vocabulary costs microseconds.
* **Exact p-value.** ``z >= 4`` is the detection rule (as in the paper), but the reported
  p-value is the exact binomial tail ``P(Bin(T, gamma) >= G)``, because the normal
  approximation is optimistic for short texts; at least ``min_tokens`` scored pairs are
  required before anything is called watermarked.
* **Embedding into existing text = rewording it.** The mark is normally applied while a
  provscan generator samples (``provscan generate --modality text``). For a finished text,
  :meth:`TextWatermark.embed` does *lexical substitution*: it replaces some content words by
  WordNet synonyms (same part of speech, same simple inflection) chosen so that the
  (prev, word) and (word, next) pairs become green, maximising green pairs per changed word
  with a Viterbi pass over the word chain and then undoing the least useful changes while
  ``z`` stays above the threshold plus a margin. **This changes the author's wording**
  (about 8% of the words of a 200-word passage, at most ~16%; synonyms are chosen without a
  fluency model, so some read oddly) and :meth:`TextWatermark.embed_with_stats` reports
  exactly which words changed. Whitespace, punctuation, capitalisation, numbers,
  capitalised names, quoted strings and code lines are kept as they are. Short texts, or
  texts with few words that have synonyms, raise :class:`TextWatermarkEmbedError` saying
  how many words would be needed.
* **No payload.** This is a zero-bit scheme: it says "made by a provscan generator holding
  this key", nothing more; ``payload`` is always ``None``.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from detector.errors import DetectorError
from detector.settings import DEFAULT_WATERMARK_KEY
from detector.text.tokenize import WORD_RE, normalize, words
from detector.types import WatermarkResult
from detector.watermark.base import register_watermark

SCHEME = "provscan-text"
Z_THRESHOLD = 4.0
# Below this many scored pairs even an all-green text is weak evidence (z is approximate there).
MIN_TOKENS = 16
# The dashboard highlights at most this many words; longer texts are still scored in full.
TOKEN_MAP_CAP = 1000
_MASK_CACHE_SIZE = 4096
# Embedding aims this far above the threshold, so light edits after embedding keep the mark.
EMBED_Z_MARGIN = 0.5
# Below this many words synonym substitution cannot reach z >= 4 in practice.
EMBED_MIN_WORDS = 60

_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_M1 = _U64(0xBF58476D1CE4E5B9)
_M2 = _U64(0x94D049BB133111EB)


class TextWatermarkEmbedError(DetectorError):
    """The text watermark cannot be added to this text (too short, too few synonyms, or a payload)."""


def _mix(hp: np.ndarray, ht: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser of (prev hash, token hash): a uniform 64-bit value per pair."""
    with np.errstate(over="ignore"):
        x = hp ^ (ht * _GOLDEN)
        x = x ^ (x >> _U64(30))
        x = x * _M1
        x = x ^ (x >> _U64(27))
        x = x * _M2
        x = x ^ (x >> _U64(31))
    return x


class TextWatermark:
    """The ``provscan-text`` scheme for one key.

    Args:
        key: Secret (or project-wide) key; detection only works with the key used to generate.
        gamma: Fraction of words that are green after any word.
        delta: Logit bias added to green words while generating.
        z_threshold: Detection threshold on the z-score.
        min_tokens: Minimum number of scored word pairs before text can be called watermarked.
    """

    name = SCHEME
    modality = "text"

    def __init__(
        self,
        key: str = DEFAULT_WATERMARK_KEY,
        *,
        gamma: float = 0.25,
        delta: float = 2.0,
        z_threshold: float = Z_THRESHOLD,
        min_tokens: int = MIN_TOKENS,
    ) -> None:
        if not key:
            raise ValueError("the text watermark needs a non-empty key")
        if not 0.0 < gamma < 1.0:
            raise ValueError(f"gamma must be in (0, 1), got {gamma}")
        self.key = key
        self.gamma = float(gamma)
        self.delta = float(delta)
        self.z_threshold = float(z_threshold)
        self.min_tokens = int(min_tokens)
        self._bkey = hashlib.sha256(key.encode("utf-8")).digest()
        # u < gamma  <=>  (mix >> 11) < gamma * 2**53: an exact integer comparison.
        self._threshold = _U64(int(self.gamma * (1 << 53)))
        self._word_hash = lru_cache(maxsize=1 << 18)(self._word_hash_uncached)
        # Per vocabulary (kept alive here so id() stays unique): token hashes and an LRU of
        # green masks per previous word, so each generation step costs one dict lookup.
        self._vocabs: dict[int, tuple[Sequence[str], np.ndarray, OrderedDict[str, np.ndarray]]] = {}

    def __repr__(self) -> str:
        return f"TextWatermark(gamma={self.gamma}, delta={self.delta}, key=<{len(self.key)} chars>)"

    # -- the green list -------------------------------------------------------------------
    def _word_hash_uncached(self, word: str) -> int:
        h = hashlib.blake2b(word.encode("utf-8"), key=self._bkey, digest_size=8)
        return int.from_bytes(h.digest(), "little")

    def _hashes(self, tokens: Sequence[str]) -> np.ndarray:
        return np.fromiter((self._word_hash(t) for t in tokens), dtype=np.uint64, count=len(tokens))

    def _green(self, hp: np.ndarray, ht: np.ndarray) -> np.ndarray:
        return (_mix(hp, ht) >> _U64(11)) < self._threshold

    def is_green(self, prev_token: str, token: str) -> bool:
        """Whether ``token`` is green after ``prev_token`` (both normalised words).

        Args:
            prev_token: The previous word (as produced by :func:`detector.text.tokenize.words`).
            token: The word being scored.

        Returns:
            True with probability ``gamma`` over (key, pair).
        """
        hp = np.array([self._word_hash(prev_token)], dtype=np.uint64)
        ht = np.array([self._word_hash(token)], dtype=np.uint64)
        return bool(self._green(hp, ht)[0])

    def green_mask(self, prev_token: str, vocab: Sequence[str]) -> np.ndarray:
        """Boolean mask over ``vocab`` of the words green after ``prev_token`` (cached).

        Entries of ``vocab`` that are not words (punctuation, ``<unk>``) are hashed like any
        string; callers that should not bias them mask them out (see :meth:`bias_logits`).

        Args:
            prev_token: The previous word.
            vocab: The model's vocabulary; pass the same list object every step for caching.

        Returns:
            ``bool`` array of ``len(vocab)``.
        """
        entry = self._vocabs.get(id(vocab))
        if entry is None or entry[0] is not vocab:
            entry = (vocab, self._hashes(vocab), OrderedDict())
            if len(self._vocabs) >= 8:  # a process uses a handful of models; drop the oldest
                self._vocabs.pop(next(iter(self._vocabs)))
            self._vocabs[id(vocab)] = entry
        _, hashes, masks = entry
        mask = masks.get(prev_token)
        if mask is None:
            hp = np.full(hashes.shape, self._word_hash(prev_token), dtype=np.uint64)
            mask = self._green(hp, hashes)
            masks[prev_token] = mask
            if len(masks) > _MASK_CACHE_SIZE:
                masks.popitem(last=False)
        else:
            masks.move_to_end(prev_token)
        return mask

    def bias_logits(
        self, prev_token: str | None, logits: Any, vocab: Sequence[str], *, word_mask: Any = None
    ) -> Any:
        """Add ``delta`` to the logits of the words green after ``prev_token``.

        Args:
            prev_token: The previous *word* of the text being generated (skip punctuation);
                ``None`` at the very start, where nothing is biased (detection does not score
                the first word either).
            logits: 1-D (or ``(..., V)``) numpy array or torch tensor over ``vocab``.
            vocab: The model's vocabulary (same list object every call, for caching).
            word_mask: Optional boolean array over ``vocab``: True for tokens that are words.
                Non-word tokens (punctuation, specials) are never biased, since the detector
                does not score them.

        Returns:
            A new array / tensor of the same type, shape and dtype.
        """
        if prev_token is None:
            return logits
        mask = self.green_mask(prev_token, vocab)
        if word_mask is not None:
            mask = mask & np.asarray(word_mask, dtype=bool)
        if isinstance(logits, np.ndarray):
            return logits + (self.delta * mask).astype(logits.dtype)
        import torch  # only generators pass tensors; keep torch out of detect-only processes

        bias = torch.from_numpy(mask.astype(np.float32) * self.delta).to(
            device=logits.device, dtype=logits.dtype
        )
        return logits + bias

    # -- detection -----------------------------------------------------------------------
    def score_words(self, tokens: Sequence[str], *, max_scored: int | None = None) -> dict[str, Any]:
        """Score a word sequence: which (prev, word) pairs are green, repeats counted once.

        Args:
            tokens: Normalised words.
            max_scored: Stop after this many scored pairs (to measure detection at length T).

        Returns:
            ``{"T", "G", "green": [bool | None per word], "repeats"}``; ``green[i]`` is None for
            words that were not scored (the first word, repeated pairs, beyond ``max_scored``).
        """
        n = len(tokens)
        flags: list[bool | None] = [None] * n
        if n < 2:
            return {"T": 0, "G": 0, "green": flags, "repeats": 0}
        green = self._green(self._hashes(tokens[:-1]), self._hashes(tokens[1:]))
        seen: set[tuple[str, str]] = set()
        t = g = repeats = 0
        for i in range(1, n):
            if max_scored is not None and t >= max_scored:
                break
            pair = (tokens[i - 1], tokens[i])
            if pair in seen:
                repeats += 1
                continue
            seen.add(pair)
            flag = bool(green[i - 1])
            flags[i] = flag
            t += 1
            g += flag
        return {"T": t, "G": g, "green": flags, "repeats": repeats}

    def z_score(self, green: int, total: int) -> float:
        """``(G - gamma T) / sqrt(T gamma (1 - gamma))``; 0 for an empty text."""
        if total <= 0:
            return 0.0
        return (green - self.gamma * total) / math.sqrt(total * self.gamma * (1.0 - self.gamma))

    def p_value(self, green: int, total: int) -> float:
        """Exact one-sided p-value ``P(Bin(T, gamma) >= G)`` under "not watermarked"."""
        if total <= 0 or green <= 0:
            return 1.0
        from scipy.stats import binom

        return float(min(1.0, max(0.0, binom.sf(green - 1, total, self.gamma))))

    def detect_words(self, tokens: Sequence[str], *, max_scored: int | None = None) -> WatermarkResult:
        """Detect the watermark in an already tokenised word sequence (see :meth:`detect`)."""
        s = self.score_words(tokens, max_scored=max_scored)
        t, g = s["T"], s["G"]
        z = self.z_score(g, t)
        p = self.p_value(g, t)
        detected = t >= self.min_tokens and z >= self.z_threshold
        shown = min(len(tokens), TOKEN_MAP_CAP)
        evidence = {
            "z": round(z, 4),
            "tokens_scored": t,
            "green": g,
            "green_fraction": round(g / t, 4) if t else None,
            "gamma": self.gamma,
            "z_threshold": self.z_threshold,
            "min_tokens": self.min_tokens,
            "repeats_ignored": s["repeats"],
            # None = not scored (first word, repeated pair); the dashboard greys those out.
            "token_map": [[tokens[i], s["green"][i]] for i in range(shown)],
            "token_map_truncated": len(tokens) > shown,
        }
        return WatermarkResult(
            scheme=self.name,
            detected=bool(detected),
            score=float(1.0 - p),
            payload=None,
            p_value=p,
            evidence=evidence,
        )

    def detect(self, signal: str) -> WatermarkResult:
        """Test ``signal`` (any text) for this key's watermark. Never raises for "no mark".

        Args:
            signal: The text.

        Returns:
            ``WatermarkResult`` with ``detected`` (z >= 4 over at least ``min_tokens`` pairs),
            ``score`` = 1 - p-value, ``payload`` None and evidence ``{"z", "tokens_scored",
            "green", "token_map": [[word, is_green | None], ...], ...}``.
        """
        return self.detect_words(words(signal))

    # -- embedding into existing text (lexical substitution) -------------------------------
    def embed(
        self, signal: str, *, payload: str | None = None, wordnet_path: str | Path | None = None
    ) -> str:
        """Watermark an existing text by replacing some words with synonyms (see the module notes).

        This changes the author's wording; use :meth:`embed_with_stats` to see how much.

        Args:
            signal: The text.
            payload: Must be None: this is a zero-bit scheme.
            wordnet_path: Folder holding (or receiving) Debian's ``wordnet-base`` files; default
                ``Settings.data_dir / "text-src"``.

        Returns:
            The reworded text; :meth:`detect` finds the mark in it (``z >= z_threshold``).

        Raises:
            TextWatermarkEmbedError: A payload was given, or the text is too short / has too
                few substitutable words to reach the threshold.
            detector.text.wordnet.WordNetUnavailableError: WordNet is missing and apt cannot fetch it.
        """
        return self.embed_with_stats(signal, payload=payload, wordnet_path=wordnet_path)[0]

    def embed_with_stats(
        self,
        signal: str,
        *,
        payload: str | None = None,
        wordnet_path: str | Path | None = None,
        margin: float = EMBED_Z_MARGIN,
    ) -> tuple[str, dict[str, Any]]:
        """Like :meth:`embed`, also returning what was changed.

        Args:
            signal: The text.
            payload: Must be None.
            wordnet_path: See :meth:`embed`.
            margin: Aim for ``z >= z_threshold + margin`` (so light later edits keep the mark);
                falls back to ``z_threshold`` when only that is reachable.

        Returns:
            ``(text, stats)`` with stats ``{"words", "words_changed", "fraction_changed",
            "substitutable", "z_before", "z", "tokens_scored", "green", "changes":
            [{"offset", "from", "to"}, ...]}`` (offsets into the original text).

        Raises:
            TextWatermarkEmbedError: See :meth:`embed`.
        """
        if payload is not None:
            raise TextWatermarkEmbedError(
                "provscan-text is a zero-bit watermark: it marks a text as provscan-made but carries "
                f"no payload; drop --payload (got {payload!r})"
            )
        from detector.text.wordnet import load_synonyms, substitutes

        tokens = words(signal)
        n = len(tokens)
        min_words = self.min_tokens + 1
        if n < max(min_words, EMBED_MIN_WORDS):
            raise TextWatermarkEmbedError(
                f"text too short to watermark by synonym substitution: {n} words, need at least "
                f"{max(min_words, EMBED_MIN_WORDS)} (about 200 words for reliable detection at z >= "
                f"{self.z_threshold:g}); or generate marked text with `provscan generate --modality text`"
            )
        smap = load_synonyms(wordnet_path)
        spans = _substitutable_spans(signal, tokens)
        cands: list[list[str]] = []
        for tok, span in zip(tokens, spans, strict=True):
            alts = list(substitutes(smap, tok)) if span is not None else []
            cands.append([tok, *alts])
        n_sub = sum(len(c) > 1 for c in cands)
        z_before = self.detect_words(tokens).evidence["z"]
        target = self.z_threshold + max(0.0, margin)

        best: tuple[float, list[int]] | None = None
        chosen: list[int] | None = None
        for lam in (1.5, 0.75, 0.3):
            choice = self._viterbi(cands, lam)
            z = self._z_of(cands, choice)
            if best is None or z > best[0]:
                best = (z, choice)
            if z >= target:
                chosen = choice
                break
        assert best is not None
        if chosen is None:
            if best[0] < self.z_threshold:
                need = math.ceil(n * (target / best[0]) ** 2) if best[0] > 0.5 else None
                more = f"about {need} words of similar text" if need else "many more substitutable words"
                raise TextWatermarkEmbedError(
                    f"cannot reach z >= {self.z_threshold:g} by synonym substitution: only {n_sub} of {n} "
                    f"words have usable WordNet synonyms and the best rewording reaches z = {best[0]:.2f}; "
                    f"need {more} (have {n}), or generate marked text with `provscan generate --modality text`"
                )
            target, chosen = self.z_threshold, best[1]
        chosen = self._prune(cands, chosen, target)

        new_tokens = [cands[i][c] for i, c in enumerate(chosen)]
        pieces: list[str] = []
        changes: list[dict[str, Any]] = []
        last = 0
        for i, c in enumerate(chosen):
            if c == 0:
                continue
            start, end = spans[i]  # type: ignore[misc]
            new = _match_case(signal[start:end], cands[i][c])
            pieces.append(signal[last:start])
            pieces.append(new)
            changes.append({"offset": start, "from": signal[start:end], "to": new})
            last = end
        pieces.append(signal[last:])
        text = "".join(pieces)
        if words(text) != new_tokens:  # the tokenizer must read back exactly what was optimised
            raise TextWatermarkEmbedError("internal error: the reworded text does not re-tokenise as planned")
        res = self.detect_words(new_tokens)
        stats = {
            "words": n,
            "words_changed": len(changes),
            "fraction_changed": round(len(changes) / n, 4),
            "substitutable": n_sub,
            "z_before": z_before,
            "z": res.evidence["z"],
            "tokens_scored": res.evidence["tokens_scored"],
            "green": res.evidence["green"],
            "detected": res.detected,
            "changes": changes,
        }
        return text, stats

    def _pair_green(self, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        return self._green(self._hashes(a)[:, None], self._hashes(b)[None, :])

    def _viterbi(self, cands: list[list[str]], lam: float) -> list[int]:
        """Choice per position maximising (green pairs - lam * changed words) along the chain."""
        n = len(cands)
        score = -lam * (np.arange(len(cands[0])) > 0)
        back: list[np.ndarray] = []
        for i in range(1, n):
            trans = score[:, None] + self._pair_green(cands[i - 1], cands[i])
            arg = np.argmax(trans, axis=0)  # ties go to the lower index, i.e. the original word
            back.append(arg)
            score = trans[arg, np.arange(len(cands[i]))] - lam * (np.arange(len(cands[i])) > 0)
        choice = [int(np.argmax(score))]
        for arg in reversed(back):
            choice.append(int(arg[choice[-1]]))
        return choice[::-1]

    def _z_of(self, cands: list[list[str]], choice: list[int]) -> float:
        s = self.score_words([cands[i][c] for i, c in enumerate(choice)])
        return self.z_score(s["G"], s["T"])

    def _prune(self, cands: list[list[str]], choice: list[int], target: float) -> list[int]:
        """Undo the changes that add the fewest green pairs while ``z`` stays >= ``target``."""
        toks = [cands[i][c] for i, c in enumerate(choice)]
        n = len(toks)

        def local(i: int, word: str) -> int:
            g = 0
            if i > 0:
                g += self.is_green(toks[i - 1], word)
            if i + 1 < n:
                g += self.is_green(word, toks[i + 1])
            return g

        changed = [i for i, c in enumerate(choice) if c]
        changed.sort(key=lambda i: local(i, toks[i]) - local(i, cands[i][0]))

        def reverted(k: int) -> list[int]:
            out = list(choice)
            for i in changed[:k]:
                out[i] = 0
            return out

        # Largest k (changes undone) with z still >= target; z falls roughly monotonically in k.
        lo, hi = 0, len(changed)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._z_of(cands, reverted(mid)) >= target:
                lo = mid
            else:
                hi = mid - 1
        return reverted(lo)


_SENTENCE_END = ".!?"
# A character glued to a word that marks it as code or markup (identifiers, paths, calls).
_CODEY = set("_/\\@#$%&=<>[]{}*+|~^()")
_QUOTED = re.compile(r"`[^`]*`|\"[^\"\n]*(?:\n(?!\s*\n)[^\"\n]*)*\"|\u201c[^\u201d]*\u201d")
# Indented lines that look like code (assignments, calls, brackets, a trailing colon) or doctests;
# indented prose (reST bodies, quotations) stays substitutable.
_CODE_LINE = re.compile(
    r"^(?:[ \t]*(?:>>>|\.\.\.\s)|[ \t]{3,}\S.*?(?:[=\{\}\[\];]|\w\(|:[ \t]*$))", re.MULTILINE
)


def _substitutable_spans(text: str, tokens: list[str]) -> list[tuple[int, int] | None]:
    """Original-text span per word, or None when the word must not be replaced.

    Kept: words whose normalised form does not line up with the original characters, words
    with capitals other than a sentence-initial one (names, acronyms), words inside quotes,
    backticks or indented/``>>>`` code lines, and words glued to code characters.
    """
    blocked = np.zeros(len(text) + 1, dtype=bool)
    for m in _QUOTED.finditer(text):
        blocked[m.start() : m.end()] = True
    for m in _CODE_LINE.finditer(text):
        eol = text.find("\n", m.start())
        blocked[m.start() : len(text) if eol < 0 else eol] = True
    spans: list[tuple[int, int] | None] = []
    for m in re.finditer(r"\S+", text):
        chunk = m.group(0)
        norm = normalize(chunk)
        aligned = len(norm) == len(chunk)
        for w in WORD_RE.finditer(norm):
            if not aligned:
                spans.append(None)
                continue
            s, e = m.start() + w.start(), m.start() + w.end()
            spans.append((s, e) if _replaceable(text, s, e, blocked) else None)
    if len(spans) != len(tokens):  # normalisation created or merged words: replace nothing
        return [None] * len(tokens)
    return spans


def _replaceable(text: str, s: int, e: int, blocked: np.ndarray) -> bool:
    surface = text[s:e]
    if blocked[s] or not surface.isalpha() or not surface.isascii():
        return False
    before = text[s - 1] if s > 0 else " "
    after = text[e] if e < len(text) else " "
    if before in _CODEY or after in _CODEY or before in "'-" or after in "'-":
        return False
    if after == "." and e + 1 < len(text) and text[e + 1].isalnum():  # module.attr, e.g.
        return False
    if surface.islower():
        return True
    if not (surface[0].isupper() and surface[1:].islower()):
        return False  # ALL CAPS, CamelCase
    prev = text[:s].rstrip()
    # A capital only at the start of a sentence or paragraph; elsewhere it is a name.
    return not prev or prev[-1] in _SENTENCE_END or text[len(prev) : s].count("\n") >= 2


def _match_case(original: str, word: str) -> str:
    return word[:1].upper() + word[1:] if original[:1].isupper() else word


@register_watermark(SCHEME, modality="text")
def provscan_text(
    key: str = DEFAULT_WATERMARK_KEY, gamma: float = 0.25, delta: float = 2.0, **kw: Any
) -> TextWatermark:
    """Factory for the registry: ``WATERMARKS.create("provscan-text", key=..., gamma=..., delta=...)``."""
    return TextWatermark(key, gamma=gamma, delta=delta, **kw)
