"""Run every benchmark in bench/ in turn (each writes its section of docs/benchmarks.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Not benchmarks: helpers, and analyses that need an evaluation or training set made first, or take
# most of an hour per run (see their docstrings); run without arguments they would only fail.
SKIP = {
    "__init__.py",
    "common.py",
    "run_all.py",
    "audio_band.py",
    "audio_noise_floor.py",
    "audio_seed_pair.py",
    "image_new_cameras.py",
    "image_lofo.py",
    "audio_calibration.py",
    "audio_source_cv.py",
    "image_recipe_variants.py",
    "image_pair_ensemble.py",
    "audio_voice_threshold.py",
    "text_input_gates.py",
    "audio_threshold_check.py",
    "heatmap_localisation.py",
}

if __name__ == "__main__":
    failed = []
    for script in sorted(HERE.glob("*.py")):
        if script.name in SKIP or script.name.startswith("_"):
            continue
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode != 0:
            failed.append(script.name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")
