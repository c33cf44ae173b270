"""The real-media corpus builder: cheap mode (wheel sources, no apt), parsers and splits."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generators.corpus import CorpusError, assign_splits, build_corpus, load_manifest
from generators.corpus_sources import fillets_subtitles, read_dictd, split_passages
from generators.qrc import QrcBundle, QrcFormatError

CHEAP = ["skimage", "matplotlib", "pydoc"]


@pytest.fixture(scope="module")
def cheap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("corpus")
    build_corpus(dest, sources=CHEAP, use_apt=False, seed=0, progress=False)
    return dest


def test_cheap_manifest_fields_and_hashes(cheap: Path) -> None:
    items = load_manifest(cheap)
    assert {i.source for i in items} == set(CHEAP)
    assert {i.modality for i in items} == {"image", "text"}
    for item in items:
        path = cheap / item.path
        assert path.is_file()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == item.sha256
        assert item.bytes == path.stat().st_size
        assert item.licence and item.package and item.origin and item.group
        assert item.split in {"train", "val", "test"}
        if item.modality == "image":
            with Image.open(path) as im:
                assert (item.width, item.height) == im.size
        else:
            words = len(path.read_text("utf-8").split())
            assert item.language == "en" and words == item.meta["words"]
            assert words <= 600  # 400 + a merged tail at most
    hopper = next(i for i in items if i.source == "matplotlib")
    assert hopper.licence == "public-domain" and hopper.width > 0
    lines = (cheap / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == len(items) and all(json.loads(line)["id"] for line in lines)
    readme = (cheap / "README.md").read_text()
    assert "| skimage |" in readme and "| PSF-2.0 |" in readme and "| train |" not in readme.split("###")[0]


def test_splits_are_by_group_and_cover_every_split(cheap: Path) -> None:
    items = load_manifest(cheap)
    split_of: dict[str, set[str]] = {}
    for item in items:
        split_of.setdefault(item.group, set()).add(item.split)
    assert all(len(s) == 1 for s in split_of.values())
    pydoc = [i for i in items if i.source == "pydoc"]
    assert {i.split for i in pydoc} == {"train", "val", "test"}
    # Several passages of one topic exist and share the group (hence the split).
    assert len({i.group for i in pydoc}) < len(pydoc)


def test_build_is_deterministic_and_seed_changes_splits(cheap: Path, tmp_path: Path) -> None:
    again = build_corpus(tmp_path / "a", sources=CHEAP, use_apt=False, seed=0, progress=False)
    first = [(i.id, i.sha256, i.split) for i in load_manifest(cheap)]
    assert [(i.id, i.sha256, i.split) for i in again.items] == first
    other = build_corpus(tmp_path / "b", sources=CHEAP, use_apt=False, seed=1, progress=False)
    assert [i.split for i in other.items] != [s for _, _, s in first]


def test_without_apt_skips_debian_sources_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    m = build_corpus(
        tmp_path / "c", sources=["matplotlib", "opencv", "fortunes"], use_apt=False, progress=False
    )
    assert [i.source for i in m.items] == ["matplotlib"]
    assert set(m.skipped) == {"opencv", "fortunes"}
    assert "apt disabled" in capsys.readouterr().err
    assert "apt disabled" in (tmp_path / "c" / "README.md").read_text()


def test_user_folder_is_added_with_speaker_groups(tmp_path: Path, rng: np.random.Generator) -> None:
    import soundfile as sf

    mine = tmp_path / "mine"
    for spk in ("alice", "bob"):
        (mine / spk).mkdir(parents=True)
        for k in range(2):
            sf.write(mine / spk / f"c{k}.wav", rng.normal(0, 0.1, 8000).astype(np.float32), 16000)
        (mine / spk / "c0.txt").write_text("hello there")
    Image.fromarray(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)).save(mine / "photo.png")
    (mine / "provscan-corpus.json").write_text('{"licence": "CC-BY-4.0", "language": "en"}')
    m = build_corpus(tmp_path / "d", sources=[], add_real=[mine], progress=False)
    audio = [i for i in m.items if i.modality == "audio"]
    assert len(audio) == 4 and all(i.licence == "CC-BY-4.0" and i.language == "en" for i in audio)
    assert {i.group for i in audio} == {"user-mine:alice", "user-mine:bob"}
    assert {i.duration_s for i in audio} == {0.5}
    assert sorted(i.text for i in audio if i.text) == ["hello there", "hello there"]
    img = next(i for i in m.items if i.modality == "image")
    assert (img.width, img.height) == (30, 20)


def test_unknown_source_and_missing_manifest_raise(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="unknown corpus source"):
        build_corpus(tmp_path, sources=["nope"], progress=False)
    with pytest.raises(CorpusError, match="no corpus manifest"):
        load_manifest(tmp_path / "empty")


def test_assign_splits_is_stable_and_fills_small_sources() -> None:
    groups = {"a": [f"g{i}" for i in range(20)], "b": ["x", "y", "z"], "c": ["only"]}
    s1 = assign_splits(groups, seed=3)
    assert s1 == assign_splits({k: list(reversed(v)) for k, v in groups.items()}, seed=3)
    assert sorted(s1[g] for g in groups["b"]) == ["test", "train", "val"]
    assert s1["only"] == "train"
    counts = [s1[g] for g in groups["a"]].count("train")
    assert counts == 16


def test_split_passages_packs_units_within_bounds() -> None:
    units = [" ".join(["w"] * n) for n in (50, 120, 90, 30, 700, 10)]
    out = split_passages(units, min_words=200, max_words=400)
    sizes = [len(p.split()) for p in out]
    assert sum(sizes) == sum((50, 120, 90, 30, 700, 10))
    assert all(s <= 400 for s in sizes[:-1]) and max(sizes) <= 600
    assert all(s >= 100 for s in sizes)


def _rcc(files: dict[str, bytes], *, compress: set[str]) -> bytes:
    """A minimal version-2 rcc with one directory level, built the way Qt's rcc lays it out."""
    names = b""
    name_off: dict[str, int] = {}
    for n in ["dir", *files]:
        name_off[n] = len(names)
        enc = n.encode("utf-16-be")
        names += struct.pack(">HI", len(n), 0) + enc
    data = b""
    data_off: dict[str, int] = {}
    for n, b in files.items():
        payload = struct.pack(">I", len(b)) + zlib.compress(b) if n in compress else b
        data_off[n] = len(data)
        data += struct.pack(">I", len(payload)) + payload
    node = 22
    tree = struct.pack(">IHII", 0, 2, 1, 1) + b"\0" * 8  # root -> 1 child at index 1
    tree += struct.pack(">IHII", name_off["dir"], 2, len(files), 2) + b"\0" * 8
    for n in files:
        flags = 1 if n in compress else 0
        tree += struct.pack(">IHHHI", name_off[n], flags, 0, 0, data_off[n]) + b"\0" * 8
    assert len(tree) == node * (2 + len(files))
    header = 20
    return (
        b"qres"
        + struct.pack(">IIII", 2, header + len(data) + len(names), header, header + len(data))
        + data
        + names
        + tree
    )


def test_qrc_reads_plain_and_zlib_members() -> None:
    blob = _rcc({"a.txt": b"hello", "b.bin": bytes(range(256)) * 4}, compress={"b.bin"})
    bundle = QrcBundle(blob)
    got = bundle.files()
    assert got == {"dir/a.txt": b"hello", "dir/b.bin": bytes(range(256)) * 4}
    assert {e.path: e.compression for e in bundle.entries()} == {"dir/a.txt": "none", "dir/b.bin": "zlib"}
    with pytest.raises(QrcFormatError, match="magic"):
        QrcBundle(b"nope" + blob[4:])
    with pytest.raises(QrcFormatError):
        QrcBundle(blob[:40]).files()


def test_dictd_and_fillets_parsers(tmp_path: Path) -> None:
    import gzip

    body = b"foo\n  A word.\nbar\n  Another word.\n"
    (tmp_path / "d.dict.dz").write_bytes(gzip.compress(body))
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    (tmp_path / "d.index").write_text(
        f"00-database-info\tA\tB\nbar\t{b64[14]}\t{b64[20]}\nfoo\tA\t{b64[14]}\n"
    )
    assert dict(read_dictd(tmp_path / "d.index", tmp_path / "d.dict.dz")) == {
        "foo": "foo\n  A word.\n",
        "bar": "bar\n  Another word.\n",
    }
    lvl = tmp_path / "script" / "barrel"
    lvl.mkdir(parents=True)
    (lvl / "dialogs_nl.lua").write_text(
        'dialogId("bar-m-a", "font_small", "Look \\"here\\".")\ndialogStr("Kijk \\"hier\\".")\n\n'
        'dialogId("bar-x-suck0", "", "")\n'
    )
    subs = fillets_subtitles(tmp_path / "script", "nl")
    assert subs == {
        ("barrel", "bar-m-a"): {"text": 'Kijk "hier".', "text_en": 'Look "here".', "speaker": "small"}
    }


def test_concurrent_build_into_same_folder_is_refused(tmp_path: Path) -> None:
    import fcntl

    dest = tmp_path / "locked"
    dest.mkdir()
    with open(dest / ".build.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(CorpusError, match="another corpus build"):
            build_corpus(dest, sources=["matplotlib"], progress=False)
    assert build_corpus(dest, sources=["matplotlib"], progress=False).items


def test_asterisk_source_decodes_g722_prompts_with_transcripts(tmp_path: Path) -> None:
    """An unpacked asterisk package laid out like Debian's: G.722 prompts (made by ffmpeg here),
    the transcript file of the codec-less package; tones, silences and very short clips are dropped."""
    import gzip
    import shutil
    import subprocess

    import soundfile as sf

    from generators.corpus_sources import SOURCES, SourceContext, asterisk_transcripts

    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    cache = tmp_path / "cache"
    voice = cache / "x" / "asterisk-core-sounds-es-g722" / "usr/share/asterisk/sounds/es_MX_f_Allison"
    doc = cache / "x" / "asterisk-core-sounds-es" / "usr/share/doc/asterisk-core-sounds-es"
    for d in (voice / "digits", voice / "silence", doc):
        d.mkdir(parents=True)
    for root in (voice.parents[4], doc.parents[3]):
        (root / ".provscan-unpacked").write_text("test\n")
    sr = 16000
    t = np.arange(int(1.5 * sr)) / sr
    wav = tmp_path / "tone.wav"
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), sr)
    for rel, secs in (
        ("vm-deleted", 1.5),
        ("digits/7", 1.5),
        ("beep", 1.5),
        ("silence/1", 1.5),
        ("auth", 0.2),
    ):
        subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-i",
                str(wav),
                "-t",
                str(secs),
                "-c:a",
                "g722",
                "-f",
                "g722",
                str(voice / f"{rel}.g722"),
            ],
            check=True,
        )
    text = (
        "; Core Asterisk Sounds in Spanish\n\nvm-deleted: Mensaje borrado.\ndigits/7: siete\nbeep: [beep]\n"
    )
    (doc / "core-sounds-es.txt.gz").write_bytes(gzip.compress(text.encode()))
    assert asterisk_transcripts(text) == {
        "vm-deleted": "Mensaje borrado.",
        "digits/7": "siete",
        "beep": "[beep]",
    }

    items = list(SOURCES["asterisk-es"].fn(SourceContext(cache=cache, use_apt=False)))
    assert sorted(i.name for i in items) == ["digits-7.flac", "vm-deleted.flac"]
    vm = next(i for i in items if i.name == "vm-deleted.flac")
    assert vm.text == "Mensaje borrado." and vm.language == "es" and vm.licence == "CC-BY-SA-3.0"
    assert vm.group == "asterisk-es:vm" and vm.meta["codec_history"].startswith("g722")
    out = tmp_path / "vm.flac"
    out.write_bytes(vm.data or b"")
    info = sf.info(str(out))
    assert info.samplerate == 16000 and abs(info.frames / info.samplerate - 1.5) < 0.05

    # A second build reads the decoded clips from the cache (keyed by the G.722 bytes): same
    # bytes out, and no ffmpeg needed any more.
    cached = sorted((cache / "decoded-g722").glob("*.flac"))
    assert cached  # (both test clips hold the same bytes, so one entry)
    import shutil as _shutil

    which = _shutil.which
    try:
        _shutil.which = lambda *_a, **_k: None  # decoding now would raise "ffmpeg not found"
        again = list(SOURCES["asterisk-es"].fn(SourceContext(cache=cache, use_apt=False)))
    finally:
        _shutil.which = which
    assert {i.name: i.data for i in again} == {i.name: i.data for i in items}


def test_phone_sources_keep_8_khz_prompts_and_decode_gsm(tmp_path: Path) -> None:
    """The telephone-band voices: 8 kHz WAV prompts are kept as shipped, raw GSM 06.10 prompts are
    decoded to 8 kHz FLAC; silences, beeps and clips under 0.5 s are dropped; one group per prompt family."""
    import shutil
    import subprocess

    import soundfile as sf

    from generators.corpus_sources import SOURCES, SourceContext

    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    cache = tmp_path / "cache"
    it = cache / "x" / "asterisk-prompt-it-menardi-wav" / "usr/share/asterisk/sounds/it_IT_f_Menardi"
    fr = cache / "x" / "asterisk-prompt-fr-armelle" / "usr/share/asterisk/sounds/fr"
    for d in (it / "digits", it / "silence", fr / "digits"):
        d.mkdir(parents=True)
    for root in (it.parents[4], fr.parents[4]):
        (root / ".provscan-unpacked").write_text("test\n")
    sr = 8000
    t = np.arange(int(1.2 * sr)) / sr
    tone = (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    for rel in ("vm-deleted", "digits/7", "silence/1", "beep"):
        sf.write(it / f"{rel}.wav", tone, sr, "PCM_16")
    sf.write(it / "auth.wav", tone[:2000], sr, "PCM_16")  # 0.25 s: too short
    wav = tmp_path / "tone.wav"
    sf.write(wav, tone, sr, "PCM_16")
    for rel in ("vm-deleted", "digits/7"):
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(wav), "-c:a", "libgsm", "-f", "gsm",
             str(fr / f"{rel}.gsm")],
            check=True,
        )

    items = list(SOURCES["phone-it"].fn(SourceContext(cache=cache, use_apt=False)))
    assert sorted(i.name for i in items) == ["digits-7.wav", "vm-deleted.wav"]
    vm = next(i for i in items if i.name == "vm-deleted.wav")
    assert vm.src == it / "vm-deleted.wav" and vm.data is None  # kept as shipped
    assert vm.language == "it" and vm.group == "phone-it:vm" and "8 kHz" in vm.meta["codec_history"]
    assert vm.meta["phone_codec"] == "pcm8k"

    items = list(SOURCES["phone-fr"].fn(SourceContext(cache=cache, use_apt=False)))
    assert sorted(i.name for i in items) == ["digits-7.flac", "vm-deleted.flac"]
    assert {i.meta["phone_codec"] for i in items} == {"gsm"}
    out = tmp_path / "vm.flac"
    out.write_bytes(next(i for i in items if i.name == "vm-deleted.flac").data or b"")
    info = sf.info(str(out))
    assert info.samplerate == 8000 and abs(info.frames / info.samplerate - 1.2) < 0.05
    decoded, _ = sf.read(str(out), dtype="float32")
    assert np.corrcoef(decoded[400:8000], tone[400:8000])[0, 1] > 0.9  # the tone survived GSM


def test_parallel_decode_keeps_order_and_reports_failures_in_place(tmp_path: Path) -> None:
    """``_decode_all`` decodes on all cores but must hand back each clip's own bytes in input order,
    a failed clip as its error in its own place (the caller logs and skips it), and two prompts
    with the same bytes decoded at once must not trip over each other's cache temp file."""
    import shutil

    import soundfile as sf

    from generators.corpus_sources import SourceContext, _decode_all, _decode_to_flac

    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg not installed")
    sr = 16000
    t = np.arange(sr) / sr
    paths = []
    for name, hz in (("a", 300), ("b", 900)):
        p = tmp_path / f"{name}.wav"
        sf.write(p, (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32), sr)
        paths.append(p)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wave file at all" * 10)
    twin = tmp_path / "b-copy.wav"
    twin.write_bytes(paths[1].read_bytes())
    order = [paths[0], bad, paths[1], twin]
    cache = tmp_path / "cache"
    out = list(_decode_all(SourceContext(cache=cache, use_apt=False), order, "wav", sr))

    assert len(out) == 4 and isinstance(out[1], ValueError)
    assert out[0] == _decode_to_flac(paths[0], "wav", sr) and out[2] == _decode_to_flac(paths[1], "wav", sr)
    assert out[0] != out[2] and out[3] == out[2]
    assert not list(cache.rglob("*.part"))  # every temp file was renamed into the cache


def test_kde_volunteer_sources_keep_each_language_folder_as_one_group(tmp_path: Path) -> None:
    """ktuberling words and klettres letters: Ogg clips kept as shipped, one group per language
    folder (its volunteer(s)), language codes from the folder names, clips under 0.5 s dropped."""
    import soundfile as sf

    from generators.corpus_sources import KDE_VOICES, SOURCES, SourceContext, kde_language

    cache = tmp_path / "cache"
    sr = 44100
    t = np.arange(int(0.8 * sr)) / sr
    k = 0

    def clip(path: Path, seconds: float = 0.8) -> None:
        nonlocal k
        k += 1  # distinct bytes per file
        path.parent.mkdir(parents=True, exist_ok=True)
        y = 0.3 * np.sin(2 * np.pi * (200 + 20 * k) * t[: int(seconds * sr)])
        sf.write(path, y.astype(np.float32), sr, format="OGG", subtype="VORBIS")

    tub = cache / "x" / "ktuberling-data" / KDE_VOICES["ktuberling"]["root"]
    let = cache / "x" / "klettres-data" / KDE_VOICES["klettres"]["root"]
    for root in (tub.parents[3], let.parents[2]):
        root.mkdir(parents=True, exist_ok=True)
        (root / ".provscan-unpacked").write_text("test\n")
    clip(tub / "pt_BR" / "nose.ogg")
    clip(tub / "pt_BR" / "hat.ogg")
    clip(tub / "sr@latin" / "eye.ogg")
    clip(tub / "pt_BR" / "s.ogg", 0.3)  # too short
    (tub / "pt_BR.soundtheme").write_text("<language/>")  # not a clip
    clip(let / "da" / "alpha" / "a-15.ogg")
    clip(let / "da" / "syllab" / "ba.ogg")
    (let / "pics").mkdir()

    words = list(SOURCES["ktuberling"].fn(SourceContext(cache=cache, use_apt=False)))
    assert sorted(i.name for i in words) == ["pt_BR-hat.ogg", "pt_BR-nose.ogg", "sr@latin-eye.ogg"]
    nose = next(i for i in words if i.name == "pt_BR-nose.ogg")
    assert nose.src == tub / "pt_BR" / "nose.ogg" and nose.data is None  # as shipped
    assert nose.language == "pt-BR" and nose.group == "ktuberling:pt_BR" and nose.text is None
    assert nose.licence == "GPL-2.0-or-later" and nose.meta["clip"] == "nose"
    assert {i.group for i in words} == {"ktuberling:pt_BR", "ktuberling:sr@latin"}
    letters = list(SOURCES["klettres"].fn(SourceContext(cache=cache, use_apt=False)))
    assert sorted(i.name for i in letters) == ["da-alpha-a-15.ogg", "da-syllab-ba.ogg"]
    assert {i.group for i in letters} == {"klettres:da"} and {i.language for i in letters} == {"da"}
    assert kde_language("sr@ijekavianlatin") == "sr-ijekavianlatin"


def _fake_package(cache: Path, package: str) -> Path:
    root = cache / "x" / package
    root.mkdir(parents=True, exist_ok=True)
    (root / ".provscan-unpacked").write_text("test\n")
    return root


def _photo(path: Path, k: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(k)  # distinct bytes per file
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(path, quality=90)


def test_new_camera_sources_are_opt_in_with_licences_from_the_package(tmp_path: Path) -> None:
    """lomiri / MATE wallpapers and palapeli's puzzles: only the photos picked by eye, each with the
    licence and author its package states; never part of a default corpus (training sets draw them in on purpose only); a photo whose
    licence the package does not state stops the source instead of entering the corpus unlicensed."""
    from generators.corpus_sources import (
        DEFAULT_SOURCES,
        NEW_CAMERA_PHOTOS,
        NEW_CAMERA_SOURCES,
        SOURCES,
        SourceContext,
    )

    assert set(NEW_CAMERA_SOURCES) == {"lomiri-wallpapers", "mate-backgrounds", "palapeli"}
    assert not set(NEW_CAMERA_SOURCES) & set(DEFAULT_SOURCES)
    assert all(SOURCES[n].modality == "image" and not SOURCES[n].default for n in NEW_CAMERA_SOURCES)
    cache = tmp_path / "cache"
    lom = _fake_package(cache, "lomiri-wallpapers-16.04")
    _photo(lom / "usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg", 1)
    _photo(lom / "usr/share/backgrounds/Fossa_by_Jasper_Roks.jpg", 2)  # artwork: not listed, not taken
    (lom / "usr/share/doc/lomiri-wallpapers-16.04").mkdir(parents=True)
    (lom / "usr/share/doc/lomiri-wallpapers-16.04/copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: 16.04/aitzgorri_by_Aitzol_Berasategi.jpg\nCopyright: Aitzol Berasategi, 2018\nLicense: CC-BY-4.0\n\n"
        "Files: 16.04/Bridge_by_Sander_Klootwijk.jpg\nCopyright: 2018. Sander Klootwijk\nLicense: CC-BY-SA-4.0\n"
        " Attribution-ShareAlike 4.0 International\n")
    new = _fake_package(cache, "lomiri-wallpapers-20.04")
    _photo(new / "usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg", 3)
    (new / "usr/share/doc/lomiri-wallpapers-20.04").mkdir(parents=True)
    (new / "usr/share/doc/lomiri-wallpapers-20.04/copyright").write_text(
        "Files: 20.04/Kleiber_by_Lukas_Baubkus.jpg\nCopyright: 2021, Lukas Baubkus\nLicense: CC-BY-SA-3.0\n")
    ctx = SourceContext(cache=cache, use_apt=False, log=lambda msg: None)
    got = {i.name: i for i in SOURCES["lomiri-wallpapers"].fn(ctx)}
    assert sorted(got) == ["Bridge_by_Sander_Klootwijk.jpg", "Kleiber_by_Lukas_Baubkus.jpg"]
    bridge = got["Bridge_by_Sander_Klootwijk.jpg"]
    assert bridge.licence == "CC-BY-SA-4.0" and bridge.meta["author"] == "2018. Sander Klootwijk"
    assert bridge.group == "lomiri-wallpapers:Bridge_by_Sander_Klootwijk" and bridge.package == "lomiri-wallpapers-16.04"
    assert got["Kleiber_by_Lukas_Baubkus.jpg"].licence == "CC-BY-SA-3.0"
    assert "Fossa_by_Jasper_Roks" not in str(NEW_CAMERA_PHOTOS)

    mate = _fake_package(cache, "mate-backgrounds")
    _photo(mate / "usr/share/backgrounds/mate/nature/Storm.jpg", 4)
    (mate / "usr/share/doc/mate-backgrounds").mkdir(parents=True)
    (mate / "usr/share/doc/mate-backgrounds/copyright").write_text(
        "Files: nature/Dune.jpg\nCopyright: 2007, Marco Cogoni\nLicense: GPL-2+\n")  # no stanza for Storm.jpg
    with pytest.raises(Exception, match="names no licence for Storm.jpg"):
        list(SOURCES["mate-backgrounds"].fn(ctx))

    pal = _fake_package(cache, "palapeli-data") / "usr/share/palapeli/collection"
    _photo(pal / "citrus-fruits.jpg", 5)
    (pal / "citrus-fruits.desktop").write_text(
        "[Desktop Entry]\nName=Citrus Fruits\nName[de]=Zitrusfrüchte\n"
        "X-KDE-PluginInfo-Author=US Department of Agriculture\nX-KDE-PluginInfo-License=Public Domain\n")
    (fruit,) = SOURCES["palapeli"].fn(ctx)
    assert fruit.licence == "public-domain" and fruit.meta["author"] == "US Department of Agriculture"
    assert fruit.group == "palapeli:citrus-fruits"
