"""Embedding provscan-text into existing human text by WordNet synonym substitution."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import pytest

from detector.errors import DetectorError
from detector.text.tokenize import words
from detector.text.wordnet import SynonymMap, default_wordnet_root, find_wordnet, load_synonyms, substitutes
from detector.watermark.text import TextWatermark, TextWatermarkEmbedError

KEY = "embed-test-key"
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


@pytest.fixture(scope="session")
def wordnet_dir() -> Path:
    """The real Debian wordnet-base files, fetched once with apt into the data dir and reused."""
    root = default_wordnet_root()
    try:
        return find_wordnet(root)
    except DetectorError as exc:
        if not shutil.which("apt-get"):
            pytest.fail(f"WordNet files missing under {root} and apt-get is not available: {exc}")
        pytest.fail(f"could not fetch WordNet with apt-get: {exc}")


@pytest.fixture(scope="session")
def smap(wordnet_dir: Path) -> SynonymMap:
    return load_synonyms(wordnet_dir)


def human_passage(n_words: int = 250) -> str:
    """Whole paragraphs of Python's own reference prose (always installed) until ``n_words`` words."""
    from pydoc_data.topics import topics

    paras: list[str] = []
    count = 0
    for para in topics["exceptions"].split("\n\n") + topics["naming"].split("\n\n"):
        if para.startswith("   ") or not para.strip():  # skip code blocks and headings' spacing
            continue
        paras.append(para)
        count += len(words(para))
        if count >= n_words:
            break
    return "\n\n".join(paras)


def separators(text: str) -> list[str]:
    return _WORD.split(text)


def test_wordnet_reader_finds_inflected_synonyms(smap: SynonymMap) -> None:
    assert "big" in smap.get("large", "a")
    assert "rapidly" in substitutes(smap, "quickly")
    plural = substitutes(smap, "cities")
    assert plural and all(w.endswith("s") for w in plural)
    assert substitutes(smap, "the") == () and substitutes(smap, "1999") == ()


def test_embed_detects_and_preserves_layout(wordnet_dir: Path) -> None:
    text = human_passage()
    wm = TextWatermark(KEY)
    assert len(words(text)) >= 250
    before = wm.detect(text)
    assert not before.detected
    marked, stats = wm.embed_with_stats(text, wordnet_path=wordnet_dir)
    res = wm.detect(marked)
    assert res.detected and res.evidence["z"] >= 4.0
    assert stats["z"] == res.evidence["z"] and stats["z_before"] == before.evidence["z"]
    # Only words changed: every space, newline and punctuation mark is where it was.
    assert separators(marked) == separators(text)
    old, new = words(text), words(marked)
    assert len(old) == len(new)
    changed = sum(a != b for a, b in zip(old, new, strict=True))
    assert changed == stats["words_changed"] > 0
    assert 0 < stats["fraction_changed"] < 0.3
    for ch in stats["changes"]:
        assert text[ch["offset"] : ch["offset"] + len(ch["from"])] == ch["from"]
    assert wm.embed(text, wordnet_path=wordnet_dir) == marked  # deterministic, text only
    # Another key does not see the mark.
    assert not TextWatermark("some-other-key").detect(marked).detected


def test_embed_keeps_names_numbers_and_quotes(wordnet_dir: Path) -> None:
    body = human_passage()
    text = 'Alice wrote "quickly large houses" in 1999 about London. ' + body
    marked, _ = TextWatermark(KEY).embed_with_stats(text, wordnet_path=wordnet_dir)
    assert marked.startswith('Alice wrote "quickly large houses" in 1999 about London. ')


def test_short_text_and_payload_raise(wordnet_dir: Path) -> None:
    wm = TextWatermark(KEY)
    with pytest.raises(TextWatermarkEmbedError, match=r"too short.*need at least \d+"):
        wm.embed("A short human sentence about the weather today.", wordnet_path=wordnet_dir)
    with pytest.raises(TextWatermarkEmbedError, match="no payload"):
        wm.embed(human_passage(), payload="abc", wordnet_path=wordnet_dir)
    # Long enough but nothing to substitute: a clear refusal, with the words needed.
    with pytest.raises(TextWatermarkEmbedError, match="cannot reach z >= 4"):
        wm.embed(" ".join(["the of and to a"] * 30), wordnet_path=wordnet_dir)


def test_cli_embed_text(tmp_path: Path, wordnet_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from worker.watermark_cli import cmd_embed

    monkeypatch.setenv("PROVSCAN_DATA_DIR", str(wordnet_dir.parents[3]))
    monkeypatch.setenv("PROVSCAN_WATERMARK_KEY", KEY)
    src, out = tmp_path / "in.txt", tmp_path / "out.txt"
    src.write_text(human_passage(), encoding="utf-8")
    assert cmd_embed(argparse.Namespace(file=str(src), out=str(out), payload=None)) == 0
    err = capsys.readouterr().err
    assert re.search(r"reworded \d+ of \d+ words", err)
    assert TextWatermark(KEY).detect(out.read_text("utf-8")).detected
    assert cmd_embed(argparse.Namespace(file=str(src), out=str(out), payload="x")) == 1
    assert "no payload" in capsys.readouterr().err
