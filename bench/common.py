"""Helpers for benchmarks: timing, Markdown tables, and writing sections of docs/benchmarks.md."""

from __future__ import annotations

import argparse
import platform
import re
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH_MD = REPO / "docs" / "benchmarks.md"


def machine() -> str:
    import os

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def table(header: list[str], rows: list[list[object]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        out.append("| " + " | ".join(f"{c:.3g}" if isinstance(c, float) else str(c) for c in r) + " |")
    return "\n".join(out)


def write_section(name: str, body: str, *, path: Path = BENCH_MD) -> None:
    """Replace (or append) the section ``<!-- bench:name -->`` in docs/benchmarks.md."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text() if path.exists() else "# Benchmarks\n\nWritten by the scripts in bench/; each names its command.\n"
    stamp = time.strftime("%Y-%m-%d")
    block = f"<!-- bench:{name} -->\n{body.strip()}\n\n_Measured {stamp} on {machine()}._\n<!-- /bench:{name} -->"
    pat = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    text = pat.sub(lambda _m: block, text) if pat.search(text) else text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


# --- recipe-comparison benches (bench/audio_source_cv.py, bench/image_recipe_variants.py) ---
# One process per variant writes a JSON result; ``--report`` tabulates them.


def recipe_parser(description: str, variants: list[str], what: str) -> argparse.ArgumentParser:
    """The options every recipe-comparison bench shares (``what``: e.g. "audio", for the help)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--data", type=Path, help=f"training set (labels.jsonl) of the {what} recipe")
    ap.add_argument("--variant", choices=sorted(variants))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, help="override the recipe's epochs (quick checks only)")
    ap.add_argument("--json", type=Path, help="where one run's result goes")
    ap.add_argument("--report", type=Path, nargs="+", help="run JSON files to tabulate")
    ap.add_argument("--out", type=Path, help="Markdown table (with --report)")
    return ap


def read_results(paths: list[Path], prog: str) -> list[dict] | None:
    """Run results from JSON files; None (after saying which file and why on stderr) when one is unreadable."""
    import json
    import sys

    try:
        return [json.loads(p.read_text()) for p in paths]
    except (OSError, ValueError) as e:
        print(f"{prog}: cannot read a result: {e}", file=sys.stderr)
        return None


def emit(text: str, out: Path | None) -> None:
    """Print a report and, when asked, write it to ``out``."""
    if out:
        out.write_text(text)
    print(text)


def run_args_problem(args: argparse.Namespace) -> str | None:
    """Why a recipe bench's run options cannot start a run (None: they can)."""
    if not (args.data and args.variant and args.json):
        return "--data, --variant and --json are needed to run a variant (or --report FILES)"
    if not (args.data / "labels.jsonl").exists():
        return f"no labels.jsonl in {args.data}"
    return None


def run_header(variant: str, changes: dict, seed: int, epochs: int, data: Path, started: float) -> dict:
    """What every recipe bench result names: variant, its changes, seed, epochs, data and wall seconds."""
    return {
        "variant": variant,
        "changes": changes,
        "seed": seed,
        "epochs": int(epochs),
        "data": str(data),
        "seconds": round(time.perf_counter() - started, 1),
    }


def load_detector(name: str, models: Path) -> Any | None:
    """The registered detector ``name`` with its weights from ``models``, or None after saying why
    on stderr (missing weights, unknown name): the analysis benches then exit 2."""
    from detector.base import create_detector
    from detector.errors import DetectorError
    from detector.pipeline import load_plugins

    load_plugins()
    try:
        return create_detector(name, models_dir=models)
    except DetectorError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return None
