"""Where the real (human-made) media of the corpus comes from, one function per source.

Each source yields ``RawItem``s; ``generators.corpus`` copies them, hashes them, splits them and
writes the manifest. Debian packages are fetched with ``apt-get download`` into a cache and
unpacked with ``dpkg -x`` (no root install). Facts about each source (which files are photos,
licences, where subtitles live) are in /work/shared/DATA.md and docs/corpus.md.
"""

from __future__ import annotations

import gzip
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generators.errors import GeneratorError

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
AUDIO_EXT = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".m4a", ".opus"}
VIDEO_EXT = {".mp4", ".avi", ".mov", ".mkv", ".webm"}
TEXT_EXT = {".txt", ".md"}

# Passage sizes for text: long enough for text detectors, split only at unit boundaries.
MIN_WORDS = 200
MAX_WORDS = 400


class SourceUnavailableError(GeneratorError):
    """A corpus source cannot be used on this machine (no apt, package missing, no module)."""


@dataclass(frozen=True)
class RawItem:
    """One file a source contributes, before copying.

    Attributes:
        name: File name inside the source's folder (unique per source, no directories).
        modality: "image", "audio", "text" or "video".
        group: What must stay in one split (photo, speaker session, source document).
        origin: Where it came from (path inside the package, URL, function name).
        licence: SPDX-like licence of this file.
        package: Debian package / wheel / folder it was taken from.
        src: File to copy, or None when ``data`` holds the bytes.
        data: The bytes, when produced in memory (rcc members, text passages).
        language: BCP-47-ish language code for speech and text.
        text: Transcript of speech (or the passage itself for text items).
        meta: Anything else worth keeping (speaker, author, url, translation_en, tags).
    """

    name: str
    modality: str
    group: str
    origin: str
    licence: str
    package: str
    src: Path | None = None
    data: bytes | None = None
    language: str | None = None
    text: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class SourceContext:
    """What every source function gets: where to cache Debian packages and whether apt is allowed."""

    cache: Path
    use_apt: bool = True
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr)
    _roots: dict[str, Path] = field(default_factory=dict)

    def package(self, name: str) -> Path:
        """Return the root of the unpacked Debian package ``name``, fetching it if needed.

        Raises:
            SourceUnavailableError: apt disabled or missing, or the download/unpack failed.
        """
        if name in self._roots:
            return self._roots[name]
        root = self.cache / "x" / name
        done = root / ".provscan-unpacked"
        if not done.exists():
            deb = self._deb(name)
            if root.exists():
                shutil.rmtree(root)
            root.mkdir(parents=True)
            res = subprocess.run(["dpkg", "-x", str(deb), str(root)], capture_output=True, text=True)
            if res.returncode:
                raise SourceUnavailableError(f"dpkg -x {deb.name} failed: {res.stderr.strip()[:200]}")
            done.write_text(deb.name + "\n")
        self._roots[name] = root
        return root

    def _deb(self, name: str) -> Path:
        debs = self.cache / "debs"
        found = sorted(debs.glob(f"{name}_*.deb"))
        if found:
            return found[-1]
        if not self.use_apt:
            raise SourceUnavailableError(f"{name}: apt disabled (use_apt=False) and no cached .deb")
        if not shutil.which("apt-get") or not shutil.which("dpkg"):
            raise SourceUnavailableError(f"{name}: apt-get/dpkg not found on this machine")
        debs.mkdir(parents=True, exist_ok=True)
        res = subprocess.run(
            ["apt-get", "download", name], cwd=debs, capture_output=True, text=True, timeout=1800
        )
        found = sorted(debs.glob(f"{name}_*.deb"))
        if res.returncode or not found:
            raise SourceUnavailableError(f"apt-get download {name} failed: {res.stderr.strip()[-300:]}")
        return found[-1]


# ---------------------------------------------------------------------------------------- text


def split_passages(units: list[str], *, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS) -> list[str]:
    """Pack text units (entries, paragraphs) into passages of about ``min_words``..``max_words``.

    Units are never cut unless one alone exceeds ``max_words``; then it is cut at sentence ends
    (or, failing that, at word boundaries). A passage under half ``min_words`` is merged into a
    neighbour, so a document yields no tiny fragment unless the whole document is short.

    Args:
        units: The document's units, in order.
        min_words: Close a passage once it reaches this many words.
        max_words: Never let a passage grow past this (except a merged short one, up to 1.5x).

    Returns:
        Passages joined with blank lines between units.
    """
    pieces: list[str] = []
    for unit in units:
        unit = unit.strip()
        if not unit:
            continue
        if len(unit.split()) <= max_words:
            pieces.append(unit)
            continue
        sentences = re.split(r"(?<=[.!?])\s+", unit)
        cur: list[str] = []
        for sent in sentences:
            words = sent.split()
            while len(words) > max_words:  # a "sentence" with no full stop for 400 words
                pieces.append(" ".join(words[:max_words]))
                words = words[max_words:]
            if sum(len(s.split()) for s in cur) + len(words) > max_words and cur:
                pieces.append(" ".join(cur))
                cur = []
            if words:
                cur.append(" ".join(words))
        if cur:
            pieces.append(" ".join(cur))
    out: list[list[str]] = []
    count = 0
    for piece in pieces:
        n = len(piece.split())
        if out and count < min_words and count + n <= max_words:
            out[-1].append(piece)
            count += n
        else:
            out.append([piece])
            count = n

    # A passage left under half the minimum joins its smaller neighbour, within 1.5x the maximum.
    def size(p: list[str]) -> int:
        return sum(len(x.split()) for x in p)

    i = 0
    while i < len(out):
        if len(out) > 1 and size(out[i]) < min_words // 2:
            nbrs = [j for j in (i - 1, i + 1) if 0 <= j < len(out)]
            j = min(nbrs, key=lambda j: size(out[j]))
            if size(out[i]) + size(out[j]) <= int(max_words * 1.5):
                lo, hi = min(i, j), max(i, j)
                out[lo : hi + 1] = [out[lo] + out[hi]]
                i = max(lo - 1, 0)
                continue
        i += 1
    return ["\n\n".join(p) for p in out]


def _text_items(
    docs: Iterator[tuple[str, list[str]]],
    *,
    source: str,
    licence: str,
    package: str,
    origin: str,
    language: str | None = "en",
) -> Iterator[RawItem]:
    for doc, units in docs:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", doc).strip("_") or "doc"
        for i, passage in enumerate(split_passages(units)):
            yield RawItem(
                name=f"{slug}-{i:04d}.txt",
                modality="text",
                group=f"{source}:{doc}",
                origin=f"{origin}#{doc}",
                licence=licence,
                package=package,
                data=passage.encode("utf-8"),
                language=language,
                meta={"words": len(passage.split())},
            )


def src_pydoc(ctx: SourceContext) -> Iterator[RawItem]:
    """Python's own reference text (``pydoc_data.topics``): one document per topic."""
    try:
        from pydoc_data.topics import topics
    except ImportError as exc:  # some distro Pythons strip it
        raise SourceUnavailableError(f"pydoc_data not importable: {exc}") from None
    ver = f"{sys.version_info[0]}.{sys.version_info[1]}"

    def docs() -> Iterator[tuple[str, list[str]]]:
        for key in sorted(topics):
            paras = [re.sub(r"\s+", " ", p) for p in re.split(r"\n\s*\n", topics[key])]
            # Code examples and grammar rules are not prose; keep paragraphs with sentences.
            yield key, [p for p in paras if len(p.split()) >= 8 and re.search(r"[a-z]{3,} [a-z]{2,}", p)]

    yield from _text_items(
        docs(), source="pydoc", licence="PSF-2.0", package=f"python{ver}", origin="pydoc_data.topics"
    )


def src_fortunes(ctx: SourceContext) -> Iterator[RawItem]:
    """fortunes + fortunes-min: each fortune file is one document; entries end with ``%``."""
    roots = [ctx.package("fortunes"), ctx.package("fortunes-min")]

    def docs() -> Iterator[tuple[str, list[str]]]:
        for root in roots:
            for f in sorted((root / "usr/share/games/fortunes").glob("*")):
                if f.suffix in {".dat", ".u8"} or f.is_symlink() or not f.is_file():
                    continue
                if f.name in {"ascii-art"}:  # pictures, not prose
                    continue
                text = f.read_text("utf-8", errors="replace")
                yield f.name, [e for e in re.split(r"\n%\n", text) if e.strip()]

    yield from _text_items(
        docs(),
        source="fortunes",
        licence="BSD-3-Clause",
        package="fortunes",
        origin="usr/share/games/fortunes",
    )


def src_wordnet(ctx: SourceContext) -> Iterator[RawItem]:
    """WordNet glosses; one document per lexicographer file (noun.animal, verb.motion, ...)."""
    root = ctx.package("wordnet-base") / "usr/share/wordnet"
    by_lex: dict[str, list[str]] = {}
    for pos in ("noun", "verb", "adj", "adv"):
        path = root / f"data.{pos}"
        if not path.exists():
            continue
        for line in path.read_text("utf-8", errors="replace").splitlines():
            if line.startswith("  ") or " | " not in line:  # licence header lines start with spaces
                continue
            fields, gloss = line.split(" | ", 1)
            parts = fields.split()
            word = parts[4].replace("_", " ")
            by_lex.setdefault(f"{pos}.{parts[1]}", []).append(f"{word}: {gloss.strip()}")
    yield from _text_items(
        iter(sorted(by_lex.items())),
        source="wordnet",
        licence="WordNet-3.0",
        package="wordnet-base",
        origin="usr/share/wordnet",
    )


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _dictd_num(s: str) -> int:
    n = 0
    for ch in s:
        n = n * 64 + _B64.index(ch)
    return n


def read_dictd(index: Path, data: Path) -> Iterator[tuple[str, str]]:
    """Yield ``(headword, definition)`` from a dictd ``.index`` + ``.dict[.dz]`` pair."""
    raw = data.read_bytes()
    if data.suffix == ".dz":
        raw = gzip.decompress(raw)  # dictzip is gzip with a random-access table in a header field
    for line in index.read_text("utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or parts[0].startswith("00-database") or parts[0].startswith("00database"):
            continue
        off, size = _dictd_num(parts[1]), _dictd_num(parts[2])
        yield parts[0], raw[off : off + size].decode("utf-8", errors="replace")


def _dict_source(
    pkg: str, base: str, source: str, licence: str
) -> Callable[[SourceContext], Iterator[RawItem]]:
    def src(ctx: SourceContext) -> Iterator[RawItem]:
        root = ctx.package(pkg) / "usr/share/dictd"
        by_letter: dict[str, list[str]] = {}
        seen: set[int] = set()
        for head, body in read_dictd(root / f"{base}.index", root / f"{base}.dict.dz"):
            if hash(body) in seen:  # several headwords can point at one definition
                continue
            seen.add(hash(body))
            body = re.sub(r"[ \t]+", " ", body).strip()
            letter = head[:1].lower() if head[:1].isalpha() else "other"
            by_letter.setdefault(letter, []).append(body)
        yield from _text_items(
            iter(sorted(by_letter.items())),
            source=source,
            licence=licence,
            package=pkg,
            origin=f"usr/share/dictd/{base}",
        )

    src.__doc__ = f"{pkg}: dictd definitions; one document per initial letter."
    return src


src_jargon = _dict_source("dict-jargon", "jargon", "jargon", "public-domain")
src_devil = _dict_source("dict-devil", "devil", "devil", "public-domain")
src_foldoc = _dict_source("dict-foldoc", "foldoc", "foldoc", "GFDL-1.1-or-later")


class _Prose(html.parser.HTMLParser):
    """Collect paragraph text from DocBook HTML, skipping code blocks and tables."""

    def __init__(self) -> None:
        super().__init__()
        self.paras: list[str] = []
        self._buf: list[str] = []
        self._skip = 0
        self._in_p = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"pre", "table", "script", "style"}:
            self._skip += 1
        elif tag == "p":
            self._in_p += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"pre", "table", "script", "style"} and self._skip:
            self._skip -= 1
        elif tag == "p" and self._in_p:
            self._in_p -= 1
            text = re.sub(r"\s+", " ", "".join(self._buf)).strip()
            if len(text.split()) >= 8:
                self.paras.append(text)
            self._buf = []

    def handle_data(self, data: str) -> None:
        if self._in_p and not self._skip:
            self._buf.append(data)


def src_debian_reference(ctx: SourceContext) -> Iterator[RawItem]:
    """debian-reference-en: prose paragraphs of each chapter's HTML; one document per chapter."""
    root = ctx.package("debian-reference-en")
    files = sorted(root.glob("usr/share/debian-reference/*.en.html")) or sorted(
        root.glob("usr/share/doc/debian-reference-en/**/*.en.html")
    )

    def docs() -> Iterator[tuple[str, list[str]]]:
        for f in files:
            if f.name.startswith("index"):
                continue
            parser = _Prose()
            parser.feed(f.read_text("utf-8", errors="replace"))
            yield f.name.split(".")[0], parser.paras

    yield from _text_items(
        docs(),
        source="debian-reference",
        licence="GPL-2.0-or-later",
        package="debian-reference-en",
        origin="usr/share/debian-reference",
    )


# --------------------------------------------------------------------------------------- images

# scikit-image sample files that ship in the wheel and are photographs (or micrographs) with a
# stated licence; synthetic ones (logo, color wheel, phantom, chessboard, horse silhouette) and
# those with no stated licence (moon, motorcycle, page) are left out.
SKIMAGE_PHOTOS = {
    "astronaut.png": "public-domain",
    "brick.png": "CC0-1.0",
    "camera.png": "CC0-1.0",
    "cell.png": "CC0-1.0",
    "chelsea.png": "CC0-1.0",
    "clock_motion.png": "public-domain",
    "coffee.png": "CC0-1.0",
    "coins.png": "public-domain",
    "grass.png": "CC0-1.0",
    "gravel.png": "CC0-1.0",
    "hubble_deep_field.jpg": "public-domain",
    "ihc.png": "public-domain",
    "microaneurysms.png": "CC0-1.0",
    "retina.jpg": "CC0-1.0",
    "rocket.jpg": "public-domain",
    "text.png": "public-domain",
}


def src_skimage(ctx: SourceContext) -> Iterator[RawItem]:
    """scikit-image's bundled sample photos (``skimage/data`` inside the wheel)."""
    try:
        import skimage
    except ImportError:
        raise SourceUnavailableError("scikit-image is not installed") from None
    root = Path(skimage.__file__).parent / "data"
    for name, lic in sorted(SKIMAGE_PHOTOS.items()):
        path = root / name
        if path.exists():
            yield RawItem(
                name=name,
                modality="image",
                group=f"skimage:{name}",
                origin=f"skimage/data/{name}",
                licence=lic,
                package=f"scikit-image=={skimage.__version__}",
                src=path,
            )


def src_matplotlib(ctx: SourceContext) -> Iterator[RawItem]:
    """matplotlib's sample photo of Grace Hopper (US Navy, public domain)."""
    try:
        import matplotlib
    except ImportError:
        raise SourceUnavailableError("matplotlib is not installed") from None
    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if not path.exists():
        raise SourceUnavailableError(f"{path} missing from this matplotlib wheel")
    yield RawItem(
        name="grace_hopper.jpg",
        modality="image",
        group="matplotlib:grace_hopper",
        origin="matplotlib/mpl-data/sample_data/grace_hopper.jpg",
        licence="public-domain",
        package=f"matplotlib=={matplotlib.__version__}",
        src=path,
    )


# Photos among opencv-doc's samples, checked by eye: logos, renders (Blender_Suzanne*), synthetic
# shapes, digits, chessboards (left01..right14: grey calibration shots), paintings (starry_night),
# cartoons (HappyFish, ml, fuzzy/input), synthetically blurred copies (text_defocus/motion) and the
# spliced ela_modified.jpg (a tamper of ela_original.jpg) are all left out.
OPENCV_PHOTOS = (
    "data/aero1.jpg data/aero3.jpg data/aloeL.jpg data/aloeR.jpg data/apple.jpg data/baboon.jpg "
    "data/basketball1.png data/basketball2.png data/board.jpg data/box.png data/box_in_scene.png "
    "data/building.jpg data/butterfly.jpg data/chicky_512.png data/ela_original.jpg data/fruits.jpg "
    "data/graf1.png data/graf3.png data/home.jpg data/left.jpg data/right.jpg data/leuvenA.jpg "
    "data/leuvenB.jpg data/licenseplate_motion.jpg data/messi5.jpg data/orange.jpg data/pca_test1.jpg "
    "data/rubberwhale1.png data/rubberwhale2.png data/squirrel_cls.jpg data/stuff.jpg data/sudoku.png "
    "alphamat/input_images/plant.jpg hfs/data/000.jpg hfs/data/001.jpg hfs/data/002.jpg "
    "dnn_superres/butterfly.png text/scenetext01.jpg text/scenetext02.jpg text/scenetext03.jpg "
    "text/scenetext04.jpg text/scenetext05.jpg text/scenetext06.jpg"
).split()
# Same scene from two viewpoints / two frames: one group so they never straddle splits.
OPENCV_GROUPS = {
    "aero1": "aero",
    "aero3": "aero",
    "aloeL": "aloe",
    "aloeR": "aloe",
    "basketball1": "basketball",
    "basketball2": "basketball",
    "box": "box",
    "box_in_scene": "box",
    "graf1": "graf",
    "graf3": "graf",
    "left": "books",
    "right": "books",
    "leuvenA": "leuven",
    "leuvenB": "leuven",
    "rubberwhale1": "rubberwhale",
    "rubberwhale2": "rubberwhale",
}
OPENCV_LICENCE = "Apache-2.0 AND BSD-3-Clause"


def _opencv_root(ctx: SourceContext) -> Path:
    return ctx.package("opencv-doc") / "usr/share/doc/opencv-doc/examples"


def src_opencv(ctx: SourceContext) -> Iterator[RawItem]:
    """opencv-doc sample photos (the list above)."""
    root = _opencv_root(ctx)
    for rel in OPENCV_PHOTOS:
        path = root / rel
        if not path.exists():
            continue
        stem = path.stem
        name = rel.replace("/", "_") if not rel.startswith("data/") else path.name
        yield RawItem(
            name=name,
            modality="image",
            group=f"opencv:{OPENCV_GROUPS.get(stem, rel)}",
            origin=f"usr/share/doc/opencv-doc/examples/{rel}",
            licence=OPENCV_LICENCE,
            package="opencv-doc",
            src=path,
        )


def src_opencv_video(ctx: SourceContext) -> Iterator[RawItem]:
    """opencv-doc real videos: vtest.avi (pedestrians) and tree.avi; Megamind*.avi is CGI."""
    root = _opencv_root(ctx)
    for name in ("vtest.avi", "tree.avi"):
        path = root / "data" / name
        if path.exists():
            yield RawItem(
                name=name,
                modality="video",
                group=f"opencv-video:{name}",
                origin=f"usr/share/doc/opencv-doc/examples/data/{name}",
                licence=OPENCV_LICENCE,
                package="opencv-doc",
                src=path,
            )


WALLPAPER_PHOTOS = (
    "BytheWater ColdRipple ColorfulCups DarkestHour EveningGlow FallenLeaf Grey Kite OneStandsOut Path summer_1am"
).split()


def src_wallpapers(ctx: SourceContext) -> Iterator[RawItem]:
    """plasma-workspace-wallpapers: the photographic wallpapers, largest size of each."""
    root = ctx.package("plasma-workspace-wallpapers") / "usr/share/wallpapers"
    for name in WALLPAPER_PHOTOS:
        images = list((root / name / "contents" / "images").glob("*.jpg"))
        if not images:
            continue

        def area(p: Path) -> int:
            m = re.match(r"(\d+)x(\d+)", p.stem)
            return int(m.group(1)) * int(m.group(2)) if m else 0

        best = max(images, key=lambda p: (area(p), p.name))
        lic, author = "LGPL-3.0", None
        meta_file = root / name / "metadata.json"
        if meta_file.exists():
            try:
                plugin = json.loads(meta_file.read_text("utf-8")).get("KPlugin", {})
                lic = {"LGPLv3": "LGPL-3.0", "GPLv2+": "GPL-2.0-or-later"}.get(plugin.get("License"), lic)
                author = (plugin.get("Authors") or [{}])[0].get("Name")
            except (ValueError, AttributeError):
                pass
        yield RawItem(
            name=f"{name}-{best.name}",
            modality="image",
            group=f"wallpapers:{name}",
            origin=str(best.relative_to(root.parent.parent.parent)),
            licence=lic,
            package="plasma-workspace-wallpapers",
            src=best,
            meta={"author": author} if author else {},
        )


# gcompris-qt activities whose images are photos; "details" keeps only the full backgrounds of
# photo puzzles (its pieces are crops of them, and some puzzles are Van Gogh paintings).
GCOMPRIS_BUNDLES = (
    "categorization",
    "erase",
    "explore_farm_animals",
    "explore_world_animals",
    "explore_monuments",
    "leftright",
    "details",
)
GCOMPRIS_SKIP = {"alphabets.webp", "numbers.webp"}  # drawn category icons


def _gcompris_readme(text: str) -> dict[str, dict[str, str]]:
    """Map file name -> {"licence", "url", "author", "comment"} from a gcompris README."""
    out: dict[str, dict[str, str]] = {}
    for block in re.split(r"\n\s*\n", text):
        info: dict[str, str] = {}
        files: list[str] = []
        in_files = False
        for line in block.splitlines():
            key, sep, val = line.partition(":")
            if sep and key.strip() in {"Copyright", "License", "Source", "Comment", "Comments", "Files"}:
                in_files = key.strip() == "Files"
                if in_files:
                    files += val.split()
                else:
                    info[key.strip().lower().rstrip("s")] = val.strip()
            elif in_files:
                files += line.split()
        for f in files:
            out[f.split("/")[-1]] = info
    return out


def _norm_licence(lic: str) -> str:
    lic = lic.strip().rstrip(".")
    known = {
        "public domain": "public-domain",
        "gplv3": "GPL-3.0-only",
        "gplv2+": "GPL-2.0-or-later",
        "cc-by-sa 4.0": "CC-BY-SA-4.0",
        "cc-by-sa 3.0": "CC-BY-SA-3.0",
    }
    # No README entry: the package's own licence (debian/copyright says GPL-3+).
    return known.get(lic.lower(), lic.replace(" ", "-") or "GPL-3.0-or-later")


def src_gcompris(ctx: SourceContext) -> Iterator[RawItem]:
    """gcompris-qt-data: photos pulled out of the activities' Qt .rcc bundles."""
    from generators.qrc import QrcBundle, QrcFormatError

    root = ctx.package("gcompris-qt-data") / "usr/share/gcompris-qt/rcc"
    for bundle in GCOMPRIS_BUNDLES:
        path = root / f"{bundle}.rcc"
        if not path.exists():
            continue
        try:
            rcc = QrcBundle.open(path)
            entries = list(rcc.entries())
        except QrcFormatError as exc:
            ctx.log(f"corpus: gcompris {bundle}.rcc unreadable: {exc}")
            continue
        readmes: dict[str, dict[str, dict[str, str]]] = {}
        for e in entries:
            if e.path.endswith("/README"):
                readmes[e.path.rsplit("/", 1)[0]] = _gcompris_readme(rcc.read(e).decode("utf-8", "replace"))
        for e in entries:
            folder, _, fname = e.path.rpartition("/")
            if not fname.endswith(".webp") or fname in GCOMPRIS_SKIP:
                continue
            # A README may sit in a parent folder (explore_monuments lists "egypt/x.webp").
            info: dict[str, str] = {}
            probe = folder
            while probe:
                if fname in readmes.get(probe, {}):
                    info = readmes[probe][fname]
                    break
                probe = probe.rpartition("/")[0]
            comment = info.get("comment", "")
            if bundle == "details":
                if not fname.endswith("_background.webp") or "painting" in comment.lower():
                    continue
            url = info.get("source") or (re.search(r"https?://\S+", comment) or [None])[0]
            url = url.rstrip(".,)") if url else None
            meta = {k: v for k, v in {"author": info.get("copyright"), "url": url}.items() if v}
            if comment:
                meta["comment"] = comment
            rel = e.path.split("/activities/", 1)[-1]
            yield RawItem(
                name=rel.replace("/resource", "").replace("/", "_"),
                modality="image",
                # The same Commons photo is reused by several activities: group by its URL.
                group=f"photo:{url}" if url else f"gcompris:{rel}",
                origin=f"usr/share/gcompris-qt/rcc/{bundle}.rcc:/{e.path}",
                licence=_norm_licence(info.get("license", "")),
                package="gcompris-qt-data",
                data=rcc.read(e),
                meta=meta,
            )


# ---------------------------------------------------------------------------------------- audio

_LUA_STR = r'"((?:[^"\\]|\\.)*)"'
_DIALOG = re.compile(
    r"dialogId\(\s*" + _LUA_STR + r"\s*,\s*" + _LUA_STR + r"\s*,\s*" + _LUA_STR + r"\s*\)\s*"
    r"(?:dialogStr\(\s*" + _LUA_STR + r"\s*\))?",
    re.S,
)


def _lua_unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s)


def fillets_subtitles(script_root: Path, lang: str) -> dict[tuple[str, str], dict[str, str]]:
    """Parse Fish Fillets NG dialogue scripts: (level, clip id) -> {text, text_en, speaker}.

    ``script/<level>/dialogs_<lang>.lua`` (and ``script/share/*_dialogs_<lang>.lua`` for clips
    shared between levels, keyed by level "share") hold ``dialogId(id, font, english)`` followed
    by ``dialogStr(translation)``; the font names the speaker (font_small, font_big, ...).
    """
    out: dict[tuple[str, str], dict[str, str]] = {}
    files = sorted(script_root.glob(f"*/dialogs_{lang}.lua")) + sorted(
        script_root.glob(f"share/*_dialogs_{lang}.lua")
    )
    for f in files:
        for m in _DIALOG.finditer(f.read_text("utf-8", errors="replace")):
            clip, font, english, local = m.groups()
            if local is None and not english:
                continue  # sound-effect ids (no text in any language)
            out[(f.parent.name, clip)] = {
                "text": _lua_unescape(local) if local is not None else "",
                "text_en": _lua_unescape(english),
                "speaker": font.removeprefix("font_"),
            }
    return out


def _fillets(lang: str) -> Callable[[SourceContext], Iterator[RawItem]]:
    def src(ctx: SourceContext) -> Iterator[RawItem]:
        root = ctx.package(f"fillets-ng-data-{lang}") / "usr/share/games/fillets-ng/sound"
        subs: dict[tuple[str, str], dict[str, str]] = {}
        try:
            base = ctx.package("fillets-ng-data") / "usr/share/games/fillets-ng/script"
            subs = fillets_subtitles(base, lang)
        except SourceUnavailableError as exc:
            ctx.log(f"corpus: fillets {lang} subtitles unavailable ({exc}); clips kept without text")
        by_id = {clip: sub for (_, clip), sub in subs.items()}
        for path in sorted(root.rglob(f"{lang}/*.ogg")):
            level = path.parent.parent.relative_to(root).as_posix()  # "barrel", "share/border"
            sub = subs.get((level.split("/")[0], path.stem)) or by_id.get(path.stem, {})
            meta = {"level": level}
            if sub.get("speaker"):
                meta["speaker"] = sub["speaker"]
            if sub.get("text_en"):
                meta["translation_en"] = sub["text_en"]
            yield RawItem(
                name=f"{level.replace('/', '-')}-{path.name}",
                modality="audio",
                # A game room is one recording context; clips of a room stay together.
                group=f"fillets-{lang}:{level}",
                origin=str(path.relative_to(root.parent.parent.parent.parent)),
                licence="GPL-2.0-or-later",
                package=f"fillets-ng-data-{lang}",
                src=path,
                language=lang,
                text=sub.get("text") or None,
                meta=meta,
            )

    src.__doc__ = f"fillets-ng-data-{lang}: game dialogue clips with subtitles from the base package."
    return src


src_fillets_cs = _fillets("cs")
src_fillets_nl = _fillets("nl")

_ALSA_TEXT = {
    "Front_Center": "Front Center",
    "Front_Left": "Front Left",
    "Front_Right": "Front Right",
    "Rear_Center": "Rear Center",
    "Rear_Left": "Rear Left",
    "Rear_Right": "Rear Right",
    "Side_Left": "Side Left",
    "Side_Right": "Side Right",
}


def src_alsa(ctx: SourceContext) -> Iterator[RawItem]:
    """alsa-utils speaker-test voice clips (English); Noise.wav is not speech and is skipped."""
    root = ctx.package("alsa-utils") / "usr/share/sounds/alsa"
    for path in sorted(root.glob("*.wav")):
        if path.stem not in _ALSA_TEXT:
            continue
        yield RawItem(
            name=path.name,
            modality="audio",
            group=f"alsa:{path.stem}",
            origin=f"usr/share/sounds/alsa/{path.name}",
            licence="GPL-2.0-only",
            package="alsa-utils",
            src=path,
            language="en",
            text=_ALSA_TEXT[path.stem],
            meta={"speaker": "alsa"},
        )


# Asterisk PBX core prompts: studio recordings by professional voice talents (debian/copyright
# credits each speaker), so PCM-quality human speech in five languages. Debian ships them coded
# as G.722 (16 kHz wideband ADPCM); the transcripts are in the codec-less base package.
ASTERISK_VOICES: dict[str, tuple[str, str]] = {
    # language: (speaker as credited in debian/copyright, licence of that language's files)
    "en": ("Allison Smith", "CC-BY-SA-3.0"),
    "es": ("Allison Smith", "CC-BY-SA-3.0"),
    "fr": ("June Wallack", "CC-BY-SA-3.0"),
    "it": ("Carlo Flora", "CC-BY-3.0"),
    "ru": ("Maxim Topal (ivrvoice.ru)", "CC-BY-3.0"),
}
ASTERISK_MIN_S = 0.5  # single letters/digits shorter than this carry too little speech


def asterisk_transcripts(text: str) -> dict[str, str]:
    """``core-sounds-<lang>.txt``: ``path/without/ext: transcript`` lines; ``[...]`` marks non-speech."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, val = line.partition(":")
        if sep and not line.startswith(";") and key.strip() and " " not in key.strip():
            out[key.strip()] = val.strip()
    return out


def _decode_to_flac(path: Path, fmt: str, rate: int) -> bytes:
    """Decode a raw telephony file (``fmt``: ffmpeg demuxer, e.g. ``g722``, ``gsm``) to mono FLAC at
    ``rate`` Hz: a lossless copy of the decoded signal, its codec history stays in the samples.

    Written to a file, not a pipe: ffmpeg can only fill in FLAC's total sample count by seeking.
    """
    import tempfile

    exe = shutil.which("ffmpeg")
    if not exe:
        raise SourceUnavailableError(f"ffmpeg not found: needed to decode the {fmt} asterisk prompts")
    with tempfile.TemporaryDirectory() as td:
        out = Path(td) / "x.flac"
        res = subprocess.run(
            [
                exe,
                "-nostdin",
                "-loglevel",
                "error",
                "-f",
                fmt,
                # Raw GSM has no header: its 8 kHz rate must be given; G.722's demuxer knows its own.
                *(["-ar", str(rate)] if fmt == "gsm" else []),
                "-i",
                str(path),
                "-ac",
                "1",
                "-ar",
                str(rate),
                "-c:a",
                "flac",
                str(out),
            ],
            capture_output=True,
            timeout=120,
        )
        if res.returncode or not out.is_file():
            raise ValueError(
                f"ffmpeg could not decode {path.name}: {res.stderr.decode(errors='replace')[-200:]}"
            )
        return out.read_bytes()


def _decode_to_flac_cached(ctx: SourceContext, path: Path, fmt: str = "g722", rate: int = 16000) -> bytes:
    """:func:`_decode_to_flac` through a cache keyed by the coded file's sha256.

    One ffmpeg process per clip made the ~2,600 asterisk clips cost minutes per corpus build, and
    the main and the speech corpus both decode them; the cache sits beside the package cache.
    """
    import hashlib

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    cached = ctx.cache / f"decoded-{fmt}" / f"{digest}.flac"
    if cached.is_file():
        return cached.read_bytes()
    data = _decode_to_flac(path, fmt, rate)
    cached.parent.mkdir(parents=True, exist_ok=True)
    # Per process and thread (``_decode_all`` decodes in threads; two prompts may share bytes).
    tmp = cached.with_suffix(f".{os.getpid()}-{threading.get_ident()}.part")
    tmp.write_bytes(data)
    tmp.replace(cached)  # atomic: a concurrent build never reads a half-written file
    return data


def _decode_all(
    ctx: SourceContext, paths: list[Path], fmt: str, rate: int
) -> Iterator[bytes | ValueError | subprocess.TimeoutExpired]:
    """:func:`_decode_to_flac_cached` of every path, in order, on all cores (one ffmpeg each).

    A failure comes back as its exception, in the failed clip's place, for the caller to log.
    A cold corpus build decoded ~3,000 telephony prompts one process at a time: the longest
    serial stretch of ``make models`` while the second core waited.
    """
    from concurrent.futures import ThreadPoolExecutor

    def one(path: Path) -> bytes | ValueError | subprocess.TimeoutExpired:
        try:
            return _decode_to_flac_cached(ctx, path, fmt, rate)
        except (ValueError, subprocess.TimeoutExpired) as exc:
            return exc

    with ThreadPoolExecutor(max(2, os.cpu_count() or 1)) as ex:
        yield from ex.map(one, paths)


def _asterisk(lang: str) -> Callable[[SourceContext], Iterator[RawItem]]:
    speaker, licence = ASTERISK_VOICES[lang]

    def src(ctx: SourceContext) -> Iterator[RawItem]:
        root = ctx.package(f"asterisk-core-sounds-{lang}-g722") / "usr/share/asterisk/sounds"
        texts: dict[str, str] = {}
        try:
            doc = ctx.package(f"asterisk-core-sounds-{lang}") / f"usr/share/doc/asterisk-core-sounds-{lang}"
            texts = asterisk_transcripts(
                gzip.decompress((doc / f"core-sounds-{lang}.txt.gz").read_bytes()).decode(
                    "utf-8", errors="replace"
                )
            )
        except (SourceUnavailableError, OSError) as exc:
            ctx.log(f"corpus: asterisk {lang} transcripts unavailable ({exc}); clips kept without text")
        kept: list[tuple[Path, str, str, str | None]] = []
        for path in sorted(root.glob("*/**/*.g722")):
            voice_dir = path.relative_to(root).parts[0]  # en_US_f_Allison
            rel = path.relative_to(root / voice_dir).with_suffix("").as_posix()  # digits/7, vm-deleted
            text = texts.get(rel)
            # Tones and silences: transcript "[ascending tones]" or the silence/ folder.
            if rel.startswith("silence/") or (text or "").startswith("[") or "beep" in rel or "2tone" in rel:
                continue
            if path.stat().st_size < ASTERISK_MIN_S * 8000:  # G.722 is 64 kbit/s = 8000 bytes/s
                continue
            kept.append((path, voice_dir, rel, text))
        decoded = _decode_all(ctx, [k[0] for k in kept], "g722", 16000)
        for (_path, voice_dir, rel, text), data in zip(kept, decoded, strict=True):
            if isinstance(data, Exception):
                ctx.log(f"corpus: asterisk {lang}: skipped {rel}: {data}")
                continue
            folder = rel.split("/")[0] if "/" in rel else rel.split("-")[0]
            yield RawItem(
                name=rel.replace("/", "-") + ".flac",
                modality="audio",
                # One speaker per language: group prompts by topic (vm-*, conf-*, digits/, ...)
                # so a prompt family never straddles splits.
                group=f"asterisk-{lang}:{folder}",
                origin=f"usr/share/asterisk/sounds/{voice_dir}/{rel}.g722",
                licence=licence,
                package=f"asterisk-core-sounds-{lang}-g722",
                data=data,
                language=lang,
                text=text or None,
                meta={"speaker": speaker, "codec_history": "g722 (decoded to FLAC by ffmpeg)"},
            )

    src.__doc__ = (
        f"asterisk-core-sounds-{lang}-g722: studio-recorded PBX prompts ({speaker}), G.722 decoded to FLAC."
    )
    return src


# Telephone-band human speech: three more asterisk voice-prompt packages, recorded and shipped at
# 8 kHz (the rate of a phone call), each one speaker not in the core sounds above. They give the
# audio detector unseen voices *and* an unseen channel: deepfake voices reach moderators as phone
# calls and voicemail. The files are kept at 8 kHz; their codec history stays in the samples.
PHONE_VOICES: dict[str, dict[str, str]] = {
    # source name: package, folder under usr/share/asterisk/sounds, language, speaker, licence, coding
    "phone-it": {
        "package": "asterisk-prompt-it-menardi-wav",
        "folder": "it_IT_f_Menardi",
        "language": "it",
        "speaker": "Paola Dal Zot (recorded by Marco Menardi)",
        "licence": "CC-BY-SA-3.0",
        "coding": "wav",
    },
    "phone-fr": {
        "package": "asterisk-prompt-fr-armelle",
        "folder": "fr",
        "language": "fr",
        "speaker": "Armelle Desjardins",
        "licence": "LicenseRef-BSD-style-no-endorsement (Michel Gutierrez 2006; debian/copyright)",
        "coding": "gsm",
    },
    "phone-es": {
        "package": "asterisk-prompt-es-co",
        "folder": "es",
        "language": "es",
        "speaker": "July E. Jimenez (Avatar Ltda., Colombian Spanish)",
        "licence": "GPL-2.0-only",
        "coding": "gsm",
    },
}
PHONE_SR = 8000


def _phone(name: str) -> Callable[[SourceContext], Iterator[RawItem]]:
    v = PHONE_VOICES[name]
    history = "8 kHz PCM (as shipped)" if v["coding"] == "wav" else "8 kHz GSM 06.10 (decoded to FLAC by ffmpeg)"

    def src(ctx: SourceContext) -> Iterator[RawItem]:
        root = ctx.package(v["package"]) / "usr/share/asterisk/sounds" / v["folder"]
        kept: list[tuple[Path, str]] = []
        for path in sorted(root.rglob(f"*.{v['coding']}")):
            rel = path.relative_to(root).with_suffix("").as_posix()  # digits/7, vm-deleted
            if rel.startswith("silence/") or "beep" in rel or "tone" in rel:
                continue
            if v["coding"] == "wav":
                import soundfile as sf

                try:
                    if sf.info(str(path)).duration < ASTERISK_MIN_S:
                        continue
                except RuntimeError as exc:
                    ctx.log(f"corpus: {name}: skipped {rel}: {exc}")
                    continue
            elif path.stat().st_size < ASTERISK_MIN_S * 50 * 33:  # GSM 06.10: 33 bytes per 20 ms frame
                continue
            kept.append((path, rel))
        # WAV prompts are kept as shipped (no bytes); GSM ones are decoded, all cores at once.
        wav = v["coding"] == "wav"
        decoded = [None] * len(kept) if wav else _decode_all(ctx, [p for p, _ in kept], "gsm", PHONE_SR)
        for (path, rel), data in zip(kept, decoded, strict=True):
            if isinstance(data, Exception):
                ctx.log(f"corpus: {name}: skipped {rel}: {data}")
                continue
            src_path, ext = (path, ".wav") if data is None else (None, ".flac")
            folder = rel.split("/")[0] if "/" in rel else rel.split("-")[0]
            yield RawItem(
                name=rel.replace("/", "-") + ext,
                modality="audio",
                group=f"{name}:{folder}",  # one speaker: prompt families never straddle splits
                origin=f"usr/share/asterisk/sounds/{v['folder']}/{rel}.{v['coding']}",
                licence=v["licence"],
                package=v["package"],
                data=data,
                src=src_path,
                language=v["language"],
                # ``phone_codec`` is what make_phone_set re-codes the paired synthetic clips with.
                meta={"speaker": v["speaker"], "codec_history": history, "channel": "telephone 8 kHz",
                      "phone_codec": "gsm" if v["coding"] == "gsm" else "pcm8k"},
            )

    src.__doc__ = f"{v['package']}: telephone-band (8 kHz) PBX prompts spoken by {v['speaker']}."
    return src


# Volunteer voices: two KDE educational games ship words (ktuberling: "nose", "hat", ... in 20+
# languages) and letters / syllables (klettres: 19 alphabets) recorded by their translators, one or
# a few people per language, each on their own microphone and room, as 44.1 kHz Ogg Vorbis. Many
# speakers and recording chains, none of them studio or game voices: the audio detector never
# trains on them; they are its "new speaker" evaluation (worker/audio_recipe.py ``UNSEEN_VOICES``).
KDE_VOICES: dict[str, dict[str, str]] = {
    # source name: package, folder of the per-language folders, glob of the clips below a language
    "ktuberling": {"package": "ktuberling-data", "root": "usr/share/ktuberling/sounds", "glob": "*.ogg",
                   "what": "words"},
    "klettres": {"package": "klettres-data", "root": "usr/share/klettres", "glob": "*/*.ogg",
                 "what": "letters and syllables"},
}
KDE_LICENCE = "GPL-2.0-or-later"  # debian/copyright of both packages: Files: * GPL-2+


def kde_language(folder: str) -> str:
    """BCP-47-ish code of a KDE language folder: ``pt_BR`` -> ``pt-BR``, ``sr@latin`` -> ``sr-latin``."""
    return folder.replace("_", "-").replace("@", "-")


def _kde_voices(name: str) -> Callable[[SourceContext], Iterator[RawItem]]:
    v = KDE_VOICES[name]

    def src(ctx: SourceContext) -> Iterator[RawItem]:
        import soundfile as sf

        root = ctx.package(v["package"]) / v["root"]
        for lang_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            for path in sorted(lang_dir.glob(v["glob"])):
                try:
                    if sf.info(str(path)).duration < ASTERISK_MIN_S:
                        continue  # a bare consonant: too little speech for a 0.5 s window
                except RuntimeError as exc:
                    ctx.log(f"corpus: {name}: skipped {path.relative_to(root)}: {exc}")
                    continue
                rel = path.relative_to(root).as_posix()  # ca/ball.ogg, en/alpha/A.ogg
                lang = kde_language(lang_dir.name)
                yield RawItem(
                    name=rel.replace("/", "-"),
                    modality="audio",
                    # The language folder is the speaker unit (its translator team): never split.
                    group=f"{name}:{lang_dir.name}",
                    origin=f"{v['root']}/{rel}",
                    licence=KDE_LICENCE,
                    package=v["package"],
                    src=path,
                    language=lang,
                    # No transcript: ktuberling names a clip by the English id of the word said in
                    # the folder's language, klettres by a letter with take numbers (da/alpha/a-15).
                    meta={"speaker": f"{name} {lang_dir.name} volunteer(s)",
                          "codec_history": "ogg vorbis (as shipped)", "clip": path.stem},
                )

    src.__doc__ = f"{v['package']}: {v['what']} recorded by KDE volunteers, one folder per language."
    return src


# ------------------------------------------------------------------------- new cameras (opt-in)

# Photographs by other photographers, on other cameras, than the default corpus's photo sources
# (worker/image_recipe.py splits them by photographer: a few train the image detectors, the rest
# choose recipes and test them on new cameras). Never part of the default corpus (Source.default
# False), so adding them changed no generated training set. Checked by eye: renders,
# paintings and gradients are left out (lomiri Fossa, Infinite-Sea, Painting-Colors, analogpattern,
# greentock; MATE Aqua, Elephants and the desktop / abstract folders).
NEW_CAMERA_PHOTOS: dict[str, dict[str, Any]] = {
    "lomiri-wallpapers": {
        "packages": {
            "lomiri-wallpapers-16.04": (
                "Bridge_by_Sander_Klootwijk", "Dragonfly_by_Bolly", "Picture_0B_by_freespace",
                "Picture_1A_by_freespace", "Wine_by_Jakkub_Mede", "aitzgorri_by_Aitzol_Berasategi",
                "free_by_Peter_Nerlich", "friends_by_Aitzol_Berasategi", "life_by_Aitzol_Berasategi",
                "picosdeeuropa_by_Aitzol_Berasategi", "seeding_by_Clements_Engelhardt",
                "sunset_by_Aitzol_Berasategi", "umang_by_Abhishek_Mudgal",
            ),
            "lomiri-wallpapers-20.04": ("Kleiber_by_Lukas_Baubkus",),
        },
        "root": "usr/share/backgrounds",
    },
    "mate-backgrounds": {
        "packages": {"mate-backgrounds": (
            "Blinds", "Dune", "FreshFlower", "Garden", "GreenMeadow", "LadyBird", "RainDrops", "Storm",
            "TwoWings", "Wood", "YellowFlower",
        )},
        "root": "usr/share/backgrounds/mate/nature",
    },
}
DEP5_LICENCES = {"GPL-2+": "GPL-2.0-or-later", "CC0-1.0": "CC0-1.0"}
PALAPELI_LICENCES = {"public domain": "public-domain", "fdl": "GFDL", "gnu-fdl": "GFDL"}


def dep5_file_info(copyright_text: str) -> dict[str, dict[str, str]]:
    """File name -> {"licence", "copyright"} from a machine-readable debian/copyright (DEP-5).

    Keyed by base name: the packages above install their upstream folders flat, so the upstream
    path (``16.04/Bridge_by_....jpg``) and the installed one share only the file name.
    """
    out: dict[str, dict[str, str]] = {}
    for stanza in re.split(r"\n\s*\n", copyright_text):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, _, val = line.partition(":")
                key = key.strip().lower()
                fields[key] = val.strip()
        if "files" not in fields or "license" not in fields:
            continue
        lic = fields["license"].splitlines()[0].strip()
        info = {"licence": DEP5_LICENCES.get(lic, lic), "copyright": fields.get("copyright", "").splitlines()[0].rstrip("´ ")}
        for pattern in fields["files"].split():
            out[pattern.rsplit("/", 1)[-1]] = info
    return out


def _photo_item(source: str, path: Path, origin: str, licence: str, package: str, meta: dict[str, Any]) -> RawItem:
    """One photo as shipped; its own group (a photographer's photos are kept together by the split
    of worker/image_recipe.py, not by the corpus)."""
    return RawItem(name=path.name, modality="image", group=f"{source}:{path.stem}", origin=origin, licence=licence,
                   package=package, src=path, meta=meta)


def _new_camera_photos(name: str) -> Callable[[SourceContext], Iterator[RawItem]]:
    spec = NEW_CAMERA_PHOTOS[name]

    def src(ctx: SourceContext) -> Iterator[RawItem]:
        for package, stems in spec["packages"].items():
            root = ctx.package(package)
            copyright_file = root / "usr/share/doc" / package / "copyright"
            info = dep5_file_info(copyright_file.read_text("utf-8", errors="replace"))
            for stem in stems:
                path = root / spec["root"] / f"{stem}.jpg"
                if not path.is_file():
                    ctx.log(f"corpus: {name}: {path.name} missing from {package}")
                    continue
                about = info.get(path.name)
                if about is None:
                    raise SourceUnavailableError(f"{package}: debian/copyright names no licence for {path.name}")
                yield _photo_item(name, path, f"{spec['root']}/{path.name}", about["licence"], package,
                                  {"author": about["copyright"]})

    src.__doc__ = f"{', '.join(spec['packages'])}: photographs of the new-camera sources."
    return src


def src_palapeli(ctx: SourceContext) -> Iterator[RawItem]:
    """palapeli-data: the five photographs of the jigsaw game's default collection (a new-camera
    source); author and licence from each puzzle's .desktop file."""
    root = ctx.package("palapeli-data") / "usr/share/palapeli/collection"
    for path in sorted(root.glob("*.jpg")):
        desktop = path.with_suffix(".desktop")
        entry = dict(
            line.split("=", 1) for line in desktop.read_text("utf-8", errors="replace").splitlines() if "=" in line
        ) if desktop.is_file() else {}
        lic = entry.get("X-KDE-PluginInfo-License", "")
        if not lic:
            raise SourceUnavailableError(f"palapeli-data: {desktop.name} names no licence for {path.name}")
        yield _photo_item("palapeli", path, f"usr/share/palapeli/collection/{path.name}",
                          PALAPELI_LICENCES.get(lic.lower(), lic), "palapeli-data",
                          {"author": entry.get("X-KDE-PluginInfo-Author", ""), "title": entry.get("Name", "")})


# ------------------------------------------------------------------------------------ user dirs


def user_folder(folder: Path) -> Iterator[RawItem]:
    """Media in a user folder (recursive). An optional ``provscan-corpus.json`` in it gives
    ``{"licence": ..., "language": ..., "source": ...}``; audio is grouped by its parent folder
    (the usual speaker/clip layout), everything else by file.
    """
    folder = folder.expanduser().resolve()
    if not folder.is_dir():
        raise SourceUnavailableError(f"{folder} is not a folder")
    info: dict[str, Any] = {}
    cfg = folder / "provscan-corpus.json"
    if cfg.exists():
        try:
            info = json.loads(cfg.read_text("utf-8"))
        except ValueError as exc:
            raise SourceUnavailableError(f"{cfg}: {exc}") from None
    source = info.get("source") or f"user-{re.sub(r'[^A-Za-z0-9_-]+', '_', folder.name)}"
    licence = info.get("licence") or info.get("license") or "unknown (user-supplied)"
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.name == cfg.name or path.name.startswith("."):
            continue
        ext = path.suffix.lower()
        modality = (
            "image"
            if ext in IMAGE_EXT
            else "audio"
            if ext in AUDIO_EXT
            else "video"
            if ext in VIDEO_EXT
            else "text"
            if ext in TEXT_EXT
            else None
        )
        if modality is None:
            continue
        rel = path.relative_to(folder).as_posix()
        if modality == "text":
            units = re.split(r"\n\s*\n", path.read_text("utf-8", errors="replace"))
            yield from _text_items(
                iter([(rel, units)]),
                source=source,
                licence=licence,
                package=str(folder),
                origin=str(folder),
                language=info.get("language"),
            )
            continue
        parent = path.parent.relative_to(folder).as_posix()
        group = f"{source}:{parent}" if modality == "audio" and parent != "." else f"{source}:{rel}"
        transcript = path.with_suffix(".txt")
        yield RawItem(
            name=rel.replace("/", "_"),
            modality=modality,
            group=group,
            origin=str(path),
            licence=licence,
            package=str(folder),
            src=path,
            language=info.get("language"),
            text=transcript.read_text("utf-8").strip()
            if modality == "audio" and transcript.exists()
            else None,
            meta={"speaker": parent} if modality == "audio" and parent != "." else {},
        )


@dataclass(frozen=True)
class Source:
    name: str
    modality: str
    needs_apt: bool
    fn: Callable[[SourceContext], Iterator[RawItem]]
    # False: built only when named (opt-in sources): a default corpus, and so every
    # training set drawn from it, stays what it was when such a source is added.
    default: bool = True


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source("skimage", "image", False, src_skimage),
        Source("matplotlib", "image", False, src_matplotlib),
        Source("pydoc", "text", False, src_pydoc),
        Source("opencv", "image", True, src_opencv),
        Source("opencv-video", "video", True, src_opencv_video),
        Source("wallpapers", "image", True, src_wallpapers),
        Source("gcompris", "image", True, src_gcompris),
        Source("fillets-cs", "audio", True, src_fillets_cs),
        Source("fillets-nl", "audio", True, src_fillets_nl),
        Source("alsa", "audio", True, src_alsa),
        *(Source(f"asterisk-{lang}", "audio", True, _asterisk(lang)) for lang in ASTERISK_VOICES),
        *(Source(name, "audio", True, _phone(name)) for name in PHONE_VOICES),
        *(Source(name, "audio", True, _kde_voices(name)) for name in KDE_VOICES),
        Source("fortunes", "text", True, src_fortunes),
        Source("wordnet", "text", True, src_wordnet),
        Source("jargon", "text", True, src_jargon),
        Source("devil", "text", True, src_devil),
        Source("foldoc", "text", True, src_foldoc),
        Source("debian-reference", "text", True, src_debian_reference),
        *(Source(name, "image", True, _new_camera_photos(name), default=False) for name in NEW_CAMERA_PHOTOS),
        Source("palapeli", "image", True, src_palapeli, default=False),
    )
}
DEFAULT_SOURCES = [n for n, s in SOURCES.items() if s.default]
NEW_CAMERA_SOURCES = (*NEW_CAMERA_PHOTOS, "palapeli")
WHEEL_SOURCES = [n for n, s in SOURCES.items() if not s.needs_apt]


def env_cache_dir() -> Path | None:
    """``PROVSCAN_CORPUS_CACHE`` overrides where .deb files are downloaded and unpacked."""
    value = os.environ.get("PROVSCAN_CORPUS_CACHE")
    return Path(value).expanduser() if value else None
