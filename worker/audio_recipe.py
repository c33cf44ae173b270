"""The audio detector's training and evaluation data (issue #5: no language / codec / recording shortcut).

The first ``audio-lfcc-cnn`` learned "Czech/Dutch Ogg game dialogue = real": that was the only
real speech it saw. This recipe makes the real class several languages, speakers and codec
histories, makes the synthetic class speak those languages too, and keeps whole real sources out:

* training view of the corpus: every audio source except ``HELDOUT_REAL`` (alsa-utils English PCM
  and the Italian asterisk speaker, never trained on);
* ``generate_dataset`` on that view (all voice generators; vocoder twins re-synthesise real clips
  of every training language), plus espeak-ng twins saying real clips' transcripts in their own
  language (cs, nl, es, fr, ru, en), so language never names the label;
* real asterisk clips are tagged ``codec_history: g722`` so the trainer gives synthetic copies the
  same codec histories as the real ones (``detector.train.audio``);
* an evaluation set from a *test view*: the test split of the training sources plus every clip of
  the held-out sources, made with another seed; all of it is split ``test``;
* a telephone evaluation set (``make_phone_set``): the three 8 kHz asterisk prompt voices
  (``PHONE_REAL``, never in training or in the set above) against that set's synthetic clips put
  through the same telephone codings (8 kHz GSM 06.10 or PCM);
* a "new speakers" set (``make_voices_set``): 32 KDE volunteer voices (``VOLUNTEER_REAL``, never
  trained on by the shipped recipe) against that set's synthetic clips coded as those voices were
  (44.1 kHz Ogg Vorbis).
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generators.corpus_sources import KDE_VOICES, PHONE_VOICES
from generators.dataset import write_labels

HELDOUT_REAL = ("alsa", "asterisk-it")
# Telephone-band voices (8 kHz asterisk prompt packages, generators.corpus_sources.PHONE_VOICES):
# evaluation only, in their own set, so the wideband held-out set above stays what it was.
PHONE_REAL = tuple(PHONE_VOICES)
# Volunteer voices (KDE ktuberling words, klettres letters; one folder per language, 32 voices), in
# three disjoint language lists, each drawn once by a seeded shuffle, never chosen by score:
# * held out (``sorted(random.Random("kde-voices-holdout:0").sample(sorted(all 26 languages), 13))``):
#   never trained on; the "new speakers" test set (``make_voices_set``);
# * validation (``sorted(random.Random("kde-voices-val:0").sample(sorted(the other 13), 6))``): never
#   trained on; recipe choices about new voices are made on them;
# * training (the remaining 7): the shipped recipe adds ``per_voice`` clips of each of their 9 voices
#   (``make_audio_set(extra_voices=...)``, AUDIO_RECIPE; adopted 2026-12-03, docs/eval/README.md, Audio,
#   "New speakers").
# ``make_audio_set(volunteers=True)`` (every non-held-out volunteer clip in the sampling pool, displacing
# sampled clips of the other sources) was tried first and not adopted.
VOLUNTEER_REAL = tuple(KDE_VOICES)
VOLUNTEER_HELDOUT_LANGUAGES = ("ar", "cs", "da", "fr", "he", "it", "ml", "nb", "nds", "pt-BR", "sl", "sr", "wa")
VOLUNTEER_VALIDATION_LANGUAGES = ("de", "el", "lt", "nl", "ru", "tn")
VOLUNTEER_TRAINING_LANGUAGES = ("ca", "en", "en-GB", "es", "gl", "hu", "uk")
SMALL_HELDOUT = ("alsa",)
MIN_SECONDS = 0.3  # 8 clips: every one goes into the evaluation set, not a sample
TWIN_LANGUAGES = ("cs", "nl", "es", "fr", "ru", "en")
# corpus source prefix -> codec the files shipped in (detector.train.augment.HISTORIES)
CODEC_HISTORY = {"asterisk": "g722", **dict.fromkeys(VOLUNTEER_REAL, "vorbis44k")}


def is_heldout_volunteer(c: Any) -> bool:
    """A clip of a volunteer voice whose language is kept out of training."""
    return c.source in VOLUNTEER_REAL and c.language in VOLUNTEER_HELDOUT_LANGUAGES


def in_train_view(c: Any, *, volunteers: bool = False) -> bool:
    """Corpus items the training set may use: every source but the held-out and telephone voices and
    the volunteer voices (with ``volunteers``: all but the held-out volunteer languages)."""
    if c.source in VOLUNTEER_REAL:
        return volunteers and not is_heldout_volunteer(c)
    return c.source not in HELDOUT_REAL and c.source not in PHONE_REAL


def in_eval_view(c: Any) -> bool:
    """Corpus items of the wideband held-out set: test split of the training sources + held-out voices.

    The volunteer voices stay out of it (they have their own set), so this set is the one every
    earlier weights were measured on.
    """
    return (c.source not in PHONE_REAL and c.source not in VOLUNTEER_REAL
            and (c.source in HELDOUT_REAL or c.split == "test"))


def corpus_view(corpus: Path, dest: Path, keep: Callable[[Any], bool], *, split: str | None = None) -> int:
    """A corpus folder holding only the audio items ``keep`` accepts (symlinks, same manifest format).

    Args:
        corpus: Built corpus folder.
        dest: View folder (replaced).
        keep: ``CorpusItem -> bool``.
        split: Force every kept item into this split (None: keep the corpus split).

    Returns:
        Items in the view.
    """
    from dataclasses import replace

    from generators.corpus import MANIFEST, load_manifest

    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    n = 0
    with open(dest / MANIFEST, "w", encoding="utf-8") as fh:
        for item in load_manifest(corpus):
            if item.modality != "audio" or not keep(item):
                continue
            link = dest / item.path
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to((corpus / item.path).resolve())
            if split:
                item = replace(item, split=split)
            fh.write(json.dumps(item.to_json(), ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    return n


def _twins(view: Path, out: Path, *, per_language: int, seed: int, index0: int) -> list[dict[str, Any]]:
    """espeak-ng (and, for English, festival) twins of real clips with transcripts, per language."""
    import numpy as np
    import soundfile as sf

    from generators.corpus import load_manifest
    from generators.dataset import VOICE_SR
    from generators.voice.twins import make_twin

    items = [c for c in load_manifest(view) if c.text and c.language in TWIN_LANGUAGES]
    rng = random.Random(f"twins:{seed}")
    recs: list[dict[str, Any]] = []
    k = index0
    for lang in TWIN_LANGUAGES:
        pool = sorted((c for c in items if c.language == lang), key=lambda c: c.id)
        rng.shuffle(pool)
        for c in pool[:per_language]:
            try:
                g = make_twin(
                    view / c.path,
                    c.text,
                    seed=seed * 100_003 + k,
                    language=lang,
                    generator=None if lang == "en" else "espeak_ng",
                    target_sr=VOICE_SR,
                )
            except Exception as exc:  # noqa: BLE001 - one failing twin must not stop the set
                print(f"audio recipe: twin of {c.id} failed: {exc}", file=sys.stderr)
                continue
            rel = Path("twins") / g.generator / f"{k:06d}.wav"
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            sf.write(out / rel, np.clip(np.asarray(g.data, np.float32), -1, 1), int(g.sample_rate), "PCM_16")
            recs.append(
                {
                    "index": k,
                    "file": rel.as_posix(),
                    "label": "synthetic",
                    "modality": "voice",
                    "generator": g.generator,
                    "source": c.id,
                    "split": c.split,
                    "language": lang,
                    "prompt": c.text,
                    "params": {"twin_of": c.id, "tts_seed": g.params.get("tts_seed")},
                }
            )
            k += 1
    return recs


def _all_clips_of(view: Path, out: Path, sources: tuple[str, ...], *, have: set[str]) -> list[dict[str, Any]]:
    """Real records for every clip of the (small) ``sources`` not sampled already (evaluation only)."""
    from generators.corpus import load_manifest

    recs = []
    for k, c in enumerate(c for c in load_manifest(view) if c.source in sources and c.id not in have):
        rel = Path("extra") / c.path
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(view / c.path, out / rel)
        recs.append(
            {
                "index": 2_000_000 + k,
                "file": rel.as_posix(),
                "label": "real",
                "modality": "voice",
                "generator": None,
                "source": c.id,
                "split": "test",
                "language": c.language,
                "licence": c.licence,
                "text": c.text,
            }
        )
    return recs


def _voice_clips(corpus: Path, out: Path, languages: tuple[str, ...], *, per_voice: int, seed: int) -> list[dict[str, Any]]:
    """Training records for ``per_voice`` seeded clips of every volunteer voice of ``languages``.

    Each voice (``<source>-<language>``, one corpus folder) is its own real-source family, so the
    out-of-source calibration folds hold out whole voices.
    """
    from generators.corpus import load_manifest

    unknown = set(languages) & set(VOLUNTEER_HELDOUT_LANGUAGES + VOLUNTEER_VALIDATION_LANGUAGES)
    if unknown:
        raise ValueError(f"held-out or validation volunteer languages cannot be trained on: {', '.join(sorted(unknown))}")
    if per_voice < 1:
        raise ValueError(f"per_voice must be >= 1, not {per_voice}")
    voices: dict[str, list[Any]] = {}
    for c in load_manifest(corpus):
        if c.source in VOLUNTEER_REAL and c.language in languages:
            voices.setdefault(f"{c.source}-{c.language}", []).append(c)
    missing = set(languages) - {v.split("-", 1)[1] for v in voices}
    if missing:
        raise ValueError(f"{corpus} has no volunteer clips of {', '.join(sorted(missing))}")
    recs = []
    for voice in sorted(voices):
        pool = sorted(voices[voice], key=lambda c: c.id)
        random.Random(f"extra-voices:{seed}:{voice}").shuffle(pool)
        for c in pool[:per_voice]:
            rel = Path("voices") / voice / Path(c.path).name
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(corpus / c.path, out / rel)
            recs.append({"index": 3_000_000 + len(recs), "file": rel.as_posix(), "label": "real", "modality": "voice",
                         "generator": None, "source": c.id, "corpus_source": voice, "split": "train",
                         "language": c.language, "licence": c.licence, "text": c.text})
    return recs


def _seconds(path: Path) -> float:
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (RuntimeError, OSError):  # soundfile raises RuntimeError-derived errors
        return 0.0
    return info.frames / info.samplerate if info.samplerate else 0.0


def _tag(rec: dict[str, Any]) -> dict[str, Any]:
    src = str(rec.get("source") or "")
    if rec.get("label") == "real":
        for prefix, codec in CODEC_HISTORY.items():
            if src.startswith(prefix):
                rec["codec_history"] = codec
    return rec


def make_audio_set(
    corpus: Path,
    out: Path,
    *,
    count: int,
    twins_per_language: int,
    seed: int,
    evaluation: bool = False,
    exclude_prompts: set[str] | None = None,
    volunteers: bool = False,
    extra_voices: tuple[str, ...] = (),
    per_voice: int = 8,
) -> Path:
    """A labelled voice dataset (``labels.jsonl``) for training or held-out evaluation.

    Args:
        corpus: Built corpus (audio sources incl. ``HELDOUT_REAL``).
        out: Dataset folder (``base/`` from generate_dataset, ``twins/``, merged ``labels.jsonl``).
        count: generate_dataset items (half real).
        twins_per_language: Language-matched TTS twins per language.
        seed: Seed (use another one for evaluation than for training).
        evaluation: Build from the test view (test split + held-out sources), all split ``test``.
        exclude_prompts: Drop synthetic items with these prompts (TTS sentences seen in training).
        volunteers: Train on the volunteer voices of the languages not in
            ``VOLUNTEER_HELDOUT_LANGUAGES`` too (not the shipped recipe; no effect with ``evaluation``).
            Give such a set its own ``out`` folder: ``generate_dataset`` finishes what it finds there.
        extra_voices: Volunteer languages whose voices are *added* to the training split,
            ``per_voice`` seeded clips per voice, on top of an otherwise unchanged set (the sampled
            items and twins stay what they were, so the original sources keep their share; unlike
            ``volunteers``, which lets them displace sampled clips). The shipped recipe passes
            ``VOLUNTEER_TRAINING_LANGUAGES`` (AUDIO_RECIPE).
        per_voice: Clips per volunteer voice with ``extra_voices``.
    """
    from generators.dataset import generate_dataset

    out.mkdir(parents=True, exist_ok=True)
    view = out / "corpus-view"

    def train_view(c: Any) -> bool:
        return in_train_view(c, volunteers=volunteers)

    corpus_view(corpus, view, in_eval_view if evaluation else train_view, split="test" if evaluation else None)
    generate_dataset(
        modality="voice",
        count=count,
        out=out / "base",
        seed=seed,
        watermark=False,
        c2pa=False,
        real_ratio=0.5,
        corpus=view,
        progress=False,
    )
    base = [
        json.loads(line) for line in (out / "base" / "labels.jsonl").read_text("utf-8").splitlines() if line
    ]
    for r in base:
        r["file"] = f"base/{r['file']}"
        if r.get("mask"):
            r["mask"] = f"base/{r['mask']}"
    twins = _twins(view, out, per_language=twins_per_language, seed=seed, index0=len(base) + 1_000_000)
    extra = _all_clips_of(view, out, SMALL_HELDOUT, have={r["source"] for r in base}) if evaluation else []
    if extra_voices and not evaluation:
        extra += _voice_clips(corpus, out, extra_voices, per_voice=per_voice, seed=seed)
    # Two fillets-nl files are empty Ogg streams (0 s); such items are dropped here, after
    # generation, so the sampling plan (and every other item) stays what it was.
    recs = [_tag(r) for r in base + twins + extra if _seconds(out / r["file"]) >= MIN_SECONDS]
    if exclude_prompts:
        recs = [r for r in recs if r["label"] == "real" or r.get("prompt") not in exclude_prompts]
    if evaluation:
        for r in recs:
            r["split"] = "test"
    return write_labels(out, recs)


def train_prompts(data: Path) -> set[str]:
    """TTS prompts of a training set's synthetic items (to keep them out of evaluation)."""
    recs = [json.loads(line) for line in (data / "labels.jsonl").read_text("utf-8").splitlines() if line]
    return {r["prompt"] for r in recs if r.get("label") != "real" and r.get("prompt")}


def _eval_synthetic(eval_set: Path, paired_with: str) -> list[dict[str, Any]]:
    """The synthetic records of a held-out set (``make_audio_set(evaluation=True)``) that an
    evaluation set pairs with ``paired_with``; ValueError when there is no set or none in it."""
    labels = eval_set / "labels.jsonl"
    if not labels.is_file():
        raise ValueError(f"{eval_set} has no labels.jsonl (make it with make_audio_set(..., evaluation=True))")
    syn = [r for r in (json.loads(x) for x in labels.read_text("utf-8").splitlines() if x.strip()) if r["label"] != "real"]
    if not syn:
        raise ValueError(f"{labels} has no synthetic clips to pair with {paired_with}")
    return syn


def make_phone_set(corpus: Path, eval_set: Path, out: Path, *, per_source: int = 120, seed: int = 1) -> Path:
    """Telephone-band evaluation set: unseen 8 kHz human voices vs synthetic speech on the same channel.

    Real: ``per_source`` clips (seeded sample, any split: none was trained on) of each
    ``PHONE_REAL`` voice, as shipped (8 kHz PCM or GSM decoded losslessly). Synthetic: every
    synthetic clip of ``eval_set`` (a held-out set from ``make_audio_set(evaluation=True)``),
    each put through the coding of the real voice it is paired with in turn (GSM for the two GSM
    voices, 8 kHz PCM for the other) and stored as 8 kHz FLAC like the decoded GSM clips: both
    classes reach the detector through the same channel and decoder.

    Args:
        corpus: Speech corpus holding the ``PHONE_REAL`` sources.
        eval_set: Held-out evaluation set whose synthetic clips are reused.
        out: Dataset folder (replaced).
        per_source: Real clips per telephone voice.
        seed: Sample seed.
    """
    import numpy as np
    import soundfile as sf

    from detector import media
    from detector.train.augment import codec_roundtrip
    from generators.corpus import load_manifest

    if per_source < 1:
        raise ValueError(f"per_source must be >= 1, not {per_source}")
    syn = _eval_synthetic(eval_set, "the phone voices")
    manifest = load_manifest(corpus)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rng = random.Random(f"phone:{seed}")
    recs: list[dict[str, Any]] = []
    codings: list[tuple[str, str]] = []  # (source, codec) each synthetic clip is paired with in turn
    for source in PHONE_REAL:
        clips = sorted((c for c in manifest if c.source == source), key=lambda c: c.id)
        if not clips:
            raise ValueError(f"{corpus} has no {source} clips: build the speech corpus with it")
        for c in rng.sample(clips, min(per_source, len(clips))):
            rel = Path("real") / source / Path(c.path).name
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(corpus / c.path, out / rel)
            recs.append(
                {"index": len(recs), "file": rel.as_posix(), "label": "real", "modality": "voice",
                 "generator": None, "source": c.id, "split": "test", "language": c.language,
                 "licence": c.licence, "channel": source}
            )
        # The corpus source says how the voice was coded; a user folder without it is plain 8 kHz PCM.
        codings.append((source, str(clips[0].meta.get("phone_codec", "pcm8k"))))
    for k, r in enumerate(syn):
        source, codec = codings[k % len(codings)]
        y, sr = media.load_audio(eval_set / r["file"])
        y8 = codec_roundtrip(np.asarray(y, np.float32), sr, codec, out_sr=8000)
        rel = Path("synthetic") / f"{k:05d}.flac"
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(out / rel, np.clip(y8, -1, 1), 8000, "PCM_16")
        recs.append({**r, "index": len(recs), "file": rel.as_posix(), "split": "test", "channel": f"{source} ({codec})"})
    return write_labels(out, recs)


VOICES_BITRATE_K = 96  # what the KDE volunteer Ogg files were encoded at (ffprobe: 44.1 kHz mono ~96 kbit/s)


def _encode_ogg(y: Any, sr: int, dest: Path, *, bitrate_k: int = VOICES_BITRATE_K, rate: int = 44100) -> None:
    """Write ``y`` as an Ogg Vorbis file at ``rate`` Hz, as the volunteer clips were shipped."""
    import subprocess
    import tempfile

    import numpy as np
    import soundfile as sf

    from detector.train.augment import _ffmpeg  # the project's ffmpeg lookup: a clear error when missing

    with tempfile.TemporaryDirectory() as td:
        wav = Path(td) / "x.wav"
        sf.write(wav, np.clip(np.asarray(y, np.float32), -1, 1), sr, "PCM_16")
        res = subprocess.run(
            [_ffmpeg(), "-nostdin", "-loglevel", "error", "-y", "-i", str(wav), "-ac", "1", "-ar", str(rate),
             "-c:a", "libvorbis", "-b:a", f"{bitrate_k}k", str(dest)],
            capture_output=True, timeout=120,
        )
    if res.returncode or not dest.is_file():
        raise ValueError(f"ffmpeg could not write {dest.name}: {res.stderr.decode(errors='replace')[-200:]}")


def make_voices_set(
    corpus: Path, eval_set: Path, out: Path, *, languages: tuple[str, ...] | None = None
) -> Path:
    """"New speakers" evaluation set: volunteer voices vs synthetic speech, one codec for both.

    Real: every clip of ``VOLUNTEER_REAL`` (of ``languages`` only, when given), as shipped. The
    shipped recipe trains on the voices of ``VOLUNTEER_TRAINING_LANGUAGES``: for voices it never
    heard pass ``VOLUNTEER_HELDOUT_LANGUAGES`` (test) or ``VOLUNTEER_VALIDATION_LANGUAGES``
    (recipe choices). Clips are kept as shipped (44.1 kHz Ogg Vorbis), each tagged
    ``corpus_source`` ``<source>-<language>`` so the report has one row per voice. Synthetic: every
    synthetic clip of ``eval_set`` (a held-out set from ``make_audio_set(evaluation=True)``), encoded the way the volunteer clips were (44.1 kHz Vorbis,
    ``VOICES_BITRATE_K``): both classes reach the detector as Ogg files through one decoder.

    Args:
        corpus: Speech corpus holding the volunteer sources.
        eval_set: Held-out evaluation set whose synthetic clips are reused.
        out: Dataset folder (replaced).
        languages: Volunteer languages to take (None: all).
    """
    from detector import media
    from generators.corpus import load_manifest

    syn = _eval_synthetic(eval_set, "the volunteer voices")
    real = sorted(
        (c for c in load_manifest(corpus)
         if c.source in VOLUNTEER_REAL and (languages is None or c.language in languages)),
        key=lambda c: c.id,
    )
    if not real:
        raise ValueError(f"{corpus} has no volunteer clips{' of ' + ', '.join(languages) if languages else ''}: "
                         f"build the speech corpus with {', '.join(VOLUNTEER_REAL)}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    recs: list[dict[str, Any]] = []
    for c in real:
        rel = Path("real") / c.source / c.language / Path(c.path).name
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / c.path, out / rel)
        recs.append({"index": len(recs), "file": rel.as_posix(), "label": "real", "modality": "voice",
                     "generator": None, "source": c.id, "corpus_source": f"{c.source}-{c.language}",
                     "split": "test", "language": c.language, "licence": c.licence,
                     "codec_history": "vorbis44k"})
    for k, r in enumerate(syn):
        y, sr = media.load_audio(eval_set / r["file"])
        rel = Path("synthetic") / f"{k:05d}.ogg"
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        _encode_ogg(y, sr, out / rel)
        recs.append({**r, "index": len(recs), "file": rel.as_posix(), "split": "test",
                     "channel": f"ogg vorbis 44.1 kHz {VOICES_BITRATE_K} kbit/s"})
    return write_labels(out, recs)
