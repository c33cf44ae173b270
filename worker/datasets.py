"""Dataset generation jobs requested through the API (`POST /api/v1/datasets`).

The job row holds the options and the progress; the Celery task calls ``run_dataset_job`` which
calls ``generators.dataset.generate_dataset`` (the same function as `provscan generate`).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, is_dataclass
from typing import Any

from detector.settings import Settings
from worker.service import Context, ServiceError
from worker.store import DatasetJob, get_store, utcnow

MODALITIES = ("text", "image", "voice")
MAX_COUNT = 100_000
PROGRESS_EVERY_S = 1.0


def validate_request(body: Any) -> dict[str, Any]:
    """Check a JSON request body; returns the normalised options or raises ServiceError (400)."""
    if not isinstance(body, dict):
        raise ServiceError("bad_request", "JSON body must be an object", 400)
    modality = body.get("modality")
    if modality not in MODALITIES:
        raise ServiceError("bad_request", f"modality must be one of {', '.join(MODALITIES)}", 400)
    count = body.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_COUNT:
        raise ServiceError("bad_request", f"count must be an integer from 1 to {MAX_COUNT}", 400)
    seed = body.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ServiceError("bad_request", "seed must be a non-negative integer", 400)
    gens = body.get("generators")
    if gens is not None and (not isinstance(gens, list) or not all(isinstance(g, str) for g in gens)):
        raise ServiceError("bad_request", "generators must be a list of generator names", 400)
    ratio = body.get("real_ratio", 0.0)
    if not isinstance(ratio, int | float) or isinstance(ratio, bool) or not 0 <= ratio < 1:
        raise ServiceError("bad_request", "real_ratio must be a number in [0, 1)", 400)
    opts = {"modality": modality, "count": count, "seed": seed, "generators": gens,
            "watermark": bool(body.get("watermark", True)), "c2pa": bool(body.get("c2pa", True)),
            "real_ratio": float(ratio)}
    unknown = set(body) - set(opts)
    if unknown:
        raise ServiceError("bad_request", f"unknown fields: {', '.join(sorted(unknown))}", 400)
    return opts


def create_job(ctx: Context, opts: dict[str, Any], *, api_key_id: int | None = None) -> DatasetJob:
    with ctx.store.session() as s:
        job = DatasetJob(modality=opts["modality"], count=opts["count"], options_json=json.dumps(opts),
                         out_dir="", api_key_id=api_key_id)
        s.add(job)
        s.flush()
        job.out_dir = str(ctx.settings.data_dir / "datasets" / job.id)
    return job


def job_view(job: DatasetJob) -> dict[str, Any]:
    return {
        "id": job.id, "status": job.status, "modality": job.modality, "count": job.count, "done": job.done,
        "progress": round(job.done / job.count, 4) if job.count else 1.0, "error": job.error,
        "out_dir": job.out_dir, "options": json.loads(job.options_json),
        "summary": json.loads(job.summary_json) if job.summary_json else None,
        "created_at": job.created_at.isoformat(timespec="seconds") + "+00:00",
    }


def run_dataset_job(settings: Settings, job_id: str) -> str:
    from pathlib import Path

    from generators.dataset import generate_dataset
    from generators.errors import GeneratorError

    store = get_store(settings.database_url)
    with store.session() as s:
        job = s.get(DatasetJob, job_id)
        if job is None:
            return "missing"
        if job.status == "done":
            return "done"
        job.status = "running"
        opts = json.loads(job.options_json)
        out_dir = Path(job.out_dir)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY_S and done < total:
            return
        last[0] = now
        with store.session() as s2:
            s2.get(DatasetJob, job_id).done = done

    try:
        summary = generate_dataset(
            modality=opts["modality"], count=opts["count"], out=out_dir, seed=opts["seed"],
            generators=opts["generators"], watermark=opts["watermark"], c2pa=opts["c2pa"],
            real_ratio=opts["real_ratio"], settings=settings, progress=False, on_progress=progress,
        )
    except GeneratorError as exc:
        with store.session() as s:
            j = s.get(DatasetJob, job_id)
            j.status, j.error, j.finished_at = "error", str(exc), utcnow()
        return "error"
    with store.session() as s:
        j = s.get(DatasetJob, job_id)
        j.status = "error" if summary.failed and not summary.made and not summary.resumed else "done"
        j.done = summary.made + summary.resumed
        j.summary_json = json.dumps(asdict(summary) if is_dataclass(summary) else summary, default=str)
        if summary.failed:
            j.error = f"{len(summary.failed)} item(s) failed; first: {summary.failed[0][2]}"
        j.finished_at = utcnow()
        return j.status
