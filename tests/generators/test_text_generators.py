"""Text generators (trigram KN, GRU), their training functions, and the prompt writer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import generators.text  # noqa: F401  (registers the text generators)
from detector.text.tokenize import words
from detector.watermark.text import TextWatermark
from generators.base import Generated, create_generator, list_generators
from generators.errors import GeneratorUnavailableError
from generators.text.gru import train_text_lm
from generators.text.lm import Vocab, build_vocab, sample_token
from generators.text.ngram import TrigramKN, train_text_ngram
from generators.text.prompts import (
    SCENE_VOCAB,
    SPEECH_LANGUAGES,
    image_prompts,
    parse_image_prompt,
    speech_scripts,
)

KEY = "generator-test-key"


def _texts() -> list[str]:
    from pydoc_data.topics import topics

    return [topics[k] for k in sorted(topics)]


@pytest.fixture(scope="module")
def ngram_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ngram")
    train_text_ngram(out, data=_texts(), vocab_size=3000)
    return out


@pytest.fixture(scope="module")
def gru_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny GRU trained in-test on a slice of Python's docs (a few seconds on one core)."""
    out = tmp_path_factory.mktemp("gru")
    train_text_lm(
        out,
        data=_texts()[:40],
        vocab_size=600,
        emb=32,
        hidden=48,
        seq_len=24,
        batch_size=16,
        epochs=1.0,
        max_minutes=1.0,
        progress=False,
    )
    return out


def test_registered() -> None:
    assert {"text-ngram", "text-gru"} <= set(list_generators(modality="text"))


@pytest.mark.parametrize("name", ["text-ngram", "text-gru"])
def test_missing_weights_raise_with_build_command(name: str, tmp_path: Path) -> None:
    with pytest.raises(GeneratorUnavailableError, match="train-generator"):
        create_generator(name, weights_dir=tmp_path)


def test_ngram_card_and_distribution(ngram_dir: Path) -> None:
    card = yaml.safe_load((ngram_dir / "text-ngram.yaml").read_text())
    assert card["name"] == "text-ngram" and card["vocab_size"] == 3000
    assert 1 < card["val_perplexity"] < 3000 and card["sha256"]
    model = TrigramKN.load(ngram_dir / "text-ngram.npz")
    v = model.vocab
    p = model.prob(v.index["the"], v.index["value"])
    assert abs(p.sum() - 1.0) < 1e-9 and (p > 0).all()
    # Kneser-Ney must prefer a seen continuation over an unseen one
    assert p[v.index["of"]] > p[v.index["class"]]


def test_ngram_generation_is_seeded(ngram_dir: Path) -> None:
    gen = create_generator("text-ngram", weights_dir=ngram_dir)
    a = gen.generate("The", seed=11, max_words=80, temperature=0.9, top_p=0.95)
    b = gen.generate("The", seed=11, max_words=80, temperature=0.9, top_p=0.95)
    c = gen.generate("The", seed=12, max_words=80, temperature=0.9, top_p=0.95)
    assert isinstance(a, Generated) and a.modality == "text" and a.generator == "text-ngram"
    assert a.data == b.data and a.data != c.data
    assert len(words(a.data)) == 80
    assert a.seed == 11 and a.params["top_p"] == 0.95 and a.params["watermark"] is None


def test_gru_training_card_and_seeded_generation(gru_dir: Path) -> None:
    card = yaml.safe_load((gru_dir / "text-gru.yaml").read_text())
    assert card["name"] == "text-gru" and card["steps"] >= 1
    assert card["val_perplexity"] > 1 and card["train_time_s"] >= 0
    assert card["config"]["hidden"] == 48 and (gru_dir / "text-gru.pt").stat().st_size < 5_000_000
    gen = create_generator("text-gru", weights_dir=gru_dir)
    a = gen.generate("", seed=5, max_words=60, top_k=50)
    b = gen.generate("", seed=5, max_words=60, top_k=50)
    c = gen.generate("", seed=6, max_words=60, top_k=50)
    assert a.data == b.data and a.data != c.data
    assert len(words(a.data)) == 60 and a.generator == "text-gru"


def test_gru_watermark_param_marks_text(gru_dir: Path) -> None:
    gen = create_generator("text-gru", weights_dir=gru_dir, watermark_key=KEY)
    wm = TextWatermark(KEY)
    marked = gen.generate("", seed=1, max_words=220, watermark=True)
    plain = gen.generate("", seed=1, max_words=220)
    assert marked.params["watermark"] == "provscan-text" and marked.params["delta"] == 2.0
    assert wm.detect(marked.data).detected
    assert not wm.detect(plain.data).detected


def test_ngram_watermark_uses_settings_key_by_default(
    ngram_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVSCAN_WATERMARK_KEY", "instance-key")
    gen = create_generator("text-ngram", weights_dir=ngram_dir)
    text = gen.generate("", seed=2, max_words=220, watermark=True).data
    assert TextWatermark("instance-key").detect(text).detected
    assert not TextWatermark(KEY).detect(text).detected


def test_sampling_controls() -> None:
    import numpy as np

    logits = np.array([0.0, 5.0, 1.0, -np.inf])
    rng = np.random.default_rng(0)
    assert sample_token(logits, rng, temperature=0) == 1
    assert {sample_token(logits, rng, top_k=1) for _ in range(20)} == {1}
    draws = {sample_token(logits, rng, temperature=5.0) for _ in range(300)}
    assert draws == {0, 1, 2}  # never the forbidden id
    assert {sample_token(logits, rng, top_p=0.5) for _ in range(50)} == {1}


def test_vocab_keeps_only_round_trippable_words() -> None:
    v = build_vocab([["hello", ",", "world", "."], ["hello", "again"]], 100)
    assert isinstance(v, Vocab) and v.tokens[:3] == ["<unk>", "<s>", "</s>"]
    assert v.tokens.index("hello") < v.tokens.index("world")
    assert v.encode(["hello", "unseen"]) == [v.index["hello"], v.unk]
    assert not v.word_mask[v.index["."]] and v.word_mask[v.index["hello"]]


# -- prompts -------------------------------------------------------------------------------
def test_image_prompts_deterministic_and_parseable() -> None:
    a = image_prompts(30, seed=4)
    assert a == image_prompts(30, seed=4) and a != image_prompts(30, seed=5)
    assert len(set(a)) > 25
    for prompt in a:
        parts = parse_image_prompt(prompt)
        assert all(parts[cat] in SCENE_VOCAB[cat] for cat in SCENE_VOCAB), prompt


def test_scene_vocab_phrases_do_not_overlap_across_categories() -> None:
    def norm(p: str) -> str:
        return " " + re.sub(r"[^a-z0-9]+", " ", p) + " "

    for cat, phrases in SCENE_VOCAB.items():
        for other, others in SCENE_VOCAB.items():
            if other == cat:
                continue
            for p in phrases:
                assert not any(norm(p) in norm(q) for q in others), (cat, p, other)


@pytest.mark.parametrize("language", SPEECH_LANGUAGES)
def test_speech_scripts(language: str) -> None:
    a = speech_scripts(40, seed=9, language=language)
    assert a == speech_scripts(40, seed=9, language=language)
    assert a != speech_scripts(40, seed=10, language=language)
    for s in a:
        assert 5 <= len(words(s)) <= 20, s
        assert "{" not in s and s[0].isupper()
    with pytest.raises(ValueError):
        speech_scripts(1, seed=0, language="xx")


# -- human text sources ----------------------------------------------------------------------
def test_sources_read_fortunes_dictd_and_wordnet(tmp_path: Path) -> None:
    import gzip

    from generators.text.sources import available_sources, human_passages, iter_documents

    fort = tmp_path / "usr/share/games/fortunes"
    fort.mkdir(parents=True)
    (fort / "tiny").write_text("A first fortune.\n%\nA second one, longer.\n%\n")
    (fort / "tiny.dat").write_bytes(b"\x00binary index")
    dictd = tmp_path / "usr/share/dictd"
    dictd.mkdir(parents=True)
    body = b"00-database-info\nheader\nBORE, n. A person who talks when you wish him to listen.\n"
    (dictd / "devil.dict.dz").write_bytes(gzip.compress(body))
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    def num(n: int) -> str:  # dictd's base-64 numbers
        return (num(n // 64) if n >= 64 else "") + b64[n % 64]

    start = body.index(b"BORE")
    # dictd index: headword, offset, length
    (dictd / "devil.index").write_text(
        f"00-database-info\tA\tX\nBORE\t{num(start)}\t{num(len(body) - start)}\n"
    )
    wn = tmp_path / "usr/share/wordnet"
    wn.mkdir(parents=True)
    (wn / "data.noun").write_text(
        "  1 licence header line\n00001740 03 n 01 entity 0 000 | that which is perceived to exist  \n"
    )
    assert available_sources(tmp_path) == ["pydoc", "fortunes", "devil", "wordnet"]
    docs = list(iter_documents(tmp_path, sources=["fortunes", "devil", "wordnet"]))
    assert [(d.source, d.text) for d in docs] == [
        ("fortunes", "A first fortune."),
        ("fortunes", "A second one, longer."),
        ("devil", "BORE, n. A person who talks when you wish him to listen."),
        ("wordnet", "that which is perceived to exist."),
    ]
    assert docs[0].licence.startswith("BSD")
    passages = human_passages(5, src=tmp_path, sources=["fortunes"])
    assert passages == [("fortunes", ["a", "first", "fortune", "a", "second"])]
    with pytest.raises(ValueError):
        list(iter_documents(tmp_path, sources=["nope"]))


def test_cards_parse_and_name_registered_generators() -> None:
    cards = sorted((Path(generators.text.__file__).parent.parent / "cards").glob("text_*.yaml"))
    assert len(cards) == 2
    for card in cards:
        data = yaml.safe_load(card.read_text())
        assert data["name"] in list_generators(modality="text")
        assert data["measured"]["val_perplexity"] > 1 and data["training_data"]
