"""The audio detector's data recipe: corpus views keep held-out real sources out (issue #5)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from generators.corpus import build_corpus, load_manifest
from worker.audio_recipe import HELDOUT_REAL, _seconds, _tag, corpus_view, train_prompts


def _folder(root: Path, name: str, seconds: list[float], hz: float) -> Path:
    d = root / name
    for i, s in enumerate(seconds):
        (d / f"spk{i % 2}").mkdir(parents=True, exist_ok=True)
        t = np.arange(int(s * 16000)) / 16000
        sf.write(
            d / f"spk{i % 2}" / f"c{i}.wav", (0.2 * np.sin(2 * np.pi * hz * t)).astype(np.float32), 16000
        )
    (d / "provscan-corpus.json").write_text(
        json.dumps({"source": name, "licence": "CC0-1.0", "language": "en"})
    )
    return d


def test_views_split_training_and_held_out_sources(tmp_path: Path) -> None:
    held = HELDOUT_REAL[0]
    corpus = tmp_path / "corpus"
    build_corpus(
        corpus,
        sources=[],
        add_real=[
            _folder(tmp_path, "mine", [1.0, 1.2, 0.1, 1.5], 200),
            _folder(tmp_path, held, [1.0, 1.1], 300),
        ],
        use_apt=False,
        progress=False,
    )
    assert {i.source for i in load_manifest(corpus)} == {"mine", held}

    n = corpus_view(corpus, tmp_path / "train", lambda c: c.source not in HELDOUT_REAL)
    items = load_manifest(tmp_path / "train")
    assert n == len(items) == 4 and {i.source for i in items} == {"mine"}
    assert all(
        (tmp_path / "train" / i.path).is_symlink() and (tmp_path / "train" / i.path).is_file() for i in items
    )

    corpus_view(corpus, tmp_path / "eval", lambda c: c.source in HELDOUT_REAL, split="test")
    ev = load_manifest(tmp_path / "eval")
    assert len(ev) == 2 and {i.split for i in ev} == {"test"} and {i.source for i in ev} == {held}


def test_real_asterisk_records_carry_their_codec(tmp_path: Path) -> None:
    assert _tag({"label": "real", "source": "asterisk-fr/vm-deleted.flac"})["codec_history"] == "g722"
    assert "codec_history" not in _tag({"label": "real", "source": "fillets-cs/a.ogg"})
    assert "codec_history" not in _tag({"label": "synthetic", "source": "asterisk-fr/vm-deleted.flac"})
    (tmp_path / "labels.jsonl").write_text(
        json.dumps({"label": "synthetic", "prompt": "Hello there."})
        + "\n"
        + json.dumps({"label": "real", "prompt": "x"})
        + "\n"
    )
    assert train_prompts(tmp_path) == {"Hello there."}


def test_clip_length_check_reads_headers(tmp_path: Path) -> None:
    """Empty or unreadable clips (fillets-nl ships two empty Ogg files) count as 0 s and are dropped."""
    sf.write(tmp_path / "a.wav", np.zeros(8000, np.float32), 16000)
    (tmp_path / "b.ogg").write_bytes(b"OggS\x00 not really")
    assert _seconds(tmp_path / "a.wav") == 0.5
    assert _seconds(tmp_path / "b.ogg") == 0.0 and _seconds(tmp_path / "missing.wav") == 0.0
