"""Human-written text available offline: training data for the text generators, negatives for detectors.

Sources (see /work/shared/DATA.md): Python's own ``pydoc_data.topics`` (always present), and
Debian packages extracted with ``apt-get download`` + ``dpkg -x`` (no root install needed):
``fortunes``/``fortunes-min`` (BSD), ``dict-devil`` (public domain), ``dict-jargon`` (public
domain) and ``wordnet-base`` glosses (WordNet licence). :func:`fetch_text_sources` extracts them
under one folder; :func:`iter_documents` finds them anywhere below a folder, so a tree made by
``generators.corpus`` works too. On a machine without apt only ``pydoc`` is available, and
:func:`iter_documents` says so through :func:`available_sources`.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from detector.text.tokenize import words
from generators.errors import GeneratorUnavailableError

DEBIAN_TEXT_PACKAGES = ("fortunes", "fortunes-min", "dict-devil", "dict-jargon", "wordnet-base")
LICENCES = {
    "pydoc": "PSF-2.0 (Python documentation)",
    "fortunes": "BSD (fortune-mod data)",
    "devil": "public domain (Ambrose Bierce, The Devil's Dictionary)",
    "jargon": "public domain (The Jargon File 4.4.7)",
    "wordnet": "WordNet 3.0 licence (Princeton)",
}
ALL_SOURCES = tuple(LICENCES)
# Fortune files that are pictures or machine output rather than prose.
_SKIP_FORTUNES = {"ascii-art"}
_DICTD_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@dataclass(frozen=True)
class Document:
    """One human-written text.

    Attributes:
        source: Source family ("pydoc", "fortunes", "devil", "jargon", "wordnet").
        ident: Stable identifier inside the source (file and entry number, topic, headword).
        text: The text.
    """

    source: str
    ident: str
    text: str

    @property
    def licence(self) -> str:
        return LICENCES[self.source]


def default_source_dir() -> Path:
    """Where :func:`fetch_text_sources` puts its files by default: ``$PROVSCAN_DATA_DIR/text-src``."""
    from detector.settings import Settings

    return Settings.from_env().data_dir / "text-src"


def fetch_text_sources(dest: Path | None = None, *, packages: Iterable[str] = DEBIAN_TEXT_PACKAGES) -> Path:
    """Download the Debian text packages with apt and extract them (``dpkg -x``) under ``dest``.

    Args:
        dest: Target folder (default :func:`default_source_dir`).
        packages: Debian package names.

    Returns:
        ``dest``.

    Raises:
        GeneratorUnavailableError: apt-get / dpkg are missing or the download failed.
    """
    dest = Path(dest or default_source_dir())
    if not (shutil.which("apt-get") and shutil.which("dpkg")):
        raise GeneratorUnavailableError("apt-get/dpkg not found: only the pydoc text source is available")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        res = subprocess.run(["apt-get", "download", *packages], cwd=tmp, capture_output=True, text=True)
        if res.returncode != 0:
            raise GeneratorUnavailableError(f"apt-get download failed: {res.stderr.strip()[-500:]}")
        for deb in sorted(Path(tmp).glob("*.deb")):
            subprocess.run(["dpkg", "-x", str(deb), str(dest)], check=True)
    return dest


def _dictd_number(s: str) -> int:
    n = 0
    for ch in s:
        n = n * 64 + _DICTD_B64.index(ch)
    return n


def _pydoc_documents() -> Iterator[Document]:
    from pydoc_data.topics import topics

    for name in sorted(topics):
        yield Document("pydoc", name, topics[name])


def _fortune_documents(root: Path) -> Iterator[Document]:
    for d in sorted(p for p in root.rglob("fortunes") if p.is_dir()):
        for f in sorted(d.iterdir()):
            # Plain-text fortune files only: no index (.dat), no .u8 duplicates, no offensive subdir.
            if not f.is_file() or f.suffix or f.name in _SKIP_FORTUNES:
                continue
            text = f.read_text("utf-8", errors="replace")
            for i, entry in enumerate(text.split("\n%\n")):
                entry = entry.strip().strip("%").strip()
                if entry:
                    yield Document("fortunes", f"{f.name}#{i}", entry)


def _dictd_documents(root: Path, name: str) -> Iterator[Document]:
    for index in sorted(root.rglob(f"{name}.index")):
        data_path = index.with_name(f"{name}.dict.dz")
        if not data_path.exists():
            continue
        data = gzip.decompress(data_path.read_bytes())
        for line in index.read_text("utf-8", errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) < 3 or parts[0].startswith("00-database") or parts[0].startswith("00database"):
                continue
            start, length = _dictd_number(parts[1]), _dictd_number(parts[2])
            body = data[start : start + length].decode("utf-8", errors="replace").strip()
            if body:
                yield Document(name, parts[0], body)


def _wordnet_documents(root: Path, *, per_doc: int = 40) -> Iterator[Document]:
    for data_file in sorted(root.rglob("wordnet/data.*")):
        glosses: list[str] = []
        chunk = 0
        with open(data_file, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("  ") or " | " not in line:  # licence header lines
                    continue
                gloss = line.split(" | ", 1)[1].strip()
                glosses.append(gloss if gloss.endswith((".", "!", "?", '"')) else gloss + ".")
                if len(glosses) == per_doc:
                    yield Document("wordnet", f"{data_file.name}#{chunk}", " ".join(glosses))
                    glosses, chunk = [], chunk + 1
        if glosses:
            yield Document("wordnet", f"{data_file.name}#{chunk}", " ".join(glosses))


def available_sources(src: Path | None = None) -> list[str]:
    """Source families found under ``src`` (``pydoc`` is always available)."""
    found = ["pydoc"]
    root = Path(src or default_source_dir())
    if not root.exists():
        return found
    if any(p.is_dir() for p in root.rglob("fortunes")):
        found.append("fortunes")
    for name in ("devil", "jargon"):
        if any(root.rglob(f"{name}.index")):
            found.append(name)
    if any(root.rglob("wordnet/data.noun")):
        found.append("wordnet")
    return found


def iter_documents(src: Path | None = None, *, sources: Iterable[str] = ALL_SOURCES) -> Iterator[Document]:
    """Every human-written document of the requested ``sources`` found under ``src``.

    Args:
        src: Folder holding extracted Debian packages (default :func:`default_source_dir`);
            missing folders just yield the ``pydoc`` source.
        sources: Subset of :data:`ALL_SOURCES`.

    Yields:
        Documents in a deterministic order.
    """
    wanted = set(sources)
    unknown = wanted - set(ALL_SOURCES)
    if unknown:
        raise ValueError(f"unknown text sources {sorted(unknown)} (known: {', '.join(ALL_SOURCES)})")
    root = Path(src or default_source_dir())
    if "pydoc" in wanted:
        yield from _pydoc_documents()
    if not root.exists():
        return
    if "fortunes" in wanted:
        yield from _fortune_documents(root)
    for name in ("devil", "jargon"):
        if name in wanted:
            yield from _dictd_documents(root, name)
    if "wordnet" in wanted:
        yield from _wordnet_documents(root)


def human_passages(
    n_words: int,
    *,
    src: Path | None = None,
    sources: Iterable[str] = ALL_SOURCES,
    limit: int | None = None,
) -> list[tuple[str, list[str]]]:
    """Non-overlapping passages of exactly ``n_words`` normalised words of human text.

    Consecutive documents of one source are concatenated until a passage is full, so short
    texts (fortunes, glosses) still give long passages.

    Args:
        n_words: Words per passage.
        src: See :func:`iter_documents`.
        sources: See :func:`iter_documents`.
        limit: Stop after this many passages.

    Returns:
        ``[(source, words), ...]``.
    """
    out: list[tuple[str, list[str]]] = []
    buf: list[str] = []
    current = None
    for doc in iter_documents(src, sources=sources):
        if doc.source != current:
            buf, current = [], doc.source
        buf.extend(words(doc.text))
        while len(buf) >= n_words:
            out.append((doc.source, buf[:n_words]))
            buf = buf[n_words:]
            if limit is not None and len(out) >= limit:
                return out
    return out
