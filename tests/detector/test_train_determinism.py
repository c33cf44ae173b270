"""Same seed, same bytes, whatever the core count: weights must be reproducible on any machine."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import sys
from pathlib import Path
from detector.train import train_detector
from detector.train.toy import make_audio_dataset
root = Path(sys.argv[1])
data = make_audio_dataset(root / "data", n_sources=5, per_source=1, seed=0)
train_detector("voice", data, root / "models", seed=0, epochs=1, copies=1, threads=1, front="logspec128")
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2 or not shutil.which("taskset"), reason="needs 2 cores and taskset")
def test_training_writes_the_same_bytes_on_one_core_and_on_all(tmp_path: Path) -> None:
    # The GMM's EM runs on BLAS: without train_detector's one-BLAS-thread rule its weights differed
    # between a 1-core and a 2-core run of the same seed (measured); torch runs on 1 thread.
    digests = []
    for name, prefix in (("one", ["taskset", "-c", "0"]), ("all", [])):
        run = subprocess.run([*prefix, sys.executable, "-c", SCRIPT, str(tmp_path / name)], capture_output=True,
                             text=True, timeout=600, cwd=Path(__file__).resolve().parents[2])
        assert run.returncode == 0, run.stderr[-2000:]
        files = sorted((tmp_path / name / "models" / "detectors").glob("*.pt"))
        assert [f.name for f in files] == ["audio-lfcc-cnn.pt", "audio-lfcc-gmm.pt"]
        digests.append({f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files})
    assert digests[0] == digests[1]
