"""Builders for tests/worker/test_models_cli.py's parallel-build test: a spawned child imports
them by name, so they live in a module, not in the test function."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def prepare(*, seed: int = 0) -> None:
    marker = Path(os.environ["PROVSCAN_DATA_DIR"]) / "prepared"
    marker.parent.mkdir(parents=True, exist_ok=True)
    with marker.open("a") as f:  # one line per call: the test checks it ran once, in the parent
        f.write(f"{os.getpid()}\n")


def write_pid(models_dir: Path, *, seed: int = 0) -> Path:
    # Each model checks the shared data is there: prepare steps must run before any build starts.
    assert (Path(os.environ["PROVSCAN_DATA_DIR"]) / "prepared").exists()
    out = models_dir / "detectors" / f"fake-{uuid.uuid4().hex}-{seed}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(str(os.getpid()))
    return out


def fail(models_dir: Path, *, seed: int = 0) -> Path:
    raise ValueError("no training data")
