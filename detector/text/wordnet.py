"""A small offline WordNet reader: single-word synonyms by part of speech, for lexical substitution.

Reads the plain data files of Debian's ``wordnet-base`` package (``usr/share/wordnet/index.*``,
``data.*``, ``*.exc``) as extracted by ``apt-get download wordnet-base && dpkg -x``; no NLTK.
The files live under ``Settings.data_dir / "text-src"`` by default (the same folder the text
generators' corpus fetcher uses); :func:`find_wordnet` fetches them with apt when missing.
The parsed map is cached as a pickle in the same folder, so later loads take milliseconds.

Only what the text watermark's embedder needs is kept: for each (lemma, part of speech) the
single-word, lower-case synonyms of its most frequent senses (WordNet orders senses by corpus
frequency), how often the lemma was sense-tagged in that part of speech (to pick the likely
part of speech of an ambiguous word), and the lemmas with irregular inflections (which a
suffix rule would misspell).
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from detector.errors import DetectorError

POS = ("n", "v", "a", "r")
_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
PACKAGE = "wordnet-base"
CACHE_NAME = "wordnet-synonyms-v1.pkl"
# Senses per lemma whose synonyms are kept: rarer senses mostly give wrong-meaning swaps.
DEFAULT_MAX_SENSES = 5
DEFAULT_MAX_RELATED = 3


class WordNetUnavailableError(DetectorError):
    """The WordNet data files are missing and could not be fetched."""


@dataclass(frozen=True)
class SynonymMap:
    """Single-word synonyms per (lemma, part of speech).

    Attributes:
        synonyms: ``{(lemma, pos): (synonym, ...)}``, most frequent sense first; pos in ``n v a r``.
        tag_counts: ``{(lemma, pos): number of sense-tagged corpus occurrences}`` (SemCor).
        irregular: ``{pos: lemmas with an irregular inflected form}`` (from ``*.exc``).
        source: Folder the files were read from.
    """

    synonyms: dict[tuple[str, str], tuple[str, ...]]
    tag_counts: dict[tuple[str, str], int]
    irregular: dict[str, frozenset[str]]
    source: str = ""
    lemmas: dict[str, frozenset[str]] = field(default_factory=dict)

    def has(self, lemma: str, pos: str) -> bool:
        """Whether ``lemma`` is a WordNet lemma of ``pos`` (with or without synonyms)."""
        return lemma in self.lemmas.get(pos, frozenset())

    def get(self, lemma: str, pos: str) -> tuple[str, ...]:
        """Synonyms of ``lemma`` as ``pos`` (empty when none)."""
        return self.synonyms.get((lemma, pos), ())


def default_wordnet_root() -> Path:
    """``Settings.data_dir / "text-src"`` (where the text corpus fetcher also extracts packages)."""
    from detector.settings import Settings

    return Settings.from_env().data_dir / "text-src"


def _locate(root: Path) -> Path | None:
    direct = root / "usr" / "share" / "wordnet"
    if (direct / "data.noun").is_file():
        return direct
    if (root / "data.noun").is_file():
        return root
    for p in sorted(root.rglob("wordnet/data.noun")) if root.is_dir() else ():
        return p.parent
    return None


def fetch_wordnet(dest: Path) -> Path:
    """Download Debian's ``wordnet-base`` with apt and extract it under ``dest`` (no root needed).

    Args:
        dest: Target folder; the files land in ``dest/usr/share/wordnet``.

    Returns:
        The folder holding ``data.noun`` etc.

    Raises:
        WordNetUnavailableError: apt-get/dpkg are missing or the download failed.
    """
    if not (shutil.which("apt-get") and shutil.which("dpkg")):
        raise WordNetUnavailableError(
            f"WordNet data files not found under {dest} and apt-get/dpkg are not available to fetch "
            f"them. On a Debian/Ubuntu machine run `apt-get download {PACKAGE} && dpkg -x "
            f"{PACKAGE}_*.deb {dest}`, or copy an extracted usr/share/wordnet folder there."
        )
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        res = subprocess.run(["apt-get", "download", PACKAGE], cwd=tmp, capture_output=True, text=True)
        debs = sorted(Path(tmp).glob("*.deb"))
        if res.returncode != 0 or not debs:
            raise WordNetUnavailableError(
                f"`apt-get download {PACKAGE}` failed (try `apt-get update` first): {res.stderr.strip()[-400:]}"
            )
        for deb in debs:
            subprocess.run(["dpkg", "-x", str(deb), str(dest)], check=True, capture_output=True)
    found = _locate(dest)
    if found is None:
        raise WordNetUnavailableError(f"{PACKAGE} was extracted under {dest} but holds no data.noun")
    return found


def find_wordnet(path: Path | str | None = None, *, fetch: bool = True) -> Path:
    """The folder holding WordNet's ``data.noun`` etc., fetching it with apt when missing.

    Args:
        path: A folder at or above ``usr/share/wordnet`` (default :func:`default_wordnet_root`).
        fetch: Download with apt when the files are missing.

    Returns:
        The ``.../wordnet`` folder.

    Raises:
        WordNetUnavailableError: Not found and not fetchable.
    """
    root = Path(path) if path is not None else default_wordnet_root()
    found = _locate(root)
    if found is not None:
        return found
    if not fetch:
        raise WordNetUnavailableError(f"WordNet data files not found under {root}")
    return fetch_wordnet(root)


def _parse(folder: Path, max_senses: int, max_related: int) -> SynonymMap:
    synsets: dict[tuple[str, int], list[str]] = {}
    related: dict[tuple[str, int], list[int]] = {}
    for pos in POS:
        with open(folder / f"data.{_FILES[pos]}", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("  "):  # licence header
                    continue
                parts = line.split(" | ", 1)[0].split()
                offset, n = int(parts[0]), int(parts[3], 16)
                names = []
                for k in range(n):
                    w = parts[4 + 2 * k]
                    # Adjective markers "(a)", "(p)", "(ip)" are syntax notes, not part of the word.
                    if w.endswith(")") and "(" in w:
                        w = w[: w.index("(")]
                    names.append(w)
                synsets[(pos, offset)] = names
                # Near-synonyms: adjective "similar to" (&) and direct hypernyms (@) of nouns/verbs.
                j = 4 + 2 * n
                p_cnt = int(parts[j])
                near = []
                for k in range(p_cnt):
                    sym, off, ppos = parts[j + 1 + 4 * k : j + 4 + 4 * k]
                    if (sym == "&" and pos == "a") or (sym == "@" and pos in "nv"):
                        near.append(int(off))
                related[(pos, offset)] = near
    synonyms: dict[tuple[str, str], tuple[str, ...]] = {}
    tag_counts: dict[tuple[str, str], int] = {}
    lemmas: dict[str, set[str]] = {p: set() for p in POS}
    for pos in POS:
        with open(folder / f"index.{_FILES[pos]}", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("  "):
                    continue
                parts = line.split()
                lemma, synset_cnt, p_cnt = parts[0], int(parts[2]), int(parts[3])
                tagsense = int(parts[5 + p_cnt])
                offsets = [int(x) for x in parts[6 + p_cnt : 6 + p_cnt + synset_cnt]]
                lemmas[pos].add(lemma)
                tag_counts[(lemma, pos)] = tagsense
                out: list[str] = []
                near = [r for off in offsets[:max_related] for r in related.get((pos, off), ())]
                for off in offsets[:max_senses] + near:
                    for w in synsets.get((pos, off), ()):
                        # Single lower-case words only: multiword lemmas, names and hyphenated
                        # forms would change the word count or read as a proper noun.
                        if w != lemma and w.isalpha() and w.islower() and w.isascii() and w not in out:
                            out.append(w)
                if out:
                    synonyms[(lemma, pos)] = tuple(out)
    irregular: dict[str, frozenset[str]] = {}
    for pos in POS:
        bases: set[str] = set()
        exc = folder / f"{_FILES[pos]}.exc"
        if exc.is_file():
            for line in exc.read_text("utf-8", errors="replace").splitlines():
                bases.update(line.split()[1:])
        irregular[pos] = frozenset(bases)
    return SynonymMap(
        synonyms=synonyms,
        tag_counts=tag_counts,
        irregular=irregular,
        source=str(folder),
        lemmas={p: frozenset(s) for p, s in lemmas.items()},
    )


_LOADED: dict[tuple[str, int, int], SynonymMap] = {}


def load_synonyms(
    path: Path | str | None = None,
    *,
    max_senses: int = DEFAULT_MAX_SENSES,
    max_related: int = DEFAULT_MAX_RELATED,
) -> SynonymMap:
    """Load (and cache) the synonym map, fetching WordNet with apt when it is missing.

    Args:
        path: See :func:`find_wordnet`.
        max_senses: Keep synonyms of this many most frequent senses per lemma.
        max_related: Also keep near-synonyms (adjective "similar to", noun/verb direct
            hypernyms) of this many most frequent senses, after the synonyms.

    Returns:
        The :class:`SynonymMap` (also memoised per process).

    Raises:
        WordNetUnavailableError: The files are missing and apt cannot fetch them.
    """
    folder = find_wordnet(path)
    key = (str(folder), max_senses, max_related)
    if key in _LOADED:
        return _LOADED[key]
    stamp = (
        os.stat(folder / "data.noun").st_mtime_ns,
        os.stat(folder / "index.noun").st_size,
        max_senses,
        max_related,
    )
    cache = folder / f"{CACHE_NAME[:-4]}-s{max_senses}-r{max_related}.pkl"
    smap = None
    if cache.is_file():
        try:
            with open(cache, "rb") as fh:
                saved_stamp, smap = pickle.load(fh)
            if saved_stamp != stamp or not isinstance(smap, SynonymMap):
                smap = None
        except Exception:  # a corrupt or foreign cache is just rebuilt
            smap = None
    if smap is None:
        smap = _parse(folder, max_senses, max_related)
        try:
            tmp = cache.with_suffix(f".tmp{os.getpid()}")
            with open(tmp, "wb") as fh:
                pickle.dump((stamp, smap), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, cache)
        except OSError:  # a read-only data dir only costs the parse next time
            pass
    _LOADED[key] = smap
    return smap


# -- inflection-aware substitutes ---------------------------------------------------------------
# Function words and very generic verbs: WordNet lists many of them ("can" = tin can, "will" =
# testament, "a" = vitamin A, "be"/"have"/"do") but swapping them garbles the sentence.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be been before being
    below between both but by can could did do does doing done down during each either else even
    ever few for from further get gets got had has have having he her here hers herself him himself
    his how i if in into is it its itself just least less let like many may me might more most much
    must my myself neither no nor not now of off often on once one only or other others otherwise
    our ours ourselves out over own per same shall she should since so some such than that the
    their theirs them themselves then there these they this those though through thus to too under
    until up upon us very was we were what when where whether which while who whom whose why will
    with within without would yet you your yours yourself yourselves make makes made making go goes
    went gone going say says said take takes took taken use used uses using way well new first two
    three four five six seven eight nine ten zero true false none null""".split()
)
_VOWELS = set("aeiou")
# Hand-checked alternates for frequent words WordNet lacks or that are stopwords above; they
# keep the sentence grammatical in nearly every context.
COMMON_ALTERNATES: dict[str, tuple[str, ...]] = {
    "although": ("though",),
    "though": ("although",),
    "among": ("amongst",),
    "amongst": ("among",),
    "while": ("whilst",),
    "whilst": ("while",),
    "until": ("till",),
    "till": ("until",),
    "upon": ("on",),
    "toward": ("towards",),
    "towards": ("toward",),
    "nearly": ("almost",),
    "almost": ("nearly",),
    "perhaps": ("maybe",),
    "maybe": ("perhaps",),
    "often": ("frequently",),
    "frequently": ("often",),
    "usually": ("normally", "generally", "typically"),
    "thus": ("hence", "therefore"),
    "therefore": ("thus", "hence"),
    "hence": ("thus", "therefore"),
    "however": ("nevertheless",),
    "also": ("additionally",),
    "only": ("merely", "just", "solely"),
    "just": ("merely", "simply", "only"),
    "used": ("employed", "utilized"),
    "using": ("employing", "utilizing"),
    "use": ("employ", "utilize"),
    "uses": ("employs", "utilizes"),
    "new": ("fresh", "novel"),
    "same": ("identical",),
    "each": ("every",),
    "every": ("each",),
    "anyone": ("anybody",),
    "anybody": ("anyone",),
    "someone": ("somebody",),
    "somebody": ("someone",),
    "everyone": ("everybody",),
    "everybody": ("everyone",),
    "get": ("obtain", "acquire"),
    "gets": ("obtains", "acquires"),
    "make": ("create",),
    "makes": ("creates",),
    "made": ("created",),
    "within": ("inside",),
    "whole": ("entire",),
    "entire": ("whole",),
    "begin": ("start",),
    "start": ("begin",),
    "need": ("require",),
    "needs": ("requires",),
    "show": ("display",),
    "shows": ("displays",),
    "many": ("numerous",),
    "big": ("large",),
    "large": ("big",),
    "first": ("initial",),
    "normal": ("ordinary", "regular", "usual"),
    "original": ("initial",),
    "value": (),
}


def _regular_suffix(lemma: str, infl: str) -> str | None:
    """Regular English inflection of ``lemma`` (``""``, ``"s"``, ``"ed"``, ``"ing"``), or None if unsure."""
    if infl == "":
        return lemma
    cvc = (
        len(lemma) >= 3
        and lemma[-1] not in _VOWELS | {"w", "x", "y"}
        and lemma[-2] in _VOWELS
        and lemma[-3] not in _VOWELS
    )
    if infl == "s":
        if lemma.endswith(("s", "x", "z", "ch", "sh")):
            return lemma + "es"
        if lemma.endswith("y") and lemma[-2:-1] not in _VOWELS:
            return lemma[:-1] + "ies"
        return lemma + "s"
    # Consonant doubling ("stop" -> "stopped") depends on stress; skip such synonyms.
    if cvc:
        return None
    if infl == "ed":
        if lemma.endswith("e"):
            return lemma + "d"
        if lemma.endswith("y") and lemma[-2:-1] not in _VOWELS:
            return lemma[:-1] + "ied"
        return lemma + "ed"
    if infl == "ing":
        if lemma.endswith("ie"):
            return lemma[:-2] + "ying"
        if lemma.endswith("e") and not lemma.endswith(("ee", "ye", "oe")):
            return lemma[:-1] + "ing"
        return lemma + "ing"
    return None


_DETACH = {
    "n": (
        ("ies", "y", "s"),
        ("ses", "s", "s"),
        ("xes", "x", "s"),
        ("zes", "z", "s"),
        ("ches", "ch", "s"),
        ("shes", "sh", "s"),
        ("s", "", "s"),
    ),
    "v": (
        ("ies", "y", "s"),
        ("es", "e", "s"),
        ("es", "", "s"),
        ("s", "", "s"),
        ("ied", "y", "ed"),
        ("ed", "e", "ed"),
        ("ed", "", "ed"),
        ("ing", "e", "ing"),
        ("ing", "", "ing"),
    ),
    "a": (),
    "r": (),
}


def analyses(smap: SynonymMap, word: str) -> list[tuple[str, str, str]]:
    """Regular (lemma, pos, inflection) readings of a lower-case ``word`` found in WordNet."""
    out = [(word, p, "") for p in POS if smap.has(word, p)]
    for pos, rules in _DETACH.items():
        for suffix, repl, infl in rules:
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                lemma = word[: -len(suffix)] + repl
                # Re-inflecting must give the word back, else the reading is spurious.
                if smap.has(lemma, pos) and _regular_suffix(lemma, infl) == word:
                    out.append((lemma, pos, infl))
    return out


def substitutes(smap: SynonymMap, word: str, *, dominance: float = 0.4) -> tuple[str, ...]:
    """Inflected single-word synonyms of a lower-case ``word`` in its most likely part of speech.

    The part of speech is the reading with the most sense-tagged occurrences (no tagger is
    available offline); a word is skipped when no reading holds at least ``dominance`` of the
    tagged occurrences (e.g. "run" is a verb about as often as a noun), when it is a stopword,
    or when a synonym would need an irregular or doubled-consonant form.

    Args:
        smap: The synonym map.
        word: A normalised word.
        dominance: Minimum share of the chosen reading among all readings' tagged counts.

    Returns:
        Candidate replacements (possibly empty), most frequent sense first.
    """
    common = COMMON_ALTERNATES.get(word, ())
    if word in STOPWORDS or not word.isalpha() or not word.isascii() or len(word) < 3:
        return common
    readings = analyses(smap, word)
    if not readings:
        return common
    counts = [smap.tag_counts.get((lemma, pos), 0) for lemma, pos, _ in readings]
    total = sum(counts)
    best = max(range(len(readings)), key=lambda k: counts[k])
    if len(readings) > 1 and (total == 0 or counts[best] < dominance * total):
        return common
    lemma, pos, infl = readings[best]
    if lemma in smap.irregular.get(pos, ()) and infl:
        return common
    out: list[str] = list(common)
    for syn in smap.get(lemma, pos):
        if infl and syn in smap.irregular.get(pos, ()):
            continue
        form = _regular_suffix(syn, infl)
        if form and len(syn) >= 3 and form != word and form not in STOPWORDS and form not in out:
            out.append(form)
    return tuple(out)
