"""Helpers for benchmarks: timing, Markdown tables, and writing sections of docs/benchmarks.md."""

from __future__ import annotations

import platform
import re
import time
from pathlib import Path

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
