"""Training-step speed of the image and audio CNNs: channels-last (what the trainers use) against
the default contiguous layout, same net, same batch, same optimiser step, measured in one run.

    .venv/bin/python bench/train_speed.py [--steps 30] [--threads 1] [--rounds 3]

``make models`` trains each detector in its own process with one torch thread, so one thread is
the default. Rounds alternate the two layouts so load on a shared machine hits both alike; the
table gives the median seconds per step and the ratio. Writes docs/benchmarks/train_speed.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, machine, table  # noqa: E402

OUT_MD = REPO / "docs" / "benchmarks" / "train_speed.md"


def _cases() -> list[tuple[str, Any, Any, str]]:
    """(name, net factory, input batch, shape note) for the three CNNs ``make models`` trains.

    The step is written out here, not taken from the trainers, so that the same step can be run
    in both layouts; it matches ``train_patch_cnn`` / ``train_segment_cnn`` up to the loss head.
    """
    import numpy as np
    import torch

    from detector.audio.cnn import build_net as audio_net
    from detector.audio.features import SEG_FRAMES, features
    from detector.image.residual import build_net as image_net
    from detector.train.image import CONFIGS

    g = torch.Generator().manual_seed(0)
    # Feature rows of the shipped audio front end (the recipe's ``logspec128``).
    bins = features(np.zeros(16000, np.float32), "logspec128").shape[0]
    out = []
    for name in ("image-residual-cnn", "image-npr-cnn"):
        cfg = CONFIGS[name]
        p = int(cfg["patch"])
        x = torch.rand(32, p, p, 3, generator=g) * 255  # (B, H, W, C) as the trainer's patches
        out.append((name, lambda cfg=cfg: image_net(cfg), x, f"32 x 3 x {p} x {p}"))
    xa = torch.randn(64, 1, bins, SEG_FRAMES, generator=g)
    out.append(("audio-lfcc-cnn", lambda: audio_net({"width": 16}), xa, f"64 x 1 x {bins} x {SEG_FRAMES}"))
    return out


def _time_steps(make_net: Any, x: Any, *, channels_last: bool, steps: int) -> float:
    """Seconds per training step (forward, BCE loss, backward, AdamW) after 3 warm-up steps."""
    import torch

    torch.manual_seed(0)
    net = make_net()
    if x.shape[-1] == 3:  # image patches (B, H, W, C) -> (B, C, H, W)
        xb = x.permute(0, 3, 1, 2)  # channels-last strides, as in train_patch_cnn
        if not channels_last:
            xb = xb.contiguous()
    else:
        xb = x.contiguous(memory_format=torch.channels_last) if channels_last else x
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    y = (torch.arange(x.shape[0]) % 2).float()
    for i in range(steps + 3):
        if i == 3:
            t0 = time.perf_counter()
        out = net(xb)
        logit = out.flatten(1).mean(1)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (time.perf_counter() - t0) / steps


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    if args.steps < 1 or args.rounds < 1 or args.threads < 1:
        print("train_speed: --steps, --rounds and --threads must be >= 1", file=sys.stderr)
        return 2
    import torch

    torch.set_num_threads(args.threads)
    rows = []
    for name, make_net, x, shape in _cases():
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.rounds):
            for cl in (False, True):
                times[cl].append(_time_steps(make_net, x, channels_last=cl, steps=args.steps))
        base, fast = statistics.median(times[False]), statistics.median(times[True])
        rows.append([name, shape, round(base * 1000, 1), round(fast * 1000, 1), round(base / fast, 2)])
        print(f"{name}: contiguous {base * 1000:.1f} ms/step, channels-last {fast * 1000:.1f} ms/step, "
              f"{base / fast:.2f}x", flush=True)
    body = (
        "# Training-step speed: channels-last vs contiguous\n\n"
        f"`.venv/bin/python bench/train_speed.py --steps {args.steps} --rounds {args.rounds} --threads "
        f"{args.threads}`: one training step (forward, BCE, backward, AdamW) of each CNN `make models` "
        "trains, in both memory layouts, alternating, median over rounds. The trainers use channels-last.\n\n"
        + table(["net", "batch", "contiguous ms/step", "channels-last ms/step", "speed-up"], rows)
        + f"\n\n_Measured {time.strftime('%Y-%m-%d')} on {machine()}, torch {torch.__version__}, "
        f"{args.threads} thread(s)._\n"
    )
    OUT_MD.parent.mkdir(parents=True, exist_ok=True)
    OUT_MD.write_text(body)
    print(f"wrote {OUT_MD.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
