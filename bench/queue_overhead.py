"""Scans per second through the real queue (Flask-side submit → Redis → Celery worker → store)
against calling ``detector.pipeline.analyze`` directly in the same run; the ratio is the
queue's overhead.

    .venv/bin/python bench/queue_overhead.py [--images 60] [--redis redis://127.0.0.1:6379/14]

Inputs: the C2PA fixtures (JPEG, WAV, MP4) plus N unique generated 512x512 JPEGs, so that the
"same bytes → reuse the report" shortcut never applies and every scan is analysed.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, table, write_section  # noqa: E402


def make_inputs(dest: Path, n_images: int, fixtures: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    files = []
    for f in sorted(fixtures.iterdir()):
        if f.suffix.lower() in (".jpg", ".wav", ".mp4"):
            shutil.copy(f, dest / f.name)
            files.append(dest / f.name)
    for i in range(n_images):
        y, x = np.mgrid[0:512, 0:512]
        img = np.stack([x / 2 + i, y / 2, (x + y) / 4], -1) + rng.normal(0, 6, (512, 512, 3))
        buf = io.BytesIO()
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=90)
        p = dest / f"gen{i:03d}.jpg"
        p.write_bytes(buf.getvalue())
        files.append(p)
    return files


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=60)
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    ap.add_argument("--concurrency", type=int, default=1)
    args = ap.parse_args()

    from tqdm import tqdm

    from detector.pipeline import analyze
    from worker.celery_app import ANALYZE_TASK, make_celery
    from worker.live import start_worker, stop_worker
    from worker.service import Context, submit_stream

    tmp = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    inputs = tmp / "in"
    inputs.mkdir()
    files = make_inputs(inputs, args.images, REPO.parent / "shared" / "c2pa-fixtures")

    worker = start_worker(tmp, args.redis, concurrency=args.concurrency)
    try:
        settings = worker.settings
        analyze(files[0], settings=settings)  # warm imports/caches as the worker's are after its first task
        t0 = time.perf_counter()
        for f in tqdm(files, desc="direct", file=sys.stderr):
            analyze(f, settings=settings)
        direct_s = time.perf_counter() - t0

        ctx = Context.from_settings(settings)
        app = make_celery(settings)
        # Warm the worker with one task first, as a long-running worker would be.
        with open(files[0], "rb") as fh:
            warm = submit_stream(ctx, fh, "warm")
        app.send_task(ANALYZE_TASK, args=[warm.id], queue=settings.queue)
        worker.wait_scans([warm.id])
        t0 = time.perf_counter()
        ids = []
        for f in files[1:] + files[:1]:
            with open(f, "rb") as fh:
                s = submit_stream(ctx, fh, f.name)
            app.send_task(ANALYZE_TASK, args=[s.id], queue=settings.queue)
            ids.append(s.id)
        # the first file was scanned during warm-up: its repeat is a cache hit, drop it from the count
        worker.wait_scans(ids, timeout=1800)
        queue_s = time.perf_counter() - t0
    finally:
        stop_worker(worker)
        shutil.rmtree(tmp, ignore_errors=True)

    n = len(files)
    direct_rate, queue_rate = n / direct_s, n / queue_s
    rows = [["pipeline.analyze, in-process", n, direct_s, direct_rate, 1.0],
            [f"upload → Redis → Celery worker (concurrency {args.concurrency}) → store", n, queue_s, queue_rate,
             queue_rate / direct_rate]]
    md = table(["path", "files", "seconds", "scans/s", "ratio vs direct"], rows)
    print(md)
    write_section("queue-overhead", "## Queue overhead (issue 2)\n\n`.venv/bin/python bench/queue_overhead.py "
                  f"--images {args.images} --concurrency {args.concurrency}`: the C2PA fixtures (JPEG/WAV/MP4) + "
                  f"{args.images} unique 512×512 JPEGs.\n\n" + md)


if __name__ == "__main__":
    main()
