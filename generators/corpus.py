"""Build the real-media corpus: human-made photos, speech, text and video from what the machine has.

``build_corpus`` gathers the sources listed in ``generators.corpus_sources`` (scikit-image and
matplotlib wheel files, Python's pydoc topics, and Debian packages fetched with ``apt-get
download`` + ``dpkg -x``) plus any user folders, copies every file under ``dest``, and writes:

* ``manifest.jsonl`` — one JSON object per item (see ``CorpusItem``);
* ``README.md`` — counts per source, licence, modality and split, and what was skipped and why.

Splits (train/val/test, 80/10/10) are assigned per *group* — a photo (and its crops or second
view), a game room of speech, a source document of text — with a seeded shuffle inside each
source, so the same inputs and seed always give the same split and no group straddles two.
Without apt the builder still runs on the wheel sources and user folders, and says so.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import random
import shutil
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from generators.corpus_sources import (
    DEFAULT_SOURCES,
    SOURCES,
    WHEEL_SOURCES,
    RawItem,
    SourceContext,
    SourceUnavailableError,
    env_cache_dir,
    user_folder,
)
from generators.errors import GeneratorError

DEFAULT_DEST = Path("data/corpus")
MANIFEST = "manifest.jsonl"
SPLITS = ("train", "val", "test")
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
# The folders build_corpus owns inside dest; stale files there are removed on rebuild.
MODALITY_DIRS = ("image", "audio", "text", "video")


class CorpusError(GeneratorError):
    """The corpus cannot be built or read (bad dest, unknown source, corrupt manifest)."""


@dataclass(frozen=True)
class CorpusItem:
    """One real item of the corpus (one line of ``manifest.jsonl``).

    Attributes:
        id: Stable identifier, ``<source>/<name>``.
        path: File path relative to the corpus folder.
        sha256: Hex digest of the file.
        licence: Licence of the file (SPDX-like, or "unknown (user-supplied)").
        source: Corpus source name (``skimage``, ``fillets-cs``, ``user-<folder>``...).
        package: Debian package, wheel (``name==version``) or folder it came from.
        modality: "image", "audio", "text" or "video".
        split: "train", "val" or "test".
        group: The unit kept within one split (photo, game room, document).
        origin: Path inside the package / URL / member of a resource bundle.
        bytes: File size.
        language: Language of speech or text, when known.
        width: Pixels (image, video).
        height: Pixels (image, video).
        duration_s: Seconds (audio, video).
        text: Transcript of speech when known (subtitle), or None. Text items keep their passage
            in the file only, to keep the manifest small.
        meta: Source-specific facts (speaker, author, url, translation_en, words, frames, fps...).
    """

    id: str
    path: str
    sha256: str
    licence: str
    source: str
    package: str
    modality: str
    split: str
    group: str
    origin: str
    bytes: int
    language: str | None = None
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    text: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CorpusManifest:
    """What ``build_corpus`` made.

    Attributes:
        dest: The corpus folder.
        items: Every item, in manifest order.
        sources: Sources that contributed at least one item.
        skipped: Source name -> why it was not used (apt missing, package not found...).
        apt: True when apt sources were attempted and apt-get was available.
        seed: Split seed.
        elapsed_s: Wall time of the build.
    """

    dest: Path
    items: tuple[CorpusItem, ...]
    sources: tuple[str, ...]
    skipped: dict[str, str]
    apt: bool
    seed: int
    elapsed_s: float

    def counts(self, key: str) -> dict[str, int]:
        """Number of items per value of a ``CorpusItem`` attribute, e.g. ``counts("split")``."""
        return dict(sorted(Counter(str(getattr(i, key)) for i in self.items).items()))


def _probe(path: Path, modality: str) -> dict[str, Any]:
    """Cheap size/duration facts; a file that will not decode is reported, not fatal."""
    out: dict[str, Any] = {}
    try:
        if modality == "image":
            from PIL import Image

            with Image.open(path) as im:  # reads the header only
                out["width"], out["height"] = im.size
        elif modality == "audio":
            import soundfile as sf

            info = sf.info(str(path))
            out["duration_s"] = round(info.frames / info.samplerate, 3)
            out["meta"] = {"sample_rate": info.samplerate, "channels": info.channels, "format": info.format}
        elif modality == "video":
            import cv2

            cap = cv2.VideoCapture(str(path))
            try:
                fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
                frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
                out["width"] = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) or None
                out["height"] = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) or None
                out["duration_s"] = round(frames / fps, 3) if fps else None
                out["meta"] = {"fps": round(fps, 3), "frames": frames}
            finally:
                cap.release()
    except Exception as exc:  # noqa: BLE001 - any decoder failure just means "no probe facts"
        out["meta"] = {"probe_error": f"{type(exc).__name__}: {exc}"[:200]}
    return out


def assign_splits(
    groups: dict[str, Sequence[str]],
    *,
    seed: int = 0,
    fractions: tuple[float, float, float] = SPLIT_FRACTIONS,
) -> dict[str, str]:
    """Assign each group of each source to a split, deterministically.

    Args:
        groups: Source name -> the group keys of that source (any order; duplicates ignored).
        seed: Shuffle seed; the same seed and groups always give the same assignment.
        fractions: Train/val/test shares of each source's groups.

    Returns:
        Group key -> "train" | "val" | "test". A source with 3+ groups gets at least one
        group in val and one in test, so every split sees every source where possible.
    """
    out: dict[str, str] = {}
    for source in sorted(groups):
        keys = sorted(set(groups[source]))
        rng = random.Random(f"{seed}:{source}")  # str seeds hash stably (sha512), unlike hash()
        rng.shuffle(keys)
        n = len(keys)
        n_val = round(n * fractions[1])
        n_test = round(n * fractions[2])
        if n >= 3:
            n_val, n_test = max(n_val, 1), max(n_test, 1)
        elif n == 2:
            n_val, n_test = 0, 1
        else:
            n_val = n_test = 0
        for i, key in enumerate(keys):
            out[key] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    return out


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write(raw: RawItem, target: Path) -> tuple[str, int]:
    """Copy or write the item; skip rewriting identical bytes so rebuilds are cheap."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if raw.data is not None:
        digest = _sha256_bytes(raw.data)
        if not (target.exists() and target.stat().st_size == len(raw.data) and sha256_file(target) == digest):
            target.write_bytes(raw.data)
        return digest, len(raw.data)
    assert raw.src is not None
    digest = sha256_file(raw.src)
    size = raw.src.stat().st_size
    if not (target.exists() and target.stat().st_size == size and sha256_file(target) == digest):
        tmp = target.with_suffix(target.suffix + ".part")
        with open(raw.src, "rb") as fi, open(tmp, "wb") as fo:
            while chunk := fi.read(1 << 20):
                fo.write(chunk)
        tmp.replace(target)
    return digest, size


def build_corpus(
    dest: Path = DEFAULT_DEST,
    *,
    add_real: Iterable[Path] = (),
    sources: list[str] | None = None,
    use_apt: bool = True,
    seed: int = 0,
    progress: bool = True,
    cache_dir: Path | None = None,
) -> CorpusManifest:
    """Gather real media into ``dest`` and write ``manifest.jsonl`` and ``README.md``.

    Args:
        dest: Corpus folder (created). Never commit it; ``./data`` is git-ignored.
        add_real: Extra folders of the user's own real media (recursive; see
            ``corpus_sources.user_folder`` for the optional ``provscan-corpus.json``).
        sources: Source names to use (see ``generators.corpus_sources.SOURCES``); None = every
            default source (``DEFAULT_SOURCES``: all but the opt-in ones, which are
            built only when named).
            ``["skimage", "matplotlib", "pydoc"]`` needs no apt and runs in seconds.
        use_apt: Allow ``apt-get download`` of Debian packages (cached .debs are used anyway).
        seed: Split seed.
        progress: Show tqdm bars on stderr.
        cache_dir: Where .debs are downloaded and unpacked (default ``$PROVSCAN_CORPUS_CACHE`` or
            ``<dest>/.cache``); reused between builds.

    Returns:
        The manifest (also written to ``dest/manifest.jsonl``).

    Raises:
        CorpusError: Unknown source name, or nothing at all could be gathered.
    """
    start = time.monotonic()
    dest = Path(dest).expanduser().resolve()
    names = list(DEFAULT_SOURCES) if sources is None else list(sources)
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        raise CorpusError(f"unknown corpus source(s) {unknown} (known: {', '.join(SOURCES)})")
    dest.mkdir(parents=True, exist_ok=True)
    cache = Path(cache_dir or env_cache_dir() or dest / ".cache").expanduser().resolve()
    # Two builds into one folder would unpack into and prune each other's files: serialise them.
    lock = open(dest / ".build.lock", "w")  # noqa: SIM115 - held for the whole build
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise CorpusError(f"another corpus build is running in {dest}") from None
    try:
        return _build(dest, cache, names, add_real, use_apt, seed, progress, start)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


def _build(
    dest: Path,
    cache: Path,
    names: list[str],
    add_real: Iterable[Path],
    use_apt: bool,
    seed: int,
    progress: bool,
    start: float,
) -> CorpusManifest:

    def log(msg: str) -> None:
        if progress:
            tqdm.write(msg, file=sys.stderr)
        else:
            print(msg, file=sys.stderr)

    ctx = SourceContext(cache=cache, use_apt=use_apt, log=log)
    skipped: dict[str, str] = {}
    apt_names = [n for n in names if SOURCES[n].needs_apt]
    have_debs = any((cache / "debs").glob("*.deb"))
    apt_ok = use_apt and bool(shutil.which("apt-get")) and bool(shutil.which("dpkg"))
    if apt_names and not apt_ok and not have_debs:
        reason = "apt disabled" if not use_apt else "apt-get/dpkg not found"
        log(
            f"corpus: {reason}: using wheel sources ({', '.join(WHEEL_SOURCES)}) and user folders only; "
            f"skipped {', '.join(apt_names)}"
        )
        for n in apt_names:
            skipped[n] = reason
        names = [n for n in names if n not in apt_names]

    raws: list[tuple[str, RawItem]] = []
    jobs: list[tuple[str, Any]] = [(n, SOURCES[n].fn) for n in names]
    jobs += [(f"folder:{p}", p) for p in add_real]
    for label, job in tqdm(jobs, desc="corpus sources", unit="src", disable=not progress, file=sys.stderr):
        try:
            got = list(user_folder(Path(job))) if isinstance(job, (str, Path)) else list(job(ctx))
        except (SourceUnavailableError, OSError, ValueError) as exc:
            skipped[label] = str(exc)
            log(f"corpus: skipped {label}: {exc}")
            continue
        if not got:
            skipped[label] = "no files found"
            continue
        # A user folder's source name is the prefix of its groups ("user-<folder>").
        raws += [(r.group.split(":")[0] if label.startswith("folder:") else label, r) for r in got]

    if not raws:
        raise CorpusError(f"no real media gathered; skipped: {skipped}")

    by_source: dict[str, list[str]] = defaultdict(list)
    for source, raw in raws:
        by_source[source].append(raw.group)
    split_of = assign_splits(by_source, seed=seed)

    items: list[CorpusItem] = []
    seen_sha: dict[str, str] = {}
    seen_ids: set[str] = set()
    duplicates = 0
    written: set[Path] = set()
    for source, raw in tqdm(raws, desc="corpus items", unit="file", disable=not progress, file=sys.stderr):
        item_id = f"{source}/{raw.name}"
        if item_id in seen_ids:
            stem, dot, ext = raw.name.rpartition(".")
            k = 2
            while f"{source}/{stem}-{k}{dot}{ext}" in seen_ids:
                k += 1
            raw = RawItem(**{**raw.__dict__, "name": f"{stem}-{k}{dot}{ext}"})
            item_id = f"{source}/{raw.name}"
        rel = Path(raw.modality) / source / raw.name
        digest = _sha256_bytes(raw.data) if raw.data is not None else sha256_file(raw.src)  # type: ignore[arg-type]
        if digest in seen_sha:  # same bytes reused by another activity/source: keep the first
            duplicates += 1
            continue
        seen_sha[digest] = item_id
        seen_ids.add(item_id)
        sha, size = _write(raw, dest / rel)
        written.add((dest / rel).resolve())
        probe = _probe(dest / rel, raw.modality) if raw.modality != "text" else {}
        meta = {**raw.meta, **probe.pop("meta", {})}
        items.append(
            CorpusItem(
                id=item_id,
                path=rel.as_posix(),
                sha256=sha,
                licence=raw.licence,
                source=source,
                package=raw.package,
                modality=raw.modality,
                split=split_of[raw.group],
                group=raw.group,
                origin=raw.origin,
                bytes=size,
                language=raw.language,
                text=raw.text if raw.modality != "text" else None,
                meta=meta,
                **probe,
            )
        )

    # Remove files of an earlier build that this build did not produce (only in folders we own).
    for sub in MODALITY_DIRS:
        for f in (dest / sub).rglob("*") if (dest / sub).exists() else ():
            if f.is_file() and f.resolve() not in written:
                f.unlink()

    manifest = CorpusManifest(
        dest=dest,
        items=tuple(items),
        sources=tuple(sorted({i.source for i in items})),
        skipped=skipped,
        apt=apt_ok,
        seed=seed,
        elapsed_s=round(time.monotonic() - start, 1),
    )
    tmp = dest / (MANIFEST + ".part")
    with open(tmp, "w", encoding="utf-8") as fh:
        for item in items:
            fh.write(json.dumps(item.to_json(), ensure_ascii=False, sort_keys=True) + "\n")
    tmp.replace(dest / MANIFEST)
    (dest / "README.md").write_text(_readme(manifest, duplicates), encoding="utf-8")
    log(
        f"corpus: {len(items)} items from {len(manifest.sources)} sources in {manifest.elapsed_s} s "
        f"({', '.join(f'{k}={v}' for k, v in manifest.counts('modality').items())}); "
        f"{len(skipped)} skipped -> {dest}"
    )
    return manifest


def load_manifest(dest: Path = DEFAULT_DEST) -> list[CorpusItem]:
    """Read ``dest/manifest.jsonl`` back into ``CorpusItem``s.

    Raises:
        CorpusError: No manifest there, or a line is not a valid item.
    """
    path = Path(dest) / MANIFEST
    if not path.exists():
        raise CorpusError(f"no corpus manifest at {path} (build it with `provscan corpus build`)")
    out = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(CorpusItem(**json.loads(line)))
        except (ValueError, TypeError) as exc:
            raise CorpusError(f"{path}:{n}: bad manifest line: {exc}") from None
    return out


def _table(title: str, counts: dict[str, Counter[str]]) -> list[str]:
    splits = list(SPLITS)
    lines = [
        f"### {title}",
        "",
        f"| {title.split()[-1]} | " + " | ".join(splits) + " | total |",
        "|---|" + "---:|" * (len(splits) + 1),
    ]
    for key in sorted(counts):
        c = counts[key]
        lines.append(f"| {key} | " + " | ".join(str(c[s]) for s in splits) + f" | {sum(c.values())} |")
    return lines + [""]


def _readme(m: CorpusManifest, duplicates: int) -> str:
    per: dict[str, dict[str, Counter[str]]] = {
        k: defaultdict(Counter) for k in ("source", "licence", "modality")
    }
    dur: Counter[str] = Counter()
    words: Counter[str] = Counter()
    for i in m.items:
        for k in per:
            per[k][getattr(i, k)][i.split] += 1
        if i.duration_s and i.modality == "audio":
            dur[f"{i.source} ({i.language})"] += i.duration_s
        if i.modality == "text":
            words[i.source] += int(i.meta.get("words", 0))
    lines = [
        "# provscan real-media corpus",
        "",
        "Built by `provscan corpus build` (generators/corpus.py). Real, human-made media with the",
        "licence and origin of every file in `manifest.jsonl`. **Do not commit or redistribute**",
        "without honouring each file's licence.",
        "",
        f"- items: {len(m.items)}; seed: {m.seed}; apt available: {m.apt}; build time: {m.elapsed_s} s",
        f"- identical files dropped (same bytes from two places): {duplicates}",
        "- splits are by group (photo / game room / source document), never by file or crop",
        "",
    ]
    if m.skipped:
        lines += ["**Skipped sources:**", ""] + [f"- {k}: {v}" for k, v in sorted(m.skipped.items())] + [""]
    lines += _table("Items per modality", per["modality"])
    lines += _table("Items per source", per["source"])
    lines += _table("Items per licence", per["licence"])
    if dur:
        lines += ["### Speech duration", "", "| source (language) | minutes |", "|---|---:|"]
        lines += [f"| {k} | {v / 60:.1f} |" for k, v in sorted(dur.items())] + [""]
    if words:
        lines += ["### Text words", "", "| source | words |", "|---|---:|"]
        lines += [f"| {k} | {v} |" for k, v in sorted(words.items())] + [""]
    return "\n".join(lines)
