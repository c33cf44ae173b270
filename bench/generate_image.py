"""Throughput of every image generator at 512x512, against the procedural renderer in the same run.

    python -m bench.generate_image [--n 5] [--size 512] [--sheet docs/contact_sheet_image.png]

Prints items/s per generator and its ratio to ``procedural_scene`` (the peer), writes the figures
as a Markdown section to docs/benchmarks/generate_image.md and a contact sheet PNG (three items per
generator, edit masks outlined in red) to look at.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

import generators.image  # noqa: F401  (registers the families)
from generators.base import create_generator, list_generators
from generators.errors import GeneratorUnavailableError

PEER = "procedural_scene"
PROMPTS = (
    "a sunset over a mountain lake",
    "a foggy pine forest at dawn",
    "a city skyline at night",
    "a snowy mountain range under a clear sky",
    "a wheat field on a cloudy afternoon",
    "a beach at sunrise",
    "autumn hills with trees at sunset",
    "desert dunes at noon",
)
ROOT = Path(__file__).resolve().parent.parent


def _tile(img: np.ndarray, mask: np.ndarray | None, side: int) -> np.ndarray:
    tile = cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA)
    if mask is not None:
        m = cv2.resize(mask.astype(np.uint8), (side, side), interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        tile = np.ascontiguousarray(tile)
        cv2.drawContours(tile, contours, -1, (255, 40, 40), 1, cv2.LINE_AA)
    return tile


def _caption(g) -> str:
    if g.source:  # edits and re-synthesis: which real photo
        return g.source
    if g.generator == "ddpm_32":  # unconditional: the prompt means nothing
        return f"seed {g.seed}"
    return g.prompt or ""


def contact_sheet(
    rows: dict[str, list[tuple[np.ndarray, np.ndarray | None, str]]], path: Path, *, side: int = 256
) -> Path:
    """Grid: one row per generator (name on the left), its items as tiles with a caption."""
    label_w = 170
    cols = max(len(v) for v in rows.values())
    sheet = np.full((len(rows) * side, label_w + cols * side, 3), 24, np.uint8)
    for r, (name, items) in enumerate(rows.items()):
        cv2.putText(
            sheet,
            name,
            (8, r * side + side // 2),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.6,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
        for c, (img, mask, caption) in enumerate(items):
            tile = _tile(img, mask, side)
            cv2.putText(
                tile, caption[:40], (4, side - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.36, (0, 0, 0), 2, cv2.LINE_AA
            )
            cv2.putText(
                tile,
                caption[:40],
                (4, side - 6),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.36,
                (255, 255, 255),
                1,
                cv2.LINE_AA,
            )
            sheet[r * side : (r + 1) * side, label_w + c * side : label_w + (c + 1) * side] = tile
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5, help="timed items per generator (after one warm-up)")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / "generate_image.md")
    ap.add_argument("--sheet", type=Path, default=ROOT / "docs" / "contact_sheet_image.png")
    ap.add_argument("--sheet-items", type=int, default=3)
    args = ap.parse_args(argv)

    names = list_generators(modality="image")
    names = [PEER] + [n for n in names if n != PEER]
    rates: dict[str, float] = {}
    skipped: dict[str, str] = {}
    rows: dict[str, list[tuple[np.ndarray, np.ndarray | None, str]]] = {}
    for name in tqdm(names, desc="generators", file=sys.stderr):
        try:
            gen = create_generator(name)
        except GeneratorUnavailableError as exc:
            skipped[name] = str(exc)
            print(f"{name}: skipped ({exc})", file=sys.stderr)
            continue
        gen.generate(PROMPTS[0], seed=10_000, size=args.size)  # warm-up: weights, caches
        items = []
        t0 = time.perf_counter()
        for i in range(args.n):
            items.append(gen.generate(PROMPTS[i % len(PROMPTS)], seed=i, size=args.size))
        rates[name] = args.n / (time.perf_counter() - t0)
        rows[name] = [(g.data, g.mask, _caption(g)) for g in items[: args.sheet_items]]

    peer = rates.get(PEER)
    lines = [
        "## Image generators (generate_image)",
        "",
        f"`python -m bench.generate_image --n {args.n} --size {args.size}` on {platform.machine()}, "
        f"{os.cpu_count()} CPUs shared with other work, torch {torch.__version__} (learned generators "
        "run with 1 intra-op thread, their default). "
        f"Peer: `{PEER}` measured in the same run; ratio = items/s / peer items/s.",
        "",
        f"| generator | items/s at {args.size}x{args.size} | s/item | ratio vs {PEER} |",
        "|---|---:|---:|---:|",
    ]
    print(f"{'generator':<18} {'items/s':>9} {'s/item':>8} {'ratio':>7}")
    for name, rate in rates.items():
        ratio = rate / peer if peer else float("nan")
        print(f"{name:<18} {rate:9.2f} {1 / rate:8.3f} {ratio:7.2f}")
        lines.append(f"| {name} | {rate:.2f} | {1 / rate:.3f} | {ratio:.2f} |")
    for name, why in skipped.items():
        lines.append(f"| {name} | skipped: {why} | | |")
    lines.append("")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    if rows and args.sheet_items > 0:
        print(f"contact sheet: {contact_sheet(rows, args.sheet)}")
    print(f"figures: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
