"""CLI that builds the neural vocoder's weights: ``python -m generators.voice.train_vocoder``.

A separate module (not ``python -m generators.voice.neural``) so that the registering module is
imported once, not a second time as ``__main__``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m generators.voice.train_vocoder [--out DIR] [--minutes M] [--seed S] [--data DIR]``."""
    ap = argparse.ArgumentParser(description="Train provscan's neural vocoder on the real speech clips.")
    ap.add_argument("--out", default=None, help="output folder (default: $PROVSCAN_MODELS_DIR/generators)")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--data", default=None, help="folder of real speech clips (default: found on this machine)"
    )
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument(
        "--threads", type=int, default=1, help="torch threads (1 is fastest on a busy 2-core box)"
    )
    args = ap.parse_args(argv)
    from generators.voice.neural import train_neural_vocoder

    path = train_neural_vocoder(
        args.out, seed=args.seed, minutes=args.minutes, data=args.data, steps=args.steps
    )
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
