"""Command line for building the text generators' weights (what ``make models`` can call).

    python -m generators.text.train text-ngram [--out DIR]
    python -m generators.text.train text-lm [--out DIR] [--epochs 2] [--max-minutes 10] [--seed 0]
    python -m generators.text.train fetch-sources [--out DIR]

``--out`` defaults to ``Settings.models_dir / "generators"`` (the sources to
``$PROVSCAN_DATA_DIR/text-src``). Training text comes from ``$PROVSCAN_DATA_DIR/text-src``;
run ``fetch-sources`` first on a machine with apt, otherwise only Python's docs are used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    from generators.text.gru import train_text_lm
    from generators.text.lm import models_dir
    from generators.text.ngram import train_text_ngram
    from generators.text.sources import fetch_text_sources

    ap = argparse.ArgumentParser(prog="python -m generators.text.train", description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["text-lm", "text-gru", "text-ngram", "fetch-sources"])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--data", type=Path, default=None, help="folder of extracted text sources")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--max-minutes", type=float, default=10.0)
    args = ap.parse_args(argv)

    if args.what == "fetch-sources":
        print(fetch_text_sources(args.out))
        return 0
    out = args.out or models_dir()
    if args.what == "text-ngram":
        path = train_text_ngram(out, seed=args.seed, data=args.data)
    else:
        path = train_text_lm(
            out, seed=args.seed, epochs=args.epochs, data=args.data, max_minutes=args.max_minutes
        )
    print(path)
    print(path.with_suffix(".yaml").read_text(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
