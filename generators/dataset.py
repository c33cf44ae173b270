"""``provscan generate``: a labelled dataset of synthetic (and optionally real) media.

For each planned item ``generate_dataset`` runs a registered generator, writes the file (PNG or
JPEG image, 16-bit WAV voice, UTF-8 text), applies provscan's watermark *before* signing (so
the C2PA manifest covers the marked pixels and records the mark as a soft binding), signs it
with C2PA, and appends one line to ``labels.jsonl``. Real items, when asked for, are copied
from the corpus built by ``generators.corpus``.

Reproducibility: the plan (which generator, prompt, seed and split each index gets) is a pure
function of the options, and every generator is seeded per item, so the same options give the
same media. C2PA signatures embed a time and a random salt, so signed files differ between
runs: compare ``media_sha256`` (the bytes after watermarking, before signing), which
``labels.jsonl`` records for every item, never the signed file's ``sha256``.

Resuming: items whose ``labels.jsonl`` line exists and whose file still has the recorded
``sha256`` are skipped; everything else is (re)made. ``dataset.json`` records the options and
a resume with different options is refused instead of silently mixing two datasets.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import io
import json
import math
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from detector.settings import Settings
from generators.base import GENERATORS, Generated
from generators.corpus import CorpusError, CorpusItem, assign_splits, load_manifest, sha256_file
from generators.errors import GeneratorError

MODALITIES = ("text", "image", "voice")
_ALIASES = {"audio": "voice", "speech": "voice"}
WATERMARK_SCHEMES = {"image": "provscan-image", "voice": "provscan-audio", "text": "provscan-text"}
# Corpus modality that holds real counterparts of each generated modality.
CORPUS_MODALITY = {"image": "image", "voice": "audio", "text": "text"}
DIGITAL_SOURCE = {
    "synthetic": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
    "partial": "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia",
}
LABELS = "labels.jsonl"
CONFIG = "dataset.json"
# c2pa has no text/plain handler: a .txt can hold neither an embedded manifest nor a hash-bound
# sidecar. The same text goes into a signed .docx twin (detector/docx.py), which carries it.
TEXT_C2PA_NOTE = (
    "text/plain cannot carry a C2PA manifest; the signed copy is c2pa_file (.docx, same text)"
)

_FALLBACK_IMAGE_PROMPTS = (
    "a quiet lake at dawn with mist over the water",
    "a red brick house on a hill under a cloudy sky",
    "a snowy mountain ridge at sunset",
    "a field of sunflowers and a wooden fence",
    "a city street at night after rain",
    "a sandy beach with palm trees and waves",
    "a forest path in autumn with fallen leaves",
    "a desert road with distant mesas at noon",
)
_FALLBACK_SPEECH = (
    "Please remember to close the window before you leave the room.",
    "The train to the coast departs from platform four at half past nine.",
    "We planted tomatoes and beans in the garden last weekend.",
    "Could you tell me where the nearest pharmacy is?",
    "The meeting has been moved to Thursday afternoon.",
    "My grandmother still writes letters by hand every month.",
)
_FALLBACK_TEXT = (
    "The history of the city",
    "In the early morning",
    "Scientists have long wondered",
    "The most important thing to remember",
    "When the committee met",
    "A good recipe for bread",
)


VOICE_SR = 16000


class DatasetError(GeneratorError):
    """The dataset cannot be made as asked (bad options, missing scheme, mismatching resume)."""


@dataclass(frozen=True)
class DatasetSummary:
    """What ``generate_dataset`` did.

    Attributes:
        out: The dataset folder.
        modality: "text", "image" or "voice".
        count: Items planned.
        made: Items made in this run.
        resumed: Items found finished and skipped.
        failed: ``(index, generator, error)`` for items that could not be made.
        per_generator: Generator name (or "real") -> items present.
        per_label: synthetic / partial / real -> items present.
        per_split: train / val / test -> items present.
        elapsed_s: Wall time.
    """

    out: Path
    modality: str
    count: int
    made: int
    resumed: int
    failed: tuple[tuple[int, str, str], ...]
    per_generator: dict[str, int]
    per_label: dict[str, int]
    per_split: dict[str, int]
    elapsed_s: float


@dataclass(frozen=True)
class _Plan:
    index: int
    kind: str  # "synthetic" (anything a generator makes) or "real"
    generator: str | None
    seed: int
    prompt: str | None
    split: str
    source: str | None = None
    source_path: str | None = None
    real: CorpusItem | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def item_seed(seed: int, index: int) -> int:
    """The seed of item ``index``: stable across runs, machines and Python versions."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{index}".encode()).digest()[:4], "big") & 0x7FFFFFFF


def generator_code(name: str) -> str:
    """A 3-character id of a generator for watermark payloads (which hold 8 bytes)."""
    return hashlib.sha1(name.encode()).hexdigest()[:3]


def watermark_payload(generator: str, index: int) -> str:
    """``<3-char generator code><5 hex digits of the index>``: 8 ASCII bytes."""
    return f"{generator_code(generator)}{index % 0x100000:05x}"


def _prompts(modality: str, n: int, seed: int) -> list[str]:
    """Ask the text package for prompts/scripts; fall back to a small built-in list."""
    fn_name = {"image": "image_prompts", "voice": "speech_scripts", "text": "text_prompts"}[modality]
    try:
        mod = importlib.import_module("generators.text.prompts")
        fn = getattr(mod, fn_name, None)
        if fn is not None:
            got = [str(p) for p in fn(n, seed=seed)]
            if got:
                return got
    except ImportError:
        pass
    base = {"image": _FALLBACK_IMAGE_PROMPTS, "voice": _FALLBACK_SPEECH, "text": _FALLBACK_TEXT}[modality]
    rng = random.Random(f"prompts:{seed}")
    order = list(base)
    rng.shuffle(order)
    return [order[i % len(order)] for i in range(n)]


def _register_families(modality: str) -> None:
    """Import the family package so its generators register; a broken family must not stop others.

    A package whose ``__init__`` does not import its modules (yet) gets them imported one by one.
    """
    pkg_name = f"generators.{modality}"
    try:
        pkg = importlib.import_module(pkg_name)
    except Exception as exc:  # noqa: BLE001 - a family being written by someone else may not import yet
        print(f"generate: {pkg_name} did not import ({type(exc).__name__}: {exc})", file=sys.stderr)
        return
    if GENERATORS.list(modality=modality):
        return
    import pkgutil

    for info in pkgutil.iter_modules(getattr(pkg, "__path__", [])):
        if info.name.startswith("_") or info.name.startswith("train"):
            continue
        try:
            importlib.import_module(f"{pkg_name}.{info.name}")
        except Exception as exc:  # noqa: BLE001
            print(
                f"generate: {pkg_name}.{info.name} did not import ({type(exc).__name__}: {exc})",
                file=sys.stderr,
            )


def _accepts(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _explicit(fn: Callable[..., Any], name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _create(name: str, modality: str, settings: Settings) -> Any:
    """Instantiate a generator; text families take the watermark key they sample with."""
    if modality == "text":
        try:
            return GENERATORS.create(name, watermark_key=settings.watermark_key)
        except TypeError:
            pass  # a family without a key option
    return GENERATORS.create(name)


def _watermarker(modality: str, key: str) -> Any:
    from detector.watermark.base import WATERMARKS

    scheme = WATERMARK_SCHEMES[modality]
    short = {"image": "image", "voice": "audio", "text": "text"}[modality]
    try:
        importlib.import_module(f"detector.watermark.{short}")
    except ImportError:
        pass
    if scheme not in WATERMARKS:
        raise DatasetError(
            f"watermark scheme {scheme!r} is not registered (detector/watermark/{short}.py missing or "
            "broken); generate without watermarks (watermark=False / --no-watermark) or fix the scheme"
        )
    return WATERMARKS.create(scheme, key=key)


def _encode(
    gen: Generated, modality: str, *, image_format: str, rng: random.Random
) -> tuple[bytes, str, dict]:
    """The file bytes, extension and encoding facts of a generated item."""
    if modality == "text":
        return str(gen.data).encode("utf-8"), "txt", {}
    if modality == "image":
        from PIL import Image

        arr = np.asarray(gen.data)
        if arr.dtype != np.uint8:
            arr = np.clip(arr, 0, 255).astype(np.uint8)
        im = Image.fromarray(arr[..., :3] if arr.ndim == 3 else arr)
        buf = io.BytesIO()
        fmt = image_format if image_format != "mixed" else rng.choice(["png", "jpeg"])
        if fmt == "jpeg":
            # Real photos are mostly JPEG: matching the codec keeps detectors off a PNG shortcut.
            quality = rng.randint(80, 95)
            im.convert("RGB").save(buf, "JPEG", quality=quality)
            return buf.getvalue(), "jpg", {"format": "jpeg", "quality": quality}
        im.save(buf, "PNG")
        return buf.getvalue(), "png", {"format": "png"}
    import soundfile as sf

    sr = int(gen.sample_rate or 16000)
    audio = np.asarray(gen.data, dtype=np.float32)
    buf = io.BytesIO()
    sf.write(buf, np.clip(audio, -1.0, 1.0), sr, subtype="PCM_16", format="WAV")
    return buf.getvalue(), "wav", {"format": "wav", "sample_rate": sr}


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist() if obj.size <= 64 else f"<array {obj.shape}>"
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _read_labels(path: Path) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    if not path.exists():
        return out
    for line in path.read_text("utf-8").splitlines():
        try:
            rec = json.loads(line)
            out[int(rec["index"])] = rec
        except (ValueError, KeyError, TypeError):
            continue  # a line cut by a crash: the item is simply made again
    return out


def load_labels(out: Path) -> list[dict[str, Any]]:
    """The records of ``out/labels.jsonl``, sorted by index."""
    return [rec for _, rec in sorted(_read_labels(Path(out) / LABELS).items())]


def write_labels(out: Path, records: Sequence[dict[str, Any]]) -> Path:
    """Write ``out/labels.jsonl`` (replacing it), one record per line in the dataset builder's own
    format (sorted keys, UTF-8): for sets assembled from other sets (worker/*_recipe.py)."""
    with open(Path(out) / LABELS, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    return Path(out)


def _plan(
    *,
    modality: str,
    count: int,
    seed: int,
    names: list[str],
    needs_source: dict[str, bool],
    real_ratio: float,
    corpus_items: list[CorpusItem],
    corpus_dir: Path,
    min_source_s: float = 0.0,
) -> list[_Plan]:
    n_real = int(round(count * real_ratio))
    if n_real and not corpus_items:
        raise DatasetError(
            f"real_ratio={real_ratio} needs a corpus with {CORPUS_MODALITY[modality]} items "
            "(build one with `provscan corpus build`, pass corpus=...)"
        )
    # Real items are spread evenly over the indices rather than bunched at the end, so a
    # dataset cut short (or resumed with the same count) stays balanced.
    real_idx = {
        i for i in range(count) if math.floor((i + 1) * n_real / count) > math.floor(i * n_real / count)
    }
    reals = sorted(corpus_items, key=lambda c: c.id)
    random.Random(f"real:{seed}").shuffle(reals)
    # A vocoder's output is as long as its source: a watermarked set leaves out sources too short to
    # carry the mark (the phone voices' sub-second letters), rather than make items that lack it.
    sources = [
        c
        for c in sorted(corpus_items, key=lambda c: c.id)
        if c.modality == "audio" and (c.duration_s is None or c.duration_s >= min_source_s)
    ]
    random.Random(f"source:{seed}").shuffle(sources)
    n_syn = count - len(real_idx)
    n_prompts = max(1, math.ceil(n_syn / max(1, len(names))))
    prompts = _prompts(modality, n_prompts, seed)
    # Each prompt is rendered by every generator in turn (same-content twins), and a prompt's
    # items share one split, so a test prompt was never seen in training under any generator.
    prompt_ids = {p: "p" + hashlib.sha1(p.encode()).hexdigest()[:10] for p in prompts}
    split_of = assign_splits({"prompts": list(prompt_ids.values())}, seed=seed)
    plans: list[_Plan] = []
    k = r = s = 0
    for i in range(count):
        if i in real_idx:
            item = reals[r % len(reals)]
            r += 1
            plans.append(
                _Plan(i, "real", None, item_seed(seed, i), None, item.split, source=item.id, real=item)
            )
            continue
        name = names[k % len(names)]
        prompt = prompts[(k // len(names)) % len(prompts)]
        k += 1
        if needs_source.get(name) and sources:
            clip = sources[s % len(sources)]
            s += 1
            plans.append(
                _Plan(
                    i,
                    "synthetic",
                    name,
                    item_seed(seed, i),
                    clip.text or prompt,
                    clip.split,
                    source=clip.id,
                    source_path=str(corpus_dir / clip.path),
                )
            )
            continue
        plans.append(
            _Plan(
                i,
                "synthetic",
                name,
                item_seed(seed, i),
                prompt,
                split_of[prompt_ids[prompt]],
                source=prompt_ids[prompt],
            )
        )
    return plans


def generate_dataset(
    *,
    modality: str,
    count: int,
    out: Path,
    seed: int = 0,
    generators: list[str] | None = None,
    watermark: bool = True,
    c2pa: bool = True,
    real_ratio: float = 0.0,
    corpus: Path | None = None,
    settings: Settings | None = None,
    progress: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
    image_format: str = "png",
) -> DatasetSummary:
    """Make (or finish) a labelled dataset in ``out``.

    Args:
        modality: "text", "image" or "voice" ("audio" is accepted for voice).
        count: Items in the dataset, real ones included.
        out: Dataset folder (created); holds the files, ``labels.jsonl``, ``dataset.json``
            and the dataset card ``README.md``.
        seed: Master seed; item ``i`` is generated with ``item_seed(seed, i)``.
        generators: Registered generator names; None = every registered one of the modality
            that can be created on this machine. Items go round-robin over them.
        watermark: Embed the provscan watermark (images/voice after generation, text while
            sampling, through the generator's ``watermark=True`` option).
        c2pa: Sign each item with a C2PA manifest (text: a signed .docx twin holding the same text).
        real_ratio: Fraction of items copied from the real corpus (label "real").
        corpus: Corpus folder (default ``<data_dir>/corpus``), needed when ``real_ratio > 0``;
            voice generators that re-synthesise a real clip also take their clips from it.
        settings: Instance settings (watermark key, signing dir); default from the environment.
        progress: tqdm bar on stderr.
        on_progress: Called as ``on_progress(done, total)`` after every item (made or skipped).
        image_format: "png", "jpeg" or "mixed" (seeded per item).

    Returns:
        A ``DatasetSummary``.

    Raises:
        DatasetError: Bad options, no usable generator, unregistered watermark scheme, a
            resume with different options, or every item failed.
    """
    start = time.monotonic()
    modality = _ALIASES.get(modality, modality)
    if modality not in MODALITIES:
        raise DatasetError(f"modality must be one of {MODALITIES}, not {modality!r}")
    if count < 1:
        raise DatasetError("count must be at least 1")
    if not 0.0 <= real_ratio <= 1.0:
        raise DatasetError("real_ratio must be between 0 and 1")
    if image_format not in {"png", "jpeg", "mixed"}:
        raise DatasetError("image_format must be png, jpeg or mixed")
    settings = settings or Settings.from_env()
    out = Path(out).expanduser().resolve()

    _register_families(modality)
    explicit = generators is not None
    names = sorted(set(generators)) if generators is not None else GENERATORS.list(modality=modality)
    if real_ratio < 1.0 and not names:
        raise DatasetError(f"no {modality} generator is registered")
    instances: dict[str, Any] = {}
    dropped: dict[str, str] = {}
    for name in names:
        if name not in GENERATORS:
            raise DatasetError(f"unknown generator {name!r} (known: {', '.join(GENERATORS.list())})")
        if GENERATORS.tags(name).get("modality") not in (modality, None):
            raise DatasetError(
                f"generator {name!r} makes {GENERATORS.tags(name).get('modality')}, not {modality}"
            )
        try:
            instances[name] = _create(name, modality, settings)
        except Exception as exc:  # noqa: BLE001 - missing tools/weights: drop the family, say why
            if explicit:
                raise DatasetError(f"generator {name!r} cannot run here: {exc}") from exc
            dropped[name] = f"{type(exc).__name__}: {exc}"
            print(f"generate: skipping {name}: {dropped[name]}", file=sys.stderr)
    names = [n for n in names if n in instances]
    if real_ratio < 1.0 and not names:
        raise DatasetError(f"no {modality} generator can run here: {dropped}")
    needs_source = {n: bool(GENERATORS.tags(n).get("needs_source")) for n in names}

    corpus_items: list[CorpusItem] = []
    corpus_dir = Path(corpus) if corpus is not None else settings.data_dir / "corpus"
    if real_ratio > 0 or (any(needs_source.values()) and (corpus_dir / "manifest.jsonl").exists()):
        try:
            corpus_items = [c for c in load_manifest(corpus_dir) if c.modality == CORPUS_MODALITY[modality]]
        except CorpusError as exc:
            raise DatasetError(f"real_ratio={real_ratio} needs a corpus: {exc}") from None

    wm = None
    if watermark and modality != "text":
        wm = _watermarker(modality, settings.watermark_key)
    text_wm_supported = (
        {n: _explicit(instances[n].generate, "watermark") for n in names} if modality == "text" else {}
    )
    if modality == "text" and watermark and not any(text_wm_supported.values()) and names:
        raise DatasetError(
            "none of the chosen text generators can watermark while sampling; pass watermark=False"
        )
    do_sign = c2pa
    if do_sign:
        from detector.provenance.keys import ensure_signing

        ensure_signing(settings.signing_dir)

    config = {
        "modality": modality,
        "count": count,
        "seed": seed,
        "generators": names,
        "watermark": watermark,
        "c2pa": c2pa,
        "real_ratio": real_ratio,
        "image_format": image_format,
        "corpus": str(corpus_dir.resolve()) if corpus_items else None,
    }
    out.mkdir(parents=True, exist_ok=True)
    cfg_path = out / CONFIG
    if cfg_path.exists():
        old = json.loads(cfg_path.read_text("utf-8"))
        diff = {k: (old.get(k), v) for k, v in config.items() if old.get(k) != v}
        if diff:
            raise DatasetError(
                f"{out} holds a dataset made with other options {diff}; use a new folder or the same options"
            )
    else:
        cfg_path.write_text(
            json.dumps(
                {**config, "generator_codes": {n: generator_code(n) for n in names}, "dropped": dropped},
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )

    plans = _plan(
        modality=modality,
        count=count,
        seed=seed,
        names=names,
        needs_source=needs_source,
        real_ratio=real_ratio,
        corpus_items=corpus_items,
        corpus_dir=corpus_dir,
        min_source_s=_min_marked_seconds(modality) if wm is not None else 0.0,
    )
    fallback_clips: tuple[Path, ...] = ()
    if any(p.kind == "synthetic" and needs_source.get(p.generator or "") and p.source_path is None for p in plans):
        from generators.voice.common import default_clip_roots, find_real_clips

        fallback_clips = tuple(find_real_clips(default_clip_roots(settings.data_dir)))
    labels_path = out / LABELS
    done = _read_labels(labels_path)
    made = resumed = 0
    failed: list[tuple[int, str, str]] = []
    records: dict[int, dict[str, Any]] = {}
    bar = tqdm(total=count, desc=f"generate {modality}", unit="item", disable=not progress, file=sys.stderr)
    with open(labels_path, "a", encoding="utf-8") as labels_fh:
        for n_done, plan in enumerate(plans, 1):
            rec = done.get(plan.index)
            if rec is not None and _finished(out, rec):
                records[plan.index] = rec
                resumed += 1
            else:
                try:
                    if plan.kind == "real":
                        rec = _make_real(plan, out=out, corpus_dir=corpus_dir, modality=modality)
                    else:
                        rec = _make_synthetic(
                            plan,
                            gen=instances[plan.generator],
                            out=out,
                            modality=modality,
                            wm=wm,
                            watermark=watermark,
                            text_wm=text_wm_supported.get(plan.generator, False),
                            sign=do_sign,
                            settings=settings,
                            image_format=image_format,
                            source_clips=fallback_clips if needs_source.get(plan.generator or "") else None,
                        )
                except Exception as exc:  # noqa: BLE001 - one bad item must not lose the others
                    failed.append((plan.index, plan.generator or "real", f"{type(exc).__name__}: {exc}"))
                    tqdm.write(
                        f"generate: item {plan.index} ({plan.generator}) failed: {exc}", file=sys.stderr
                    )
                else:
                    labels_fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
                    labels_fh.flush()
                    records[plan.index] = rec
                    made += 1
            bar.update(1)
            if on_progress is not None:
                on_progress(n_done, count)
    bar.close()

    # Rewrite compactly (one line per index, in order): appends from resumed runs are merged.
    tmp = labels_path.with_suffix(".jsonl.part")
    with open(tmp, "w", encoding="utf-8") as fh:
        for idx in sorted(records):
            fh.write(json.dumps(records[idx], ensure_ascii=False, sort_keys=True) + "\n")
    tmp.replace(labels_path)

    recs = [records[i] for i in sorted(records)]
    summary = DatasetSummary(
        out=out,
        modality=modality,
        count=count,
        made=made,
        resumed=resumed,
        failed=tuple(failed),
        per_generator=dict(sorted(Counter(r["generator"] or "real" for r in recs).items())),
        per_label=dict(sorted(Counter(r["label"] for r in recs).items())),
        per_split=dict(sorted(Counter(r["split"] for r in recs).items())),
        elapsed_s=round(time.monotonic() - start, 2),
    )
    (out / "README.md").write_text(_card(summary, config, recs, dropped), encoding="utf-8")
    if not recs:
        raise DatasetError(f"every item failed; first error: {failed[0][2] if failed else 'none'}")
    return summary


def _atomic_write(path: Path, data: bytes) -> None:
    # An interrupted run must not leave a truncated file that a resumed run would keep.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with open(fd, "wb") as fh:
            fh.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _finished(out: Path, rec: dict[str, Any]) -> bool:
    path = out / rec.get("file", "")
    if not path.is_file() or rec.get("sha256") is None:
        return False
    if rec.get("c2pa_file") and not (out / rec["c2pa_file"]).is_file():
        return False
    if path.stat().st_size != rec.get("bytes"):
        return False
    return sha256_file(path) == rec["sha256"]


def _make_real(plan: _Plan, *, out: Path, corpus_dir: Path, modality: str) -> dict[str, Any]:
    item = plan.real
    assert item is not None
    src = corpus_dir / item.path
    ext = Path(item.path).suffix
    rel = Path("real") / f"{plan.index:06d}{ext}"
    (out / rel).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, out / rel)
    sha = sha256_file(out / rel)
    return {
        "index": plan.index,
        "file": rel.as_posix(),
        "sha256": sha,
        "media_sha256": sha,
        "bytes": (out / rel).stat().st_size,
        "label": "real",
        "modality": modality,
        "generator": None,
        "version": None,
        "seed": plan.seed,
        "params": {},
        "prompt": None,
        "text": item.text,
        "source": item.id,
        "split": plan.split,
        "licence": item.licence,
        "language": item.language,
        "watermark": None,
        "c2pa": False,
        "mask": None,
    }


# Audio mark strengths tried in turn: the default keeps long clips at ~20 dB SNR; short clips
# (under ~2 s of speech) only carry a detectable mark at a higher strength (~13 dB SNR at 3 dB).
AUDIO_STRENGTHS_DB = (1.5, 2.25, 3.0)


def _min_marked_seconds(modality: str) -> float:
    """Shortest output that can carry our mark (0 where any length can)."""
    if modality != "voice":
        return 0.0
    from detector.watermark.audio import MIN_SECONDS

    return MIN_SECONDS


def _embed_voice_verified(key: str, y: np.ndarray, sr: int, payload: str) -> tuple[np.ndarray, int, float]:
    """Embed the audio mark and check it on the 16-bit signal we will write; strengthen if missed.

    Raises:
        GeneratorError: no strength gives a detectable mark (e.g. a clip under a second): the item
            fails with this reason rather than enter the set labelled as marked without the mark.
    """
    from detector.watermark.base import WATERMARKS

    for strength in AUDIO_STRENGTHS_DB:
        scheme = WATERMARKS.create(WATERMARK_SCHEMES["voice"], key=key, strength_db=strength)
        marked, out_sr = scheme.embed((y, sr), payload=payload)
        pcm16 = (np.round(np.clip(marked, -1.0, 1.0) * 32767) / 32767).astype(np.float32)
        result = scheme.detect((pcm16, out_sr))
        if result.detected:
            return marked, out_sr, strength
    why = result.evidence.get("reason") or (
        f"p={result.p_value:.2g} at {strength} dB" if result.p_value is not None else f"missed at {strength} dB"
    )
    raise GeneratorError(
        f"our audio watermark is not detectable on this {len(y) / sr:.2f} s output ({why}); "
        "the item is left out rather than labelled as marked"
    )


def _make_synthetic(
    plan: _Plan,
    *,
    gen: Any,
    out: Path,
    modality: str,
    wm: Any,
    watermark: bool,
    text_wm: bool,
    sign: bool,
    settings: Settings,
    image_format: str,
    source_clips: Sequence[Path] | None = None,
) -> dict[str, Any]:
    name = plan.generator
    assert name is not None
    params: dict[str, Any] = {}
    if plan.source_path is not None:
        params["source_path"] = plan.source_path
    elif source_clips is not None:
        # No corpus clip for a family that needs one: pick among this instance's clips (the
        # family's own fallback would read the environment's data dir, another instance's).
        from generators.voice.common import pick_source_clip

        params["source_path"] = str(pick_source_clip(name, plan.seed, source_clips))
    if modality == "text" and text_wm:
        params["watermark"] = watermark
    if plan.source_path is not None and not _accepts(gen.generate, "source_path"):
        params.pop("source_path")
    # One sample rate for every voice family, so the rate is not a per-family shortcut. Real items
    # are copied as they are (Ogg/WAV): detector training must decode both classes through the same
    # resample + codec path (detector/train does).
    if modality == "voice" and _accepts(gen.generate, "target_sr"):
        params["target_sr"] = VOICE_SR
    g: Generated = gen.generate(plan.prompt or "", seed=plan.seed, **params)
    rng = random.Random(f"encode:{plan.seed}")
    data = g.data
    sample_rate = g.sample_rate
    wm_rec: dict[str, Any] | None = None
    if wm is not None:
        payload = watermark_payload(name, plan.index)
        if modality == "image":
            data = wm.embed(np.asarray(data), payload=payload)
        else:
            data, sample_rate, strength = _embed_voice_verified(
                settings.watermark_key, np.asarray(data, dtype=np.float32), int(g.sample_rate or 16000), payload
            )
        wm_rec = {
            "scheme": wm.name if hasattr(wm, "name") else WATERMARK_SCHEMES[modality],
            "payload": payload,
        }
        if modality == "voice":
            wm_rec["strength_db"] = strength
    elif modality == "text" and watermark and text_wm:
        wm_rec = {"scheme": WATERMARK_SCHEMES["text"], "payload": None}
    g2 = Generated(**{**g.__dict__, "data": data, "sample_rate": sample_rate})
    blob, ext, enc = _encode(g2, modality, image_format=image_format, rng=rng)
    media_sha = hashlib.sha256(blob).hexdigest()
    sub = Path(g.label) / name
    rel = sub / f"{plan.index:06d}.{ext}"
    dst = out / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    c2pa_ok: bool | str = False
    c2pa_rel = None
    if sign and modality == "text":
        from detector.docx import docx_bytes
        from detector.provenance.sign import sign_bytes

        dst.write_bytes(blob)
        c2pa_rel = rel.with_suffix(".docx")
        signed = sign_bytes(
            docx_bytes(str(g2.data)),
            signing_dir=settings.signing_dir,
            title=c2pa_rel.name,
            digital_source_type=DIGITAL_SOURCE.get(g.label, DIGITAL_SOURCE["synthetic"]),
            generator=name,
            generator_version=str(g.version),
        )
        _atomic_write(out / c2pa_rel, signed)
        c2pa_ok = True
    elif sign:
        from detector.provenance.sign import sign_file

        fd, tmp_name = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=f".{ext}")
        try:
            with open(fd, "wb") as fh:
                fh.write(blob)
            sign_file(
                tmp_name,
                dst,
                signing_dir=settings.signing_dir,
                digital_source_type=DIGITAL_SOURCE.get(g.label, DIGITAL_SOURCE["synthetic"]),
                generator=name,
                generator_version=str(g.version),
                soft_binding={"alg": f"com.provscan.watermark.{modality}", "value": wm_rec["payload"]}
                if wm_rec and wm_rec.get("payload")
                else None,
            )
        finally:
            Path(tmp_name).unlink(missing_ok=True)
        c2pa_ok = True
    else:
        dst.write_bytes(blob)
    mask_rel = None
    if g.mask is not None:
        mask = np.asarray(g.mask).astype(bool)
        if modality == "image":
            from PIL import Image

            mask_rel = rel.with_suffix(".mask.png")
            Image.fromarray(mask.astype(np.uint8) * 255).save(out / mask_rel)
        else:
            mask_rel = rel.with_suffix(".mask.npy")
            np.save(out / mask_rel, mask)
    rec = {
        "index": plan.index,
        "file": rel.as_posix(),
        "sha256": sha256_file(dst),
        "media_sha256": media_sha,
        "bytes": dst.stat().st_size,
        "label": g.label,
        "modality": modality,
        "generator": name,
        "version": str(g.version),
        "seed": plan.seed,
        "params": _json_safe({**g.params, **enc}),
        "prompt": g.prompt if g.prompt is not None else plan.prompt,
        "source": g.source or plan.source,
        "split": plan.split,
        "licence": None,
        "watermark": wm_rec,
        "c2pa": c2pa_ok,
        "mask": mask_rel.as_posix() if mask_rel else None,
    }
    if modality == "text":
        rec["c2pa_file"] = c2pa_rel.as_posix() if c2pa_rel else None
        rec["c2pa_note"] = TEXT_C2PA_NOTE
    return rec


def _card(
    s: DatasetSummary, config: dict[str, Any], recs: Sequence[dict[str, Any]], dropped: dict[str, str]
) -> str:
    by: dict[str, Counter[str]] = defaultdict(Counter)
    for r in recs:
        by[r["generator"] or "real"][r["label"]] += 1
        by[r["generator"] or "real"][r["split"]] += 1
    labels = sorted({r["label"] for r in recs})
    cols = labels + ["train", "val", "test"]
    lines = [
        f"# provscan {s.modality} dataset",
        "",
        "Made by `provscan generate` (generators/dataset.py).",
        "",
        "| option | value |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in config.items()],
        "",
        f"Items: {len(recs)} of {s.count} planned; made this run {s.made}, resumed {s.resumed}, failed {len(s.failed)}.",
        "",
        "| generator | payload code | " + " | ".join(cols) + " | total |",
        "|---|---|" + "---:|" * (len(cols) + 1),
    ]
    for gen in sorted(by):
        c = by[gen]
        code = generator_code(gen) if gen != "real" else ""
        total = sum(c[lbl] for lbl in labels)
        lines.append(f"| {gen} | {code} | " + " | ".join(str(c[k]) for k in cols) + f" | {total} |")
    lines += [
        "",
        "- `labels.jsonl`: one line per item (file, sha256, media_sha256, label, generator, version, seed,",
        "  params, prompt, source, split, licence, watermark, c2pa, mask).",
        "- Splits are by prompt (every generator renders each prompt; a prompt's items share a split),",
        "  by the real clip for re-synthesis twins, and by the corpus split for real items.",
        "- Reproducible: same options -> same `media_sha256` (bytes after watermarking, before C2PA).",
        "  Signed files (`sha256`) differ between runs because signatures embed time and salt.",
        "- Watermark payload = 3-char generator code + 5 hex digits of the item index.",
    ]
    if dropped:
        lines += ["", "Generators unavailable on this machine:", *[f"- {k}: {v}" for k, v in dropped.items()]]
    if s.failed:
        lines += ["", f"Failed items ({len(s.failed)}):", *[f"- {i} {g}: {e}" for i, g, e in s.failed[:20]]]
    return "\n".join(lines) + "\n"


__all__ = [
    "DatasetError",
    "DatasetSummary",
    "generate_dataset",
    "generator_code",
    "item_seed",
    "load_labels",
    "watermark_payload",
]
