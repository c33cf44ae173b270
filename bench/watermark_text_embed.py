"""Benchmark: watermarking existing human text by synonym substitution (``provscan-text`` embed).

Human passages of at least ``--words`` words (raw text cut at paragraph boundaries) from
Python's ``pydoc_data.topics`` and the Debian ``fortunes`` files; each is embedded, then
detected. The peer in the same run is the unmarked original (and the marked text under a
different key). Writes a Markdown section to ``docs/benchmarks/watermark_text_embed.md``
(appended by hand to ``watermark_text.md``).

Run: ``python -m bench.watermark_text_embed --n 200``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from tqdm import tqdm

from detector.text.tokenize import words
from detector.watermark.text import TextWatermark, TextWatermarkEmbedError

ROOT = Path(__file__).resolve().parents[1]


def raw_passages(source: str, n_words: int, *, src: Path | None = None, limit: int = 100) -> list[str]:
    """Raw human passages of >= ``n_words`` words, joined from whole paragraphs/entries."""
    if source == "pydoc":
        from pydoc_data.topics import topics

        docs = [topics[k] for k in sorted(topics)]
        units = [p for d in docs for p in d.split("\n\n") if p.strip()]
    else:
        from generators.text.sources import iter_documents

        units = [d.text for d in iter_documents(src, sources=[source]) if d.source == source]
    out: list[str] = []
    buf: list[str] = []
    count = 0
    for u in units:
        buf.append(u)
        count += len(words(u))
        if count >= n_words:
            out.append("\n\n".join(buf))
            buf, count = [], 0
            if len(out) >= limit:
                break
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=200, help="passages per source")
    ap.add_argument("--words", type=int, default=200)
    ap.add_argument("--key", default="bench-key")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "watermark_text_embed.md"))
    args = ap.parse_args(argv)
    wm, other = TextWatermark(args.key), TextWatermark(args.key + "-other")
    rows = []
    for source in ("pydoc", "fortunes"):
        passages = raw_passages(source, args.words, limit=args.n)
        ok = errors = peer_det = other_det = 0
        fracs: list[float] = []
        zs: list[float] = []
        secs = 0.0
        for text in tqdm(passages, desc=source, file=sys.stderr):
            peer_det += wm.detect(text).detected
            t0 = time.perf_counter()
            try:
                marked, stats = wm.embed_with_stats(text)
            except TextWatermarkEmbedError:
                errors += 1
                secs += time.perf_counter() - t0
                continue
            secs += time.perf_counter() - t0
            res = wm.detect(marked)
            ok += res.detected
            other_det += other.detect(marked).detected
            fracs.append(stats["fraction_changed"])
            zs.append(res.evidence["z"])
        n = len(passages)
        rows.append((source, n, ok, errors, peer_det, other_det, fracs, zs, secs))
    lines = [
        "## Text embedding (synonym substitution into existing human text)",
        "",
        f"`TextWatermark.embed` rewords human passages of >= {args.words} words with WordNet synonyms "
        "(Debian wordnet-base: synonyms of the 5 most frequent senses, near-synonyms of the 3 most frequent, a small hand-checked table for common words) until z >= 4.5, then `detect` reads them back. "
        f"Command: `python -m bench.watermark_text_embed --n {args.n} --words {args.words}`.",
        "",
        "| source | passages | detected after embed | embed refused | words changed (mean / median / max) "
        "| z marked (mean / min) | peer: original detected | peer: other key detected | ms/passage |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for source, n, ok, errors, peer, oth, fracs, zs, secs in rows:
        fr = (
            f"{statistics.mean(fracs):.1%} / {statistics.median(fracs):.1%} / {max(fracs):.1%}"
            if fracs
            else "-"
        )
        zz = f"{statistics.mean(zs):.2f} / {min(zs):.2f}" if zs else "-"
        lines.append(
            f"| {source} | {n} | {ok} ({ok / n:.3f}) | {errors} | {fr} | {zz} | {peer} | {oth} | {1000 * secs / n:.0f} |"
        )
        print(
            f"{source}: n={n} detected={ok} ({ok / n:.3f}) refused={errors} words_changed={fr} z={zz} "
            f"peer_original={peer} peer_other_key={oth} ratio(marked/original detected)="
            f"{ok / max(peer, 1):.0f}x",
            file=sys.stderr,
        )
    lines += [
        "",
        "Detection counts the marked text with the embedding key; the peers are the same passages unmarked "
        "(false positives of the original) and the marked text read with a different key. "
        "Words changed = replaced words / all words. The rewording changes the author's wording; "
        "synonyms are chosen without a language model, so some substitutions read oddly.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
