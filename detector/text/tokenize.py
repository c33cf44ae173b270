"""A shared, vocabulary-free word tokenizer for text detectors, the text watermark and text generators.

Everything that must agree on "what is a word" goes through here: the text watermark scores
(previous word, word) pairs, so a generator that marks text and a detector that reads it back
must split text identically. Words are NFKC-normalised, case-folded runs of letters and digits
with internal apostrophes ("don't" is one word); hyphens, punctuation and whitespace separate
words and are otherwise ignored, so re-typesetting a text (line breaks, capitals, curly quotes)
does not change its word sequence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

# Letters/digits (any script) with internal apostrophes; "_" is excluded from \w on purpose.
_WORD = r"[^\W_]+(?:'[^\W_]+)*"
WORD_RE = re.compile(_WORD)
# Sentence punctuation that language models keep as tokens so generated text reads naturally;
# the watermark and detectors ignore it (it carries almost no entropy).
PUNCT = (".", ",", ";", ":", "!", "?")
SENTENCE_END = frozenset({".", "!", "?"})
LM_TOKEN_RE = re.compile(rf"{_WORD}|[.,;:!?]")

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def normalize(text: str) -> str:
    """NFKC-normalise, unify apostrophes and case-fold ``text``.

    Args:
        text: Any Unicode text.

    Returns:
        The normalised text (same words, canonical spelling).
    """
    return unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).casefold()


def words(text: str) -> list[str]:
    """Split ``text`` into normalised words.

    Args:
        text: Any Unicode text.

    Returns:
        Case-folded words in order, e.g. ``words("Don't PANIC!") == ["don't", "panic"]``.
    """
    return WORD_RE.findall(normalize(text))


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """Normalised words with their character offsets in ``text`` (for highlighting).

    Offsets refer to the original string when normalisation keeps its length (the common
    case); otherwise they refer to the normalised string.

    Args:
        text: Any Unicode text.

    Returns:
        ``[(word, start, end), ...]``.
    """
    norm = normalize(text)
    return [(m.group(0), m.start(), m.end()) for m in WORD_RE.finditer(norm)]


def lm_tokens(text: str) -> list[str]:
    """Split ``text`` into language-model tokens: normalised words plus sentence punctuation.

    Args:
        text: Any Unicode text.

    Returns:
        Tokens such that ``[t for t in lm_tokens(s) if t not in PUNCT] == words(s)``.
    """
    return LM_TOKEN_RE.findall(normalize(text))


def is_word(token: str) -> bool:
    """True when ``token`` is exactly one normalised word (not punctuation, not a special token)."""
    return WORD_RE.fullmatch(token) is not None and normalize(token) == token


def detokenize(tokens: Sequence[str] | Iterable[str]) -> str:
    """Join language-model tokens into readable text.

    Punctuation attaches to the previous word, sentences start with a capital, and the token
    ``"\\n"`` starts a new paragraph. ``words(detokenize(ts))`` equals the word tokens of ``ts``,
    which is what lets the text watermark survive the round trip.

    Args:
        tokens: Words, punctuation from ``PUNCT`` and optionally ``"\\n"``.

    Returns:
        The text.
    """
    out: list[str] = []
    capital = True
    for tok in tokens:
        if tok == "\n":
            if out and out[-1] != "\n\n":
                out.append("\n\n")
            capital = True
            continue
        if tok in PUNCT:
            if out and out[-1] != "\n\n":
                out.append(tok)
            if tok in SENTENCE_END:
                capital = True
            continue
        if capital or tok == "i" or tok.startswith("i'"):
            word = tok[:1].upper() + tok[1:]
        else:
            word = tok
        if out and out[-1] != "\n\n":
            out.append(" ")
        out.append(word)
        capital = False
    return "".join(out).strip()
