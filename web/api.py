"""The HTTP API (/api/v1): JSON in and out, API key in ``Authorization: Bearer KEY``."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, url_for
from sqlalchemy import select, text

from web.errors import json_error
from web.media import media_response
from web.reviews import parse_queue_args, queue_view, save_review, scan_with_review
from worker.service import (
    Context,
    ServiceError,
    batch_view,
    create_batch_from_path,
    create_batch_from_uploads,
    mark_error,
    submit_stream,
)
from worker.store import Scan

log = logging.getLogger(__name__)
api = Blueprint("api", __name__)


def ctx() -> Context:
    return current_app.extensions["provscan"]


def require_key(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        key = header[7:].strip() if header.lower().startswith("bearer ") else None
        if not key:
            return json_error("unauthorized", "missing API key: send 'Authorization: Bearer KEY' "
                              "(create one with `provscan keys create NAME`)", 401)
        row = ctx().store.check_key(key)
        if row is None:
            return json_error("unauthorized", "invalid or revoked API key", 401)
        g.api_key_id = row.id
        g.api_key_name = row.name  # the default reviewer name for reviews made with this key
        return fn(*args, **kwargs)

    return wrapper


@api.errorhandler(ServiceError)
def _service_error(exc: ServiceError):  # noqa: ANN202
    return json_error(exc.code, exc.message, exc.http_status)


def _enqueue(scan_ids: list[str]) -> None:
    enq = current_app.extensions["provscan.enqueuer"]
    for i, sid in enumerate(scan_ids):
        try:
            enq.enqueue(sid)
        except Exception as exc:  # broker down: no scan may sit "queued" forever
            log.exception("enqueue failed")
            for rest in scan_ids[i:]:
                mark_error(ctx().settings, rest, "the task queue is unavailable; resubmit the file later")
            raise ServiceError("queue_unavailable", f"the task queue is unavailable: {exc}", 503) from None


@api.get("/healthz")
def healthz():  # noqa: ANN201
    c = ctx()
    body: dict[str, Any] = {"status": "ok", "version": "0.1.0", "embedded_worker": c.settings.embedded}
    try:
        with c.store.session() as s:
            s.execute(text("SELECT 1"))
        body["database"] = "ok"
    except Exception as exc:
        body.update(status="degraded", database=f"error: {type(exc).__name__}")
    if c.settings.redis_url:
        try:
            import redis

            redis.Redis.from_url(c.settings.redis_url, socket_connect_timeout=2).ping()
            body["queue"] = "ok"
        except Exception as exc:
            body.update(status="degraded", queue=f"error: {type(exc).__name__}")
    else:
        body["queue"] = "embedded"
    return jsonify(body), 200 if body["status"] == "ok" else 503


@api.get("/openapi.json")
@require_key
def openapi():  # noqa: ANN201
    from web.openapi import spec

    return jsonify(spec(server_url=request.host_url.rstrip("/") + "/api/v1"))


@api.post("/scans")
@require_key
def create_scan():  # noqa: ANN201
    f = request.files.get("file")
    if f is None:
        return json_error("no_file", "send the media as multipart/form-data field 'file'", 400)
    scan = submit_stream(ctx(), f.stream, f.filename or "upload", api_key_id=g.api_key_id)
    _enqueue([scan.id])
    return jsonify({"id": scan.id, "status": "queued", "sha256": scan.sha256,
                    "status_url": url_for("api.get_scan", scan_id=scan.id)}), 202


@api.get("/scans/<scan_id>")
@require_key
def get_scan(scan_id: str):  # noqa: ANN201
    scan = ctx().store.get_scan(scan_id)
    if scan is None:
        return json_error("not_found", f"no scan with id {scan_id}", 404)
    return jsonify(scan_with_review(ctx().store, scan))


@api.get("/scans/<scan_id>/media")
@require_key
def get_scan_media(scan_id: str):  # noqa: ANN201
    return media_response(ctx(), scan_id)


@api.post("/scans/<scan_id>/review")
@require_key
def create_review(scan_id: str):  # noqa: ANN201
    review = save_review(ctx().store, scan_id, request.get_json(silent=True), g.api_key_name)
    return jsonify(review), 201


@api.get("/reviews/queue")
@require_key
def review_queue():  # noqa: ANN201
    return jsonify(queue_view(ctx().store, parse_queue_args(request.args)))


@api.get("/scans")
@require_key
def list_scans():  # noqa: ANN201
    try:
        limit = min(max(int(request.args.get("limit", 50)), 1), 500)
        offset = max(int(request.args.get("offset", 0)), 0)
    except ValueError:
        return json_error("bad_request", "limit and offset must be integers", 400)
    q = select(Scan).order_by(Scan.created_at.desc(), Scan.id)
    if status := request.args.get("status"):
        q = q.where(Scan.status == status)
    if label := request.args.get("label"):
        q = q.where(Scan.verdict_label == label)
    with ctx().store.session() as s:
        rows = s.scalars(q.limit(limit).offset(offset)).all()
    items = [{"id": r.id, "filename": r.filename, "sha256": r.sha256, "media_type": r.media_type,
              "status": r.status, "label": r.verdict_label, "score": r.verdict_score,
              "batch_id": r.batch_id, "created_at": r.created_at.isoformat(timespec="seconds") + "+00:00"}
             for r in rows]
    return jsonify({"items": items, "limit": limit, "offset": offset})


@api.post("/batches")
@require_key
def create_batch():  # noqa: ANN201
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("path"), str):
            return json_error("bad_request", "JSON body must be {\"path\": \"folder inside an allowed root\"}", 400)
        batch, scans = create_batch_from_path(ctx(), body["path"], api_key_id=g.api_key_id)
    else:
        files = [(f.stream, f.filename or "upload") for f in request.files.getlist("files")]
        batch, scans = create_batch_from_uploads(ctx(), files, api_key_id=g.api_key_id)
    _enqueue([s.id for s in scans if s.status == "queued"])
    return jsonify({"id": batch.id, "total": len(scans), "status_url": url_for("api.get_batch", batch_id=batch.id)}), 202


@api.get("/batches/<batch_id>")
@require_key
def get_batch(batch_id: str):  # noqa: ANN201
    view = batch_view(ctx(), batch_id)
    if view is None:
        return json_error("not_found", f"no batch with id {batch_id}", 404)
    return jsonify(view)


@api.post("/datasets")
@require_key
def create_dataset():  # noqa: ANN201
    from worker.datasets import create_job, validate_request

    opts = validate_request(request.get_json(silent=True))
    job = create_job(ctx(), opts, api_key_id=g.api_key_id)
    try:
        current_app.extensions["provscan.enqueuer"].enqueue_dataset(job.id)
    except Exception as exc:
        raise ServiceError("queue_unavailable", f"the task queue is unavailable: {exc}", 503) from None
    return jsonify({"id": job.id, "status": "queued", "status_url": url_for("api.get_dataset", job_id=job.id)}), 202


@api.get("/datasets/<job_id>")
@require_key
def get_dataset(job_id: str):  # noqa: ANN201
    from worker.datasets import job_view
    from worker.store import DatasetJob

    with ctx().store.session() as s:
        job = s.get(DatasetJob, job_id)
    if job is None:
        return json_error("not_found", f"no dataset job with id {job_id}", 404)
    return jsonify(job_view(job))
