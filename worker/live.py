"""A real Celery worker as a child process, ready when it answers a ping: for the integration
tests and for bench/queue_overhead.py, which both need the production task path end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from detector.settings import Settings

REPO = Path(__file__).resolve().parents[1]


@dataclass
class LiveWorker:
    settings: Settings
    env: dict[str, str]
    proc: subprocess.Popen
    log: Path

    def wait_scans(self, scan_ids: list[str], timeout: float = 240.0) -> dict[str, dict]:
        from worker.service import scan_view
        from worker.store import get_store

        store = get_store(self.settings.database_url)
        deadline = time.monotonic() + timeout
        done: dict[str, dict] = {}
        while time.monotonic() < deadline:
            for sid in scan_ids:
                if sid in done:
                    continue
                scan = store.get_scan(sid)
                if scan is not None and scan.status in ("done", "error"):
                    done[sid] = scan_view(scan)
            if len(done) == len(scan_ids):
                return done
            if self.proc.poll() is not None:
                raise RuntimeError("worker died:\n" + self.log.read_text()[-3000:])
            time.sleep(0.2)
        raise TimeoutError(f"{len(scan_ids) - len(done)} scans not finished in {timeout}s:\n" + self.log.read_text()[-3000:])


def start_worker(
    tmp: Path,
    redis_url: str,
    database_url: str | None = None,
    concurrency: int = 2,
    queues: str = "scans,datasets",
) -> LiveWorker:
    queue = f"provscan-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PROVSCAN_DATA_DIR": str(tmp / "data"),
        "REDIS_URL": redis_url,
        "PROVSCAN_QUEUE": queue,
        "PYTHONPATH": str(REPO),
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    log = tmp / "worker.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "worker", "--concurrency", str(concurrency), "--loglevel", "INFO",
         "--hostname", f"{queue}@localhost", "--queues", queues],
        env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT, cwd=str(REPO),
    )
    settings = Settings.from_env(env)
    # Ready when the worker answers a broadcast ping.
    from worker.celery_app import make_celery

    app = make_celery(settings)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("worker exited:\n" + log.read_text()[-3000:])
        if app.control.ping(destination=[f"{queue}@localhost"], timeout=1.0):
            break
    else:
        proc.terminate()
        raise RuntimeError("worker did not become ready:\n" + log.read_text()[-3000:])
    return LiveWorker(settings, env, proc, log)


def stop_worker(w: LiveWorker) -> None:
    w.proc.terminate()
    try:
        w.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        w.proc.kill()
