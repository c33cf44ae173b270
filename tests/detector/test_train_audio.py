"""Audio trainer: a few steps on tiny in-test clips; weights load through the registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from detector.audio.features import FRONTS, SEG_FRAMES, features, lfcc, logmel, segments
from detector.base import DETECTORS
from detector.media import load_audio
from detector.train import train_detector
from detector.train.augment import codec_roundtrip
from detector.train.toy import make_audio_dataset
from detector.types import MediaItem
from worker.model_builders import AUDIO_RECIPE

# Detector modules are imported inside fixtures, not at collection: registry-wide tests elsewhere are
# parametrized at collection time and must not see weight-needing detectors they cannot build.


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    import detector.audio.cnn  # noqa: F401  (registers audio-lfcc-cnn)
    import detector.audio.gmm  # noqa: F401  (registers audio-lfcc-gmm)

    root = tmp_path_factory.mktemp("audtrain")
    # Two real sources (toy-0: speakers 0, 2, 4; toy-1: 1, 3) so the CNN's source-cv calibration runs.
    data = make_audio_dataset(root / "data", n_sources=5, per_source=1, seed=0, real_families=2)
    # train_detector's default front end (what `provscan train audio` uses); the registry test
    # checks it is the shipped recipe's, so the path tested is the one the committed weights use.
    train_detector("voice", data, root / "models", seed=0, epochs=1, copies=1)
    return data, root / "models"


def test_registry_findings_with_segments(trained: tuple[Path, Path]) -> None:
    data, models = trained
    y, sr = load_audio(next((data / "synthetic").glob("*.wav")))
    item = MediaItem("x.wav", "x.wav", "0" * 64, "audio", "audio/wav", 1)
    cnn_card = yaml.safe_load((models / "detectors" / "audio-lfcc-cnn.yaml").read_text())
    assert cnn_card["config"]["front"] == AUDIO_RECIPE["train"]["front"]
    phone = f"(p={AUDIO_RECIPE['train']['p_phone']:g}) a telephone channel"
    assert phone in cnn_card["augmentation_label_blind"]
    for name in ("audio-lfcc-cnn", "audio-lfcc-gmm"):
        card = yaml.safe_load((models / "detectors" / f"{name}.yaml").read_text())
        assert card["sample_rate"] == 16000 and card["seed"] == 0
        f = DETECTORS.create(name, models_dir=models).analyze(item, (y, sr))
        assert f.status == "ok" and 0.0 <= f.score <= 1.0
        segs = f.evidence["segments"]
        assert len(segs) == int(np.ceil(len(y) / sr / 0.5))
        assert segs[0]["start"] == 0.0 and all(0 <= s["score"] <= 1 for s in segs)
    short = DETECTORS.create("audio-lfcc-cnn", models_dir=models).analyze(item, (y[: sr // 10], sr))
    assert short.status == "skipped"


def test_cnn_is_calibrated_on_sources_its_scoring_model_never_heard(trained: tuple[Path, Path]) -> None:
    import json

    data, models = trained
    cal = yaml.safe_load((models / "detectors" / "audio-lfcc-cnn.yaml").read_text())["calibration"]
    assert cal["method"].startswith("platt on out-of-source scores: 2-fold") and cal["a"] > 0
    held = [set(f["held_out_real_sources"]) for f in cal["folds"]]
    assert held[0] | held[1] == {"toy-0", "toy-1"} and not held[0] & held[1]
    recs = [json.loads(line) for line in (data / "labels.jsonl").read_text().splitlines()]
    for fold, fams in zip(cal["folds"], held, strict=True):
        # Every real train+val clip of the held-out sources is scored, and the fold model was
        # trained on fewer copies: the real clips of those speakers and the synthetic clips made from
        # their recordings (same source id here, as vocoder twins) were left out.
        real = [r for r in recs if r["label"] == "real" and r["corpus_source"] in fams and r["split"] != "test"]
        heard = {r["source"] for r in real}
        kept = [r for r in recs if r["split"] == "train" and r["source"] not in heard]
        assert fold["n_real"] == len(real) > 0 and fold["training_copies"] == len(kept)
    assert sum(f["n_synthetic"] for f in cal["folds"]) >= 1
    gmm = yaml.safe_load((models / "detectors" / "audio-lfcc-gmm.yaml").read_text())["calibration"]
    assert gmm["method"] == "platt (fitted on the validation split)"


def test_source_folds_balance_clip_counts_and_never_split_a_source() -> None:
    from detector.train.audio import source_folds
    from detector.train.data import Record

    def rec(fam: str, label: int = 0) -> Record:
        return Record(Path("x.wav"), label, "real", "audio", None, fam, "s", "train")

    recs = [rec(f) for f, n in {"a": 5, "b": 4, "c": 3, "d": 1}.items() for _ in range(n)] + [rec("tts", 1)] * 9
    assert source_folds(recs, 2) == [{"a", "d"}, {"b", "c"}]
    assert source_folds(recs[:5], 2) == [{"a"}]  # one source: one fold, the trainer falls back to val


def test_a_fold_leaves_out_synthetic_clips_made_from_its_sources() -> None:
    from detector.train.audio import _of_sources
    from detector.train.data import Record

    def rec(label: int, family: str, source: str, made_from: str | None = None) -> Record:
        extra = {"made_from": made_from} if made_from else {}
        return Record(Path("x.wav"), label, "x", "audio", None, family, source, "train", extra=extra)

    held, clips = {"asterisk-fr"}, {"asterisk-fr/vm-INBOX.flac"}
    assert _of_sources(rec(0, "asterisk-fr", "asterisk-fr/a.flac"), held, clips)  # its real clips
    assert not _of_sources(rec(0, "fillets-nl", "fillets-nl/b.ogg"), held, clips)
    # WORLD re-synthesis of one of its recordings (own source id, recording named in made_from)
    assert _of_sources(rec(1, "world", "vm-INBOX.flac@32837cad", "asterisk-fr"), held, clips)
    assert _of_sources(rec(1, "espeak", "asterisk-fr/vm-INBOX.flac"), held, clips)  # twin by corpus id
    assert not _of_sources(rec(1, "espeak", "pf2a65b7c6b"), held, clips)  # TTS of a prompt


def test_unknown_calibration_is_refused(tmp_path: Path) -> None:
    from detector.train.audio import train_audio

    with pytest.raises(ValueError, match="unknown calibration"):
        train_audio(tmp_path, tmp_path, calibration="isotonic")


def test_gmm_baseline_separates_toy_voices(trained: tuple[Path, Path]) -> None:
    _, models = trained
    card = yaml.safe_load((models / "detectors" / "audio-lfcc-gmm.yaml").read_text())
    assert card["metrics"]["test"]["auc"] >= 0.9


def test_front_ends_shapes() -> None:
    y = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
    f = lfcc(y)
    assert f.shape == (60, 101)
    assert logmel(y).shape == (64, 101)
    wins, times = segments(f)
    assert wins.shape == (3, 60, SEG_FRAMES) and times[0] == (0.0, 0.5)
    assert set(FRONTS) == {"lfcc", "logmel", "logspec", "logspec128"}
    with pytest.raises(ValueError, match="unknown audio front end"):
        features(y, "mfcc")


def test_stem_stride_halves_the_frequency_axis_of_the_first_block() -> None:
    import torch

    from detector.audio.cnn import build_net

    x = torch.zeros(2, 1, 257, SEG_FRAMES)
    plain, strided = build_net({"width": 4}), build_net({"width": 4, "stem_stride": 2})
    assert plain[0](x).shape[2] == 257 and strided[0](x).shape[2] == 129
    assert plain(x).shape == strided(x).shape == (2, 1)


def test_log_spectrogram_resolves_harmonics_that_lfcc_filters_merge() -> None:
    # Harmonics 125 Hz apart (a 125 Hz voice): 4 bins apart in the 31.25 Hz log spectrogram, with
    # empty bins between them, but inside one 400 Hz LFCC filter. The 128-bin front sums bin pairs.
    t = np.arange(16000) / 16000
    y = (0.3 * np.sin(2 * np.pi * 1000 * t) + 0.3 * np.sin(2 * np.pi * 1125 * t)).astype(np.float32)
    spec = features(y, "logspec")
    assert spec.shape == (257, 101)
    col = spec[:, 50]  # 1000 Hz = bin 32, 1125 Hz = bin 36
    assert col[32] > col[34] + 20 and col[36] > col[34] + 20
    half = features(y, "logspec128")
    assert half.shape == (128, 101)
    assert np.allclose(np.exp(half), np.exp(spec[0:256:2]) + np.exp(spec[1:256:2]), rtol=1e-3, atol=1e-8)


def test_codec_roundtrip_keeps_length_and_changes_signal() -> None:
    t = np.arange(16000) / 16000
    y = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.random.default_rng(0).normal(size=16000)).astype(
        np.float32
    )
    for codec in ("ogg", "mp3"):
        out = codec_roundtrip(y, 16000, codec, bitrate_k=64)
        assert out.shape == y.shape and out.dtype == np.float32
        assert 0 < np.mean((out - y) ** 2) < np.mean(y**2)


def _tone(seconds: float = 1.0, sr: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 440 * t) * np.sin(2 * np.pi * 3 * t)).astype(np.float32)


def test_g722_roundtrip_is_a_delayed_wideband_copy() -> None:
    y = _tone()
    out = codec_roundtrip(y, 16000, "g722")
    assert out.shape == y.shape and out.dtype == np.float32
    # G.722 delays by a few dozen samples; aligned, the tone survives almost unchanged.
    lag = int(np.argmax([np.dot(out[k:], y[: len(y) - k]) for k in range(64)]))
    assert np.corrcoef(out[lag:], y[: len(y) - lag])[0, 1] > 0.99
    with pytest.raises(ValueError, match="unknown codec"):
        codec_roundtrip(y, 16000, "aac")


def test_phone_codecs_band_limit_to_4_khz_and_keep_length() -> None:
    """A telephone channel (GSM, G.711, 8 kHz PCM) removes everything above 4 kHz and keeps speech
    below it; ``out_sr`` returns the decoded 8 kHz signal itself (what a .gsm prompt decodes to)."""
    sr = 16000
    t = np.arange(sr) / sr
    y = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 6000 * t)).astype(np.float32)
    spec_in = np.abs(np.fft.rfft(y))
    for codec in ("gsm", "mulaw", "alaw", "pcm8k"):
        out = codec_roundtrip(y, sr, codec)
        assert out.shape == y.shape and out.dtype == np.float32
        spec = np.abs(np.fft.rfft(out))
        assert spec[6000] < 0.01 * spec_in[6000], codec  # 1 Hz bins: the 6 kHz tone is gone
        assert spec[440] > 0.8 * spec_in[440], codec  # the 440 Hz tone is kept
        at8k = codec_roundtrip(y, sr, codec, out_sr=8000)
        assert at8k.shape == (8000,)
    # GSM is lossy, G.711 nearly transparent below 4 kHz: the codecs really differ.
    low = codec_roundtrip(y, sr, "pcm8k")
    assert np.mean((codec_roundtrip(y, sr, "gsm") - low) ** 2) > 10 * np.mean(
        (codec_roundtrip(y, sr, "mulaw") - low) ** 2
    )


def test_every_sweep_transform_runs_on_8_khz_audio() -> None:
    """A phone-band file is scored at its own 8 kHz rate: libvorbis refuses 64 kbit/s there, so the
    Ogg transform encodes it at 16 kHz instead of failing the whole evaluation."""
    from detector.train.augment import AUDIO_TRANSFORMS, audio_transform

    y = _tone(1.0, 8000)
    for name in AUDIO_TRANSFORMS:
        out = audio_transform(y, 8000, name)
        assert out.shape == y.shape and np.isfinite(out).all(), name


def _high_band_share(y: np.ndarray, sr: int = 16000) -> float:
    spec = np.abs(np.fft.rfft(y)) ** 2
    return float(spec[int(4200 * len(y) / sr) :].sum() / spec.sum())


def test_augment_audio_phone_channel_is_optional() -> None:
    """p_phone=0 (the default) never band-limits a copy; p_phone=1 band-limits every copy to 4 kHz."""
    from detector.train.augment import augment_audio

    noise = np.random.default_rng(1).normal(0, 0.05, 16000).astype(np.float32)
    wide = [augment_audio(noise, 16000, np.random.default_rng([0, k])) for k in range(6)]
    assert all(_high_band_share(w) > 0.2 for w in wide)  # white noise keeps its 4-8 kHz half
    phone = [augment_audio(noise, 16000, np.random.default_rng([0, k]), p_phone=1.0) for k in range(6)]
    assert all(_high_band_share(p) < 0.01 for p in phone)


def test_phone_gsm_transform_is_a_gsm_channel() -> None:
    from detector.train.augment import AUDIO_TRANSFORMS, audio_transform, codec_roundtrip

    assert "phone_gsm" in AUDIO_TRANSFORMS
    noise = np.random.default_rng(2).normal(0, 0.05, 16000).astype(np.float32)
    out = audio_transform(noise, 16000, "phone_gsm")
    assert out.shape == noise.shape and _high_band_share(out) < 0.01
    assert np.array_equal(out, codec_roundtrip(noise, 16000, "gsm"))  # GSM, not merely a low-pass


def test_history_roundtrip_gives_real_sources_codecs() -> None:
    from detector.train.augment import HISTORIES, history_roundtrip

    y = _tone() + np.random.default_rng(1).normal(0, 0.02, 16000).astype(np.float32)
    rng = np.random.default_rng(0)
    assert history_roundtrip(y, 16000, "none", rng) is y
    for h in HISTORIES[1:]:
        out = history_roundtrip(y, 16000, h, rng)
        assert out.shape == y.shape and not np.allclose(out, y)
    with pytest.raises(ValueError, match="unknown codec history"):
        history_roundtrip(y, 16000, "flac", rng)


def test_codec_history_of_records(tmp_path: Path) -> None:
    from detector.train.audio import codec_history
    from detector.train.data import Record

    def rec(name: str, label: int, **extra: str) -> Record:
        return Record(
            tmp_path / name,
            label,
            "real" if label == 0 else "synthetic",
            "audio",
            None,
            "x",
            name,
            "train",
            extra=extra,
        )

    assert codec_history(rec("a.ogg", 0)) == "vorbis22k"
    assert codec_history(rec("a.flac", 0, codec_history="g722")) == "g722"
    # The KDE volunteer clips are Ogg too, but 44.1 kHz ~96 kbit/s: the recipe's tag wins over the suffix.
    assert codec_history(rec("a.ogg", 0, codec_history="vorbis44k")) == "vorbis44k"
    assert codec_history(rec("a.wav", 0)) == "none"
    assert codec_history(rec("a.ogg", 1)) == "none"  # synthetic files get histories drawn, not read


def test_lowpass_removes_the_top_band_only() -> None:
    from detector.audio.features import lowpass

    t = np.arange(16000) / 16000
    low, high = np.sin(2 * np.pi * 1000 * t), np.sin(2 * np.pi * 7600 * t)
    out = lowpass((low + high).astype(np.float32), 7000)
    spec = np.abs(np.fft.rfft(out))
    assert spec[7600] < 0.01 * spec[1000]
    assert lowpass(low.astype(np.float32), None) is not None and np.allclose(lowpass(low, None), low)


def test_history_matching_is_recorded_in_the_card(tmp_path: Path) -> None:
    """Synthetic training copies get the real clips' codec histories; the card says which."""
    import detector.audio.cnn  # noqa: F401

    data = make_audio_dataset(tmp_path / "data", n_sources=4, per_source=1, seed=1)
    train_detector(
        "voice", data, tmp_path / "models", seed=0, epochs=1, copies=1, baselines=False, lowpass_hz=7000
    )
    card = yaml.safe_load((tmp_path / "models" / "detectors" / "audio-lfcc-cnn.yaml").read_text())
    assert "codec history" in card["augmentation"] and card["config"]["lowpass_hz"] == 7000.0
    y, sr = load_audio(next((data / "synthetic").glob("*.wav")))
    assert 0.0 <= DETECTORS.create("audio-lfcc-cnn", models_dir=tmp_path / "models").score((y, sr)) <= 1.0


def test_unknown_front_end_is_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown audio front end 'mfcc'"):
        train_detector("audio", tmp_path / "no-such-set", tmp_path / "models", front="mfcc")


def test_calibration_check_compares_both_maps_on_the_same_raw_scores(trained: tuple[Path, Path], tmp_path: Path) -> None:
    import json

    from bench.audio_calibration import main

    data, models = trained
    out, png = tmp_path / "cal.json", tmp_path / "cal.png"
    assert main(["--models", str(models), "--train", str(data), "--data", str(data), "--out", str(out),
                 "--png", str(png)]) == 0
    res = json.loads(out.read_text())
    shipped = yaml.safe_load((models / "detectors" / "audio-lfcc-cnn.yaml").read_text())["calibration"]
    # the card rounds to 6 decimals
    assert res["maps"]["shipped"] == {"a": pytest.approx(shipped["a"], abs=1e-5), "b": pytest.approx(shipped["b"], abs=1e-5)}
    assert res["maps"]["val"] != res["maps"]["shipped"]
    s = res["sets"][data.name]
    assert s["val"]["auc"] == s["shipped"]["auc"]  # a monotone map cannot change the ranking
    assert set(s["val"]["per_real_source"]) == {"toy-0"}  # the test split holds speaker 4 only
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["--models", str(tmp_path), "--train", str(data), "--data", str(data), "--out", str(out)]) == 2
    # A held-out folder without labels.jsonl: a message and exit 2, before any scoring.
    assert main(["--models", str(models), "--train", str(data), "--data", str(tmp_path), "--out", str(out)]) == 2


def test_provscan_train_audio_takes_the_calibration_choice(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from worker.cli import main

    data = make_audio_dataset(tmp_path / "data", n_sources=5, per_source=1, seed=1, real_families=2)
    models = tmp_path / "models"
    args = ["train", "audio", "--data", str(data), "--models-dir", str(models), "--epochs", "1", "--no-baselines"]
    assert main([*args, "--calibration", "val"]) == 0
    card = yaml.safe_load((models / "detectors" / "audio-lfcc-cnn.yaml").read_text())
    assert card["calibration"]["method"] == "platt (fitted on the validation split)"
    assert main(["train", "image", "--data", str(data), "--calibration", "val"]) == 2
    assert "--calibration applies to audio only" in capsys.readouterr().err


def test_narrow_band_clips_carry_a_caveat(trained: tuple[Path, Path]) -> None:
    from detector.audio.features import narrow_band, resample, upper_band_share

    _, models = trained
    rng = np.random.default_rng(3)
    t = np.arange(32000) / 16000
    speechy = (0.3 * np.sin(2 * np.pi * 180 * t) + 0.05 * rng.normal(size=t.size)).astype(np.float32)  # wideband noise
    assert upper_band_share(speechy) > 0.01 and not narrow_band(speechy, 16000)
    # The same clip through an 8 kHz phone channel, then stored at 44.1 kHz as a voicemail would be.
    phone = resample(codec_roundtrip(speechy, 16000, "gsm"), 16000, 44100)
    assert narrow_band(resample(phone, 44100), 44100)
    assert narrow_band(resample(speechy, 16000, 8000), 8000)  # 8 kHz sampling says so by itself
    item = MediaItem("x.wav", "x.wav", "0" * 64, "audio", "audio/wav", 1)
    det = DETECTORS.create("audio-lfcc-cnn", models_dir=models)
    narrow = det.analyze(item, (resample(speechy, 16000, 8000), 8000)).evidence
    wide = det.analyze(item, (speechy, 16000)).evidence
    assert narrow["band"].startswith("narrow") and "weakest channel" in narrow["caveat"]
    assert "band" not in wide and "caveat" not in wide


def test_band_check_counts_every_test_clip(tmp_path: Path) -> None:
    import json

    from bench.audio_band import main

    # The same toy voices stored at 8 kHz (a phone set) and at 16 kHz with a noise floor up to 8 kHz.
    phone = make_audio_dataset(tmp_path / "phone", n_sources=5, per_source=1, seed=2, sr=8000)
    wide = make_audio_dataset(tmp_path / "wide", n_sources=5, per_source=1, seed=2)
    rng = np.random.default_rng(0)
    for f in wide.rglob("*.wav"):
        y, sr = load_audio(f)
        sf.write(f, np.clip(y + 0.02 * rng.normal(size=len(y)), -1, 1), sr, subtype="PCM_16")
    out = tmp_path / "band.json"
    assert main(["--data", str(phone), "--data", str(wide), "--out", str(out)]) == 0
    sets = json.loads(out.read_text())["sets"]
    n_test = sum(json.loads(x)["split"] == "test" for x in (phone / "labels.jsonl").read_text().splitlines())
    assert sets["phone"]["clips"] == n_test == sum(g["n"] for g in sets["phone"]["groups"].values())
    assert sets["phone"]["narrow_band"] == n_test and sets["wide"]["narrow_band"] == 0
    assert main(["--data", str(tmp_path), "--out", str(out)]) == 2


def test_speed_perturb_moves_pitch_and_length_together() -> None:
    from detector.train.augment import speed_perturb

    y = _tone(1.0)  # 440 Hz
    fast = speed_perturb(y, 1.1)
    assert abs(len(fast) - len(y) / 1.1) <= 2
    spec = np.abs(np.fft.rfft(fast))
    peak = np.argmax(spec) * 16000 / len(fast)
    assert abs(peak - 440 * 1.1) < 5  # the tone is 10 % higher: a new voice, not a vocoder artefact
    assert speed_perturb(y, 1.004) is y  # rounded to 1 %: no-op


def test_speed_and_frequency_masking_are_recorded_and_keep_other_draws(tmp_path: Path) -> None:
    """The options train, are named in the card, and leave the copies of a recipe without them unchanged."""
    import detector.audio.cnn  # noqa: F401
    from detector.train.audio import _augmented

    clips = [_tone(0.6), _tone(0.8)]
    plain = _augmented(clips, 3, 2)
    again = _augmented(clips, 3, 2, speed=0.0)
    assert all(np.array_equal(a, b) for a, b in zip(plain, again, strict=True))
    sped = _augmented(clips, 3, 2, speed=0.12)
    assert any(len(a) != len(b) for a, b in zip(plain, sped, strict=True))

    data = make_audio_dataset(tmp_path / "data", n_sources=4, per_source=1, seed=1)
    train_detector(
        "voice", data, tmp_path / "models", seed=0, epochs=1, copies=1, baselines=False, speed=0.1, freq_mask=8,
        calibration="val",
    )
    card = yaml.safe_load((tmp_path / "models" / "detectors" / "audio-lfcc-cnn.yaml").read_text())
    assert card["augmentation_label_blind"].startswith("speed 0.9-1.1x")
    assert "frequency masking in training (half the windows, 1-8 bins)" in card["augmentation_label_blind"]


def test_source_cv_bench_scores_each_voice_with_a_model_that_never_heard_it(tmp_path: Path) -> None:
    """bench/audio_source_cv: per-fold and pooled out-of-source metrics, and a table comparing variants."""
    import json

    from bench.audio_source_cv import main

    data = make_audio_dataset(tmp_path / "data", n_sources=5, per_source=1, seed=0, real_families=2)
    for v in ("base", "fmask"):
        assert main(["--data", str(data), "--variant", v, "--epochs", "1", "--json", str(tmp_path / f"{v}.json")]) == 0
    res = json.loads((tmp_path / "fmask.json").read_text())
    assert res["changes"] == {"freq_mask": 16} and len(res["folds"]) == 2
    assert sum(f["n_real"] + f["n_synthetic"] for f in res["folds"]) == res["n_real"] + res["n_synthetic"]
    assert 0.0 <= res["eer"] <= 1.0 and all(f["eer"] is None or 0.0 <= f["eer"] <= 1.0 for f in res["folds"])
    out = tmp_path / "cv.md"
    assert main(["--report", str(tmp_path / "fmask.json"), str(tmp_path / "base.json"), "--out", str(out)]) == 0
    rows = [ln for ln in out.read_text().splitlines() if ln.startswith("| base") or ln.startswith("| fmask")]
    assert rows[0].startswith("| base") and "| 1.00 |" in rows[0] and len(rows) == 2
    # Paired comparison on the same clips: the fmask row carries AUC - base with its bootstrap interval.
    assert len(res["scores"]) == len(res["labels"]) == res["n_real"] + res["n_synthetic"]
    lo, hi = (float(x) for x in rows[1].split("[")[1].split("]")[0].split(","))
    assert lo <= hi and "±" in rows[1]
    assert main(["--data", str(tmp_path / "nothing"), "--variant", "base", "--json", str(tmp_path / "x.json")]) == 2


def test_frequency_masks_blank_one_band_in_about_half_the_windows() -> None:
    import torch

    from detector.train.augment import freq_masks

    x = torch.ones(400, 1, 128, 50)
    freq_masks(x, np.random.default_rng(0), 16)
    zero_rows = (x == 0).all(dim=3)[:, 0]  # (B, F): bins blanked across the whole window
    widths = zero_rows.sum(dim=1)
    masked = widths > 0
    assert 150 < int(masked.sum()) < 250 and int(widths.max()) <= 16
    for i in np.nonzero(masked.numpy())[0][:20]:  # one contiguous band, nothing else touched
        band = np.nonzero(zero_rows[i].numpy())[0]
        assert band[-1] - band[0] + 1 == len(band) and int((x[i] == 0).sum()) == len(band) * 50
    with pytest.raises(ValueError, match="freq_mask must be 1..128"):
        freq_masks(x, np.random.default_rng(0), 129)


def test_bad_augmentation_options_are_refused_before_any_work(tmp_path: Path) -> None:
    from detector.train.audio import out_of_source_scores

    for bad, match in (
        ({"freq_mask": -1}, "freq_mask must be 0"),
        ({"speed": 0.6}, "speed must be in"),
        ({"p_gate": 1.5}, "p_gate must be in"),
        ({"p_denoise": -0.1}, "p_denoise must be in"),
    ):
        with pytest.raises(ValueError, match=match):
            train_detector("voice", tmp_path / "no-such-set", tmp_path / "m", **bad)
        with pytest.raises(ValueError, match=match):
            out_of_source_scores(tmp_path / "no-such-set", **bad)
    data = make_audio_dataset(tmp_path / "data", n_sources=4, per_source=1, seed=1)
    with pytest.raises(ValueError, match="freq_mask must be 1..128 bins for front 'logspec128'"):
        train_detector("voice", data, tmp_path / "m", epochs=1, copies=1, baselines=False, freq_mask=500)


def test_noise_gate_silences_the_quiet_frames_and_keeps_the_speech() -> None:
    from detector.train.augment import noise_gate

    t = np.arange(16000) / 16000
    voiced = (t > 0.3) & (t < 0.6)
    room = 0.001 * np.random.default_rng(0).normal(size=16000)  # -60 dBFS, 47 dB under the tone
    y = (0.3 * np.sin(2 * np.pi * 200 * t) * voiced + room).astype(np.float32)
    deep = noise_gate(y, np.random.default_rng(2))  # depth drawn 41.5 dB: the room noise is gated
    assert np.mean(deep[~voiced] == 0) > 0.9 and np.array_equal(deep[5000:9000], y[5000:9000])
    assert np.all((deep == 0) | (deep == y))  # a gate, no fade or gain change
    shallow = noise_gate(y, np.random.default_rng(0))  # 50.9 dB: the noise is within the depth, kept
    assert np.array_equal(shallow, y)
    assert np.array_equal(noise_gate(y[:100], np.random.default_rng(2)), y[:100])  # under two frames: unchanged


def test_gated_copies_come_only_with_p_gate(tmp_path: Path) -> None:
    """p_gate 0 leaves every copy as it was (the shipped weights' draws); p_gate 1 gates every copy."""
    from detector.train.audio import _augmented

    t = np.arange(16000) / 16000
    y = (0.3 * np.sin(2 * np.pi * 200 * t) * ((t > 0.3) & (t < 0.6))
         + 0.001 * np.random.default_rng(0).normal(size=16000)).astype(np.float32)
    plain = _augmented([y], 0, 3)
    again = _augmented([y], 0, 3, p_gate=0.0)
    gated = _augmented([y], 0, 3, p_gate=1.0)
    assert all(np.array_equal(a, b) for a, b in zip(plain, again, strict=True))
    assert sum(int(np.sum(g == 0)) for g in gated) > sum(int(np.sum(a == 0)) for a in plain) + 1000


def test_spectral_denoise_lowers_the_noise_and_keeps_the_voice() -> None:
    from detector.train.augment import spectral_denoise

    t = np.arange(32000) / 16000
    voiced = (t > 0.5) & (t < 1.4)
    y = (0.3 * np.sin(2 * np.pi * 200 * t) * voiced + 0.01 * np.random.default_rng(0).normal(size=32000))
    y = y.astype(np.float32)
    out = spectral_denoise(y, np.random.default_rng(1))
    assert out.shape == y.shape and out.dtype == np.float32
    quiet, steady = t < 0.4, (t > 0.7) & (t < 1.2)
    assert out[quiet].std() < 0.5 * y[quiet].std()  # the room noise is at least 6 dB down
    assert np.corrcoef(out[steady], y[steady])[0, 1] > 0.99  # the voiced part is kept
    assert np.array_equal(spectral_denoise(y[:600], np.random.default_rng(1)), y[:600])  # too short: as is
    denoised = _augmented_with(y, p_denoise=1.0)
    assert not any(np.array_equal(a, b) for a, b in zip(denoised, _augmented_with(y), strict=True))


def _augmented_with(y: np.ndarray, **opts: float) -> list[np.ndarray]:
    from detector.train.audio import _augmented

    return _augmented([y], 0, 2, **opts)
