"""The audio detector's data recipe: corpus views keep held-out real sources out (issue #5)."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf

from generators.corpus import build_corpus, load_manifest
from worker.audio_recipe import (
    HELDOUT_REAL,
    PHONE_REAL,
    VOLUNTEER_HELDOUT_LANGUAGES,
    VOLUNTEER_REAL,
    VOLUNTEER_VALIDATION_LANGUAGES,
    _seconds,
    _tag,
    _voice_clips,
    corpus_view,
    in_eval_view,
    in_train_view,
    make_phone_set,
    make_voices_set,
    train_prompts,
)


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


def test_telephone_voices_stay_out_of_training_and_the_wideband_set() -> None:
    from types import SimpleNamespace as Item

    for split in ("train", "val", "test"):
        assert in_train_view(Item(source="fillets-cs", split=split))
        assert not in_train_view(Item(source=HELDOUT_REAL[1], split=split))
        assert not in_train_view(Item(source=PHONE_REAL[0], split=split))
        assert not in_eval_view(Item(source=PHONE_REAL[0], split=split))  # their own set only
        assert in_eval_view(Item(source=HELDOUT_REAL[1], split=split))
    assert in_eval_view(Item(source="fillets-cs", split="test"))
    assert not in_eval_view(Item(source="fillets-cs", split="train"))


def _phone_folder(root: Path, name: str, n: int) -> Path:
    d = root / name / "spk"
    d.mkdir(parents=True)
    t = np.arange(8000) / 8000
    base = 200 + zlib.crc32(name.encode()) % 1500  # distinct bytes per voice (the corpus dedups files)
    for i in range(n):
        sf.write(d / f"p{i}.wav", (0.2 * np.sin(2 * np.pi * (base + 10 * i) * t)).astype(np.float32), 8000)
    (root / name / "provscan-corpus.json").write_text(json.dumps({"source": name, "licence": "CC0-1.0"}))
    return root / name


def test_phone_set_pairs_unseen_phone_voices_with_synthetic_speech_on_the_same_channel(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    build_corpus(
        corpus,
        sources=[],
        add_real=[_phone_folder(tmp_path / "in", name, 3) for name in PHONE_REAL],
        use_apt=False,
        progress=False,
    )
    # The real phone-fr / phone-es sources mark their clips as GSM-coded (corpus meta); say so for one.
    from generators.corpus import MANIFEST

    lines = [json.loads(x) for x in (corpus / MANIFEST).read_text().splitlines()]
    for item in lines:
        if item["source"] == PHONE_REAL[1]:
            item["meta"]["phone_codec"] = "gsm"
    (corpus / MANIFEST).write_text("".join(json.dumps(x) + "\n" for x in lines))
    ev = tmp_path / "eval"
    (ev / "syn").mkdir(parents=True)
    t = np.arange(16000) / 16000
    recs = [{"label": "real", "file": "x.wav", "split": "test"}]
    for i in range(6):  # wideband synthetic clips with energy at 6 kHz
        y = 0.2 * np.sin(2 * np.pi * 500 * t) + 0.1 * np.sin(2 * np.pi * 6000 * t)
        sf.write(ev / "syn" / f"{i}.wav", y.astype(np.float32), 16000)
        recs.append({"label": "synthetic", "file": f"syn/{i}.wav", "generator": "espeak_ng", "split": "test"})
    (ev / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))

    out = make_phone_set(corpus, ev, tmp_path / "phone", per_source=2, seed=1)
    got = [json.loads(line) for line in (out / "labels.jsonl").read_text().splitlines()]
    real = [r for r in got if r["label"] == "real"]
    syn = [r for r in got if r["label"] == "synthetic"]
    assert sorted(r["channel"] for r in real) == sorted(2 * list(PHONE_REAL))
    assert len(syn) == 6 and {r["split"] for r in got} == {"test"}
    # Each synthetic clip is paired with the voices in turn and gets that voice's coding (user
    # folders say none: plain 8 kHz PCM), stored at 8 kHz without anything above 4 kHz.
    codecs = ["pcm8k", "gsm", "pcm8k"]
    assert [r["channel"] for r in syn[:3]] == [f"{v} ({c})" for v, c in zip(PHONE_REAL, codecs, strict=True)]
    for r in syn:
        y, sr = sf.read(out / r["file"], dtype="float32")
        assert sr == 8000 and abs(len(y) - 8000) <= 1
        assert r["generator"] == "espeak_ng"
    # GSM-coded and PCM-coded copies of the same tone really differ (the coding was applied).
    a, _ = sf.read(out / syn[0]["file"], dtype="float32")
    b, _ = sf.read(out / syn[1]["file"], dtype="float32")
    assert np.mean((a - b) ** 2) > 1e-5
    assert all((out / r["file"]).is_file() for r in real)


def test_phone_set_without_the_phone_voices_is_refused(tmp_path: Path) -> None:
    import pytest

    corpus = tmp_path / "corpus"
    build_corpus(corpus, sources=[], add_real=[_phone_folder(tmp_path / "in", "other", 2)], use_apt=False,
                 progress=False)
    (tmp_path / "labels.jsonl").write_text(json.dumps({"label": "synthetic", "file": "s.wav"}) + "\n")
    with pytest.raises(ValueError, match="no phone-it clips"):
        make_phone_set(corpus, tmp_path, tmp_path / "phone")
    with pytest.raises(ValueError, match="no labels.jsonl"):
        make_phone_set(corpus, tmp_path / "missing", tmp_path / "phone")
    with pytest.raises(ValueError, match="per_source"):
        make_phone_set(corpus, tmp_path, tmp_path / "phone", per_source=0)


def test_volunteer_voices_stay_out_of_training_unless_asked_and_never_enter_the_wideband_set() -> None:
    from types import SimpleNamespace as Item

    held, trained = "pt-BR", "de"
    assert held in VOLUNTEER_HELDOUT_LANGUAGES and trained not in VOLUNTEER_HELDOUT_LANGUAGES
    for source in VOLUNTEER_REAL:
        for split in ("train", "val", "test"):
            # The shipped recipe hears none of them; the volunteers option half the languages.
            assert not in_train_view(Item(source=source, split=split, language=trained))
            assert not in_train_view(Item(source=source, split=split, language=held), volunteers=True)
            assert in_train_view(Item(source=source, split=split, language=trained), volunteers=True)
            assert in_train_view(Item(source="fillets-cs", split=split, language="cs"), volunteers=True)
            # The wideband held-out set stays what earlier weights were measured on.
            assert not in_eval_view(Item(source=source, split=split, language=held))
            assert not in_eval_view(Item(source=source, split=split, language=trained))
        assert _tag({"label": "real", "source": f"{source}/da-alpha-a.ogg"})["codec_history"] == "vorbis44k"


def _voice_folder(root: Path, name: str, source: str, language: str, n: int, hz: float) -> Path:
    d = root / name / "spk"
    d.mkdir(parents=True)
    t = np.arange(int(0.8 * 44100)) / 44100
    for i in range(n):
        y = (0.2 * np.sin(2 * np.pi * (hz + 15 * i) * t)).astype(np.float32)
        sf.write(d / f"w{i}.ogg", y, 44100, format="OGG", subtype="VORBIS")
    (root / name / "provscan-corpus.json").write_text(
        json.dumps({"source": source, "licence": "GPL-2.0-or-later", "language": language})
    )
    return root / name


def test_voices_set_pairs_held_out_volunteer_languages_with_ogg_coded_synthetic_speech(tmp_path: Path) -> None:
    import pytest

    corpus = tmp_path / "corpus"
    build_corpus(
        corpus,
        sources=[],
        add_real=[
            _voice_folder(tmp_path / "in", "a", VOLUNTEER_REAL[0], "da", 2, 300),  # held out
            _voice_folder(tmp_path / "in", "b", VOLUNTEER_REAL[0], "de", 2, 600),  # a training voice
            _voice_folder(tmp_path / "in", "c", VOLUNTEER_REAL[1], "pt-BR", 1, 900),  # held out
        ],
        use_apt=False,
        progress=False,
    )
    ev = tmp_path / "eval"
    (ev / "syn").mkdir(parents=True)
    t = np.arange(16000) / 16000
    recs = [{"label": "real", "file": "x.wav", "split": "test"}]
    for i in range(3):
        sf.write(ev / "syn" / f"{i}.wav", (0.2 * np.sin(2 * np.pi * (440 + 100 * i) * t)).astype(np.float32), 16000)
        recs.append({"label": "synthetic", "file": f"syn/{i}.wav", "generator": "world_resynth", "split": "test"})
    (ev / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))

    everyone = make_voices_set(corpus, ev, tmp_path / "all")
    got = [json.loads(line) for line in (everyone / "labels.jsonl").read_text().splitlines()]
    assert sorted(r["corpus_source"] for r in got if r["label"] == "real") == sorted(
        2 * [f"{VOLUNTEER_REAL[0]}-da"] + 2 * [f"{VOLUNTEER_REAL[0]}-de"] + [f"{VOLUNTEER_REAL[1]}-pt-BR"]
    )
    out = make_voices_set(corpus, ev, tmp_path / "voices", languages=VOLUNTEER_HELDOUT_LANGUAGES)
    got = [json.loads(line) for line in (out / "labels.jsonl").read_text().splitlines()]
    real = [r for r in got if r["label"] == "real"]
    syn = [r for r in got if r["label"] == "synthetic"]
    # Every held-out-language clip, none of the training language, one report row per voice.
    assert sorted(r["corpus_source"] for r in real) == sorted(
        2 * [f"{VOLUNTEER_REAL[0]}-da"] + [f"{VOLUNTEER_REAL[1]}-pt-BR"]
    )
    assert {r["split"] for r in got} == {"test"} and len(syn) == 3
    for r in syn:  # coded as the volunteer clips were: 44.1 kHz Ogg Vorbis, same length, same tone
        info = sf.info(str(out / r["file"]))
        assert r["file"].endswith(".ogg") and info.samplerate == 44100 and abs(info.duration - 1.0) < 0.05
        assert r["generator"] == "world_resynth"
    y, _ = sf.read(out / syn[0]["file"], dtype="float32")
    spectrum = np.abs(np.fft.rfft(y[:44100]))
    assert abs(int(np.argmax(spectrum)) - 440) <= 2  # the 440 Hz synthetic tone survived the coding
    assert all((out / r["file"]).is_file() for r in real)

    other = tmp_path / "corpus2"
    build_corpus(other, sources=[], add_real=[_voice_folder(tmp_path / "in2", "b", VOLUNTEER_REAL[0], "de", 1, 500)],
                 use_apt=False, progress=False)
    with pytest.raises(ValueError, match="no volunteer clips of ar, "):
        make_voices_set(other, ev, tmp_path / "v2", languages=VOLUNTEER_HELDOUT_LANGUAGES)
    none = tmp_path / "corpus3"
    build_corpus(none, sources=[], add_real=[_phone_folder(tmp_path / "in3", "other", 1)], use_apt=False,
                 progress=False)
    with pytest.raises(ValueError, match="no volunteer clips: build the speech corpus"):
        make_voices_set(none, ev, tmp_path / "v2")
    (tmp_path / "nosyn").mkdir()
    (tmp_path / "nosyn" / "labels.jsonl").write_text(json.dumps(recs[0]) + "\n")
    with pytest.raises(ValueError, match="no synthetic clips"):
        make_voices_set(corpus, tmp_path / "nosyn", tmp_path / "v3")


def test_extra_voices_add_seeded_clips_of_each_training_voice_and_refuse_held_out_languages(tmp_path: Path) -> None:
    import pytest

    from worker.audio_recipe import VOLUNTEER_TRAINING_LANGUAGES
    from worker.model_builders import AUDIO_RECIPE

    # The three volunteer language lists never overlap: validation and test voices stay unheard, and
    # the shipped recipe trains on the training list only.
    lists = (VOLUNTEER_TRAINING_LANGUAGES, VOLUNTEER_VALIDATION_LANGUAGES, VOLUNTEER_HELDOUT_LANGUAGES)
    assert sum(len(x) for x in lists) == len(set().union(*lists)) == 26
    assert AUDIO_RECIPE["extra_voices"] == VOLUNTEER_TRAINING_LANGUAGES
    corpus = tmp_path / "corpus"
    build_corpus(
        corpus,
        sources=[],
        add_real=[
            _voice_folder(tmp_path / "in", "a", VOLUNTEER_REAL[0], "ca", 5, 300),
            _voice_folder(tmp_path / "in", "b", VOLUNTEER_REAL[1], "ca", 2, 600),
            _voice_folder(tmp_path / "in", "c", VOLUNTEER_REAL[0], "hu", 4, 900),
            _voice_folder(tmp_path / "in", "d", VOLUNTEER_REAL[0], "da", 3, 700),  # held out
        ],
        use_apt=False,
        progress=False,
    )
    out = tmp_path / "set"
    recs = _voice_clips(corpus, out, ("ca",), per_voice=3, seed=0)
    # At most per_voice clips of each voice of the asked languages, each voice its own source family.
    assert sorted(r["corpus_source"] for r in recs) == sorted(
        3 * [f"{VOLUNTEER_REAL[0]}-ca"] + 2 * [f"{VOLUNTEER_REAL[1]}-ca"]
    )
    assert {r["split"] for r in recs} == {"train"} and {r["label"] for r in recs} == {"real"}
    assert all((out / r["file"]).is_file() for r in recs)
    assert all(_tag(dict(r))["codec_history"] == "vorbis44k" for r in recs)
    again = _voice_clips(corpus, tmp_path / "again", ("ca",), per_voice=3, seed=0)
    assert [r["source"] for r in again] == [r["source"] for r in recs]  # seeded: the same clips
    other = {r["source"] for r in _voice_clips(corpus, tmp_path / "s1", ("ca",), per_voice=3, seed=1)}
    everyone = {r["source"] for r in _voice_clips(corpus, tmp_path / "all", ("ca",), per_voice=9, seed=0)}
    assert len(everyone) == 7 and other <= everyone
    with pytest.raises(ValueError, match="held-out or validation volunteer languages cannot be trained on: da"):
        _voice_clips(corpus, tmp_path / "x", ("ca", "da"), per_voice=3, seed=0)
    with pytest.raises(ValueError, match="no volunteer clips of gl"):
        _voice_clips(corpus, tmp_path / "x", ("gl",), per_voice=3, seed=0)
    with pytest.raises(ValueError, match="per_voice must be >= 1"):
        _voice_clips(corpus, tmp_path / "x", ("ca",), per_voice=0, seed=0)


def test_speech_corpus_is_rebuilt_when_the_recipe_asks_for_other_sources(tmp_path: Path, monkeypatch) -> None:
    """A data dir from before a source joined the recipe must not be trained on silently."""
    import worker.model_builders as mb

    monkeypatch.setenv("PROVSCAN_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(mb, "AUDIO_SOURCES", ("matplotlib",))  # wheel sources: no apt, seconds
    corpus = mb.audio_corpus()
    assert {i.source for i in load_manifest(corpus)} == {"matplotlib"}
    stamp = (corpus / "manifest.jsonl").stat().st_mtime_ns
    assert mb.audio_corpus() == corpus and (corpus / "manifest.jsonl").stat().st_mtime_ns == stamp  # kept

    monkeypatch.setattr(mb, "AUDIO_SOURCES", ("matplotlib", "skimage"))
    mb.audio_corpus()
    assert {i.source for i in load_manifest(corpus)} == {"matplotlib", "skimage"}
    assert (corpus / "requested-sources.txt").read_text() == "matplotlib\nskimage\n"
