"""The provscan-text watermark (keyed word-level green list) and the shared word tokenizer."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from detector.errors import DetectorError
from detector.text.tokenize import PUNCT, detokenize, lm_tokens, normalize, words
from detector.watermark.base import WATERMARKS
from detector.watermark.text import MIN_TOKENS, TextWatermark, TextWatermarkEmbedError

KEY = "test-key-1"


@pytest.fixture(scope="module")
def ngram_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real trigram generator counted on Python's own docs (always installed), in about a second."""
    from pydoc_data.topics import topics

    from generators.text.ngram import train_text_ngram

    out = tmp_path_factory.mktemp("ngram")
    train_text_ngram(out, data=[topics[k] for k in sorted(topics)], vocab_size=3000)
    return out


@pytest.fixture(scope="module")
def generator(ngram_dir: Path):
    from generators.text.ngram import text_ngram

    return text_ngram(weights_dir=ngram_dir, watermark_key=KEY)


def human_passages(n: int, length: int) -> list[list[str]]:
    from pydoc_data.topics import topics

    stream = [w for k in sorted(topics) for w in words(topics[k])]
    return [stream[i * length : (i + 1) * length] for i in range(min(n, len(stream) // length))]


# -- tokenizer -----------------------------------------------------------------------------
def test_words_normalise_case_quotes_and_punctuation() -> None:
    assert words("Don\u2019t PANIC! well-known\nfoo_bar 3.14") == [
        "don't",
        "panic",
        "well",
        "known",
        "foo",
        "bar",
        "3",
        "14",
    ]
    assert normalize("\ufb01ne") == "fine"  # NFKC ligature


def test_detokenize_round_trips_words() -> None:
    text = "It was late. i'm sure, said he; what now? Nothing!\n\nNew paragraph here."
    toks = lm_tokens(text)
    out = detokenize(toks)
    assert words(out) == words(text)
    assert out.startswith("It was late. I'm sure,")
    assert detokenize(["a", "\n", "\n", ".", "b"]) == "A\n\nB"
    assert [t for t in toks if t not in PUNCT] == words(text)


# -- green list ----------------------------------------------------------------------------
def test_green_fraction_is_gamma_and_mask_matches_is_green() -> None:
    rng = np.random.default_rng(0)
    wm = TextWatermark(KEY, gamma=0.25)
    vocab = [f"w{i}" for i in range(4000)]
    fractions = [wm.green_mask(prev, vocab).mean() for prev in ("the", "a", "of", "zebra", "")]
    assert all(abs(f - 0.25) < 0.03 for f in fractions)
    mask = wm.green_mask("the", vocab)
    for i in rng.integers(0, len(vocab), 50):
        assert wm.is_green("the", vocab[i]) == bool(mask[i])
    # keyed: another key gives a different (nearly independent) green list
    other = TextWatermark("another key").green_mask("the", vocab)
    assert 0.1 < (other & mask).sum() / mask.sum() < 0.4


def test_bias_logits_adds_delta_on_green_words_only() -> None:
    wm = TextWatermark(KEY, delta=2.0)
    vocab = ["<unk>", ".", ","] + [f"w{i}" for i in range(500)]
    word_mask = np.array([False, False, False] + [True] * 500)
    green = wm.green_mask("prev", vocab)
    out = wm.bias_logits("prev", np.zeros(len(vocab), dtype=np.float32), vocab, word_mask=word_mask)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, 2.0 * (green & word_mask))
    t = wm.bias_logits("prev", torch.ones(len(vocab), dtype=torch.float64), vocab, word_mask=word_mask)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float64
    np.testing.assert_allclose(t.numpy(), 1.0 + 2.0 * (green & word_mask))
    start = np.zeros(len(vocab))
    assert wm.bias_logits(None, start, vocab) is start  # nothing to bias before the first word


# -- detection -----------------------------------------------------------------------------
def test_watermarked_generation_is_detected_and_plain_is_not(generator) -> None:
    wm = TextWatermark(KEY)
    for seed in range(3):
        marked = generator.generate("", seed=seed, max_words=220, watermark=True)
        res = wm.detect(marked.data)
        assert res.detected, res.evidence["z"]
        assert res.scheme == "provscan-text" and res.payload is None
        assert res.evidence["tokens_scored"] >= 150
        assert res.p_value is not None and res.p_value < 1e-4 and res.score > 0.9999
        plain = generator.generate("", seed=seed, max_words=220, watermark=False)
        res = wm.detect(plain.data)
        assert not res.detected and res.evidence["z"] < 4


def test_wrong_key_does_not_detect(generator) -> None:
    text = generator.generate("", seed=7, max_words=220, watermark=True).data
    assert TextWatermark(KEY).detect(text).detected
    res = TextWatermark("not-the-key").detect(text)
    assert not res.detected and res.evidence["z"] < 4


def test_mark_survives_retypesetting(generator) -> None:
    text = generator.generate("", seed=3, max_words=220, watermark=True).data
    wm = TextWatermark(KEY)
    z = wm.detect(text).evidence["z"]
    messy = text.upper().replace(" ", "\n").replace(".", " ;")
    assert wm.detect(messy).evidence["z"] == z


def test_human_text_is_not_detected() -> None:
    wm = TextWatermark(KEY)
    zs = [wm.detect_words(p).evidence["z"] for p in human_passages(150, 200)]
    assert len(zs) >= 100
    assert max(zs) < 4
    assert abs(float(np.mean(zs))) < 0.4  # centred like N(0, 1)


def test_token_map_and_evidence() -> None:
    wm = TextWatermark(KEY)
    res = wm.detect("The cat sat on the mat. The cat sat on the mat.")
    ev = res.evidence
    tm = ev["token_map"]
    assert [t for t, _ in tm] == [
        "the",
        "cat",
        "sat",
        "on",
        "the",
        "mat",
        "the",
        "cat",
        "sat",
        "on",
        "the",
        "mat",
    ]
    assert tm[0][1] is None  # first word has no previous word
    assert tm[6][1] is not None  # ("mat", "the") is a new pair
    assert all(flag is None for _, flag in tm[7:])  # repeated pairs are not scored again
    assert ev["tokens_scored"] == 6 and ev["repeats_ignored"] == 5
    assert ev["green"] == sum(bool(f) for _, f in tm)
    assert math.isclose(ev["z"], wm.z_score(ev["green"], 6), abs_tol=1e-3)
    assert not res.detected  # far below MIN_TOKENS
    long = wm.detect(" ".join(f"w{i}" for i in range(3000)))
    assert len(long.evidence["token_map"]) == 1000 and long.evidence["token_map_truncated"]
    assert long.evidence["tokens_scored"] == 2999


def test_repetitive_text_is_not_a_false_positive() -> None:
    wm = TextWatermark(KEY)
    # find a green pair and repeat it: counting every occurrence would give a huge z
    vocab = [f"w{i}" for i in range(200)]
    a = "w0"
    b = next(v for v in vocab if wm.is_green(a, v))
    c = next(v for v in vocab if wm.is_green(b, v))
    text = " ".join([a, b, c] * 300)
    res = wm.detect(text)
    assert res.evidence["tokens_scored"] <= 3 and not res.detected


def test_min_tokens_guard() -> None:
    wm = TextWatermark(KEY)
    vocab = [f"w{i}" for i in range(5000)]
    seq = ["start"]
    while len(seq) < MIN_TOKENS - 2:  # an all-green chain just below the minimum length
        seq.append(next(v for v in vocab if v not in seq and wm.is_green(seq[-1], v)))
    res = wm.detect(" ".join(seq))
    assert res.evidence["green"] == res.evidence["tokens_scored"] and res.evidence["z"] >= 4
    assert not res.detected


def test_embed_raises_clear_error_and_registry() -> None:
    wm = WATERMARKS.create("provscan-text", key=KEY, gamma=0.25, delta=2.0)
    assert isinstance(wm, TextWatermark) and WATERMARKS.tags("provscan-text")["modality"] == "text"
    with pytest.raises(TextWatermarkEmbedError, match="provscan generate --modality text") as err:
        wm.embed("some existing text")
    assert isinstance(err.value, DetectorError)
    with pytest.raises(ValueError):
        TextWatermark("")


@pytest.mark.parametrize("text", ["", "   \n", "!!!", "слово", "一"])
def test_short_or_odd_text_is_a_value_not_an_error(text: str) -> None:
    res = TextWatermark(KEY).detect(text)
    assert not res.detected and res.p_value == 1.0 and res.evidence["tokens_scored"] == 0
