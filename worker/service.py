"""Service logic shared by the API, the CLI and the tasks: submit, batch, run, read.

Nothing here imports the analysis code at module level: the web process uses the submit/read
half and must stay free of torch; ``run_scan`` imports the pipeline inside its body.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select

from detector.errors import UnsupportedMediaError
from detector.media import sniff_file
from detector.settings import Settings
from worker.blobs import BlobStore, BlobTooLarge, EmptyBlob
from worker.store import Batch, Scan, Store, get_store, utcnow

MAX_ATTEMPTS = 3


class ServiceError(Exception):
    """A request the service refuses; ``code`` and ``http_status`` go into the JSON error body."""

    def __init__(self, code: str, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.http_status = code, message, http_status


@dataclass(frozen=True)
class Context:
    settings: Settings
    store: Store
    blobs: BlobStore

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        return cls(settings, get_store(settings.database_url), BlobStore(settings.media_root))


# --- submitting ---------------------------------------------------------------------------


def _sniff_blob(path: Path) -> str:
    media_type, _mime = sniff_file(path)
    return media_type


def submit_stream(
    ctx: Context,
    stream: BinaryIO,
    filename: str,
    *,
    batch_id: str | None = None,
    api_key_id: int | None = None,
    strict: bool = True,
    relative_name: bool = False,
) -> Scan:
    """Store an upload and create its queued Scan row.

    With ``strict`` (single uploads), empty, over-size and unsupported files are refused with a
    ServiceError (→ 4xx). Without it (batches), they become Scan rows with status "error", so a
    batch report accounts for every file.
    """
    # Client-supplied names are display-only; keep folder-relative names from our own walks.
    filename = (filename if relative_name else os.path.basename(filename or "")) or "upload"
    try:
        sha, size, path = ctx.blobs.put_stream(stream, max_bytes=ctx.settings.max_upload_bytes)
    except BlobTooLarge as exc:
        if strict:
            raise ServiceError("file_too_large", str(exc), 413) from None
        return _error_scan(ctx, filename, str(exc), batch_id, api_key_id)
    except EmptyBlob:
        if strict:
            raise ServiceError("empty_file", "the uploaded file is empty", 400) from None
        return _error_scan(ctx, filename, "empty file", batch_id, api_key_id)
    try:
        media_type = _sniff_blob(path)
    except UnsupportedMediaError as exc:
        if strict:
            raise ServiceError("unsupported_media_type", str(exc), 415) from None
        return _error_scan(ctx, filename, str(exc), batch_id, api_key_id, sha=sha, size=size)
    with ctx.store.session() as s:
        scan = Scan(
            sha256=sha,
            filename=filename,
            size=size,
            media_type=media_type,
            blob_path=str(path),
            status="queued",
            batch_id=batch_id,
            api_key_id=api_key_id,
        )
        s.add(scan)
    return scan


def _error_scan(
    ctx: Context,
    filename: str,
    message: str,
    batch_id: str | None,
    api_key_id: int | None,
    *,
    sha: str = "",
    size: int = 0,
) -> Scan:
    with ctx.store.session() as s:
        scan = Scan(sha256=sha, filename=filename, size=size, status="error", error=message,
                    batch_id=batch_id, api_key_id=api_key_id, finished_at=utcnow())
        s.add(scan)
        s.flush()
        scan.report_json = json.dumps(_error_report(scan, message))
    return scan


def _error_report(scan: Scan, message: str) -> dict[str, Any]:
    return {
        "id": scan.id, "sha256": scan.sha256, "filename": scan.filename, "media_type": scan.media_type,
        "status": "error", "error": message, "verdict": None, "provenance": {}, "detectors": [],
        "models": {}, "created_at": (scan.created_at or utcnow()).isoformat(timespec="seconds") + "+00:00",
    }


def resolve_in_roots(raw: str, roots: tuple[Path, ...]) -> Path:
    """Resolve a user-given folder path and check it lies inside an allowed root.

    Symlinks are resolved before the check, so a link pointing out of the root is refused.
    """
    if not roots:
        raise ServiceError("path_scans_disabled",
                           "folder scans are disabled: set PROVSCAN_ALLOWED_ROOTS to the folders users may scan", 403)
    if not raw or "\x00" in raw:
        raise ServiceError("invalid_path", "path must be a non-empty string", 400)
    candidate = Path(raw)
    if not candidate.is_absolute():
        candidate = roots[0] / candidate
    resolved = candidate.resolve()
    for root in roots:
        if resolved == root or root in resolved.parents:
            if not resolved.exists():
                raise ServiceError("not_found", f"path does not exist: {raw}", 404)
            return resolved
    raise ServiceError("path_not_allowed", "path is outside the allowed roots", 403)


def iter_files(folder: Path, roots: tuple[Path, ...] | None = None) -> Iterator[Path]:
    """Regular files under ``folder`` (sorted, recursive), skipping links that leave the roots."""
    if folder.is_file():
        yield folder
        return
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if roots is not None:
                real = p.resolve()
                if not any(real == r or r in real.parents for r in roots):
                    continue  # a symlink out of the root: never read it
            if p.is_file():
                yield p


def create_batch_from_path(ctx: Context, raw_path: str, *, api_key_id: int | None = None) -> tuple[Batch, list[Scan]]:
    folder = resolve_in_roots(raw_path, ctx.settings.allowed_roots)
    files = list(iter_files(folder, ctx.settings.allowed_roots))
    if not files:
        raise ServiceError("empty_batch", "the folder contains no files", 400)
    with ctx.store.session() as s:
        batch = Batch(source="path", path=str(folder), api_key_id=api_key_id)
        s.add(batch)
    scans = []
    for p in files:
        rel = str(p.relative_to(folder)) if p != folder else p.name
        try:
            with open(p, "rb") as f:
                scans.append(submit_stream(ctx, f, rel, batch_id=batch.id, api_key_id=api_key_id, strict=False,
                                           relative_name=True))
        except OSError as exc:
            scans.append(_error_scan(ctx, rel, f"cannot read file: {exc.strerror or exc}", batch.id, api_key_id))
    with ctx.store.session() as s:
        b = s.get(Batch, batch.id)
        b.total = len(scans)
        batch = b
    return batch, scans


def create_batch_from_uploads(
    ctx: Context, files: list[tuple[BinaryIO, str]], *, api_key_id: int | None = None
) -> tuple[Batch, list[Scan]]:
    if not files:
        raise ServiceError("no_files", "send a JSON body {\"path\": ...} or one or more multipart 'files'", 400)
    with ctx.store.session() as s:
        batch = Batch(source="upload", total=len(files), api_key_id=api_key_id)
        s.add(batch)
    scans = [submit_stream(ctx, f, name, batch_id=batch.id, api_key_id=api_key_id, strict=False) for f, name in files]
    return batch, scans


# --- running --------------------------------------------------------------------------------


def mark_error(settings: Settings, scan_id: str, message: str) -> None:
    store = get_store(settings.database_url)
    with store.session() as s:
        scan = s.get(Scan, scan_id)
        if scan is None or scan.status == "done":
            return
        scan.status, scan.error, scan.finished_at = "error", message, utcnow()
        scan.report_json = json.dumps(_error_report(scan, message))


def run_scan(settings: Settings, scan_id: str) -> str:
    """Analyse one stored scan (idempotent); returns the final status.

    A scan already done is left alone (acks_late may deliver a task twice). A finished report
    for the same bytes and the same model versions is reused instead of recomputed.
    """
    from detector.pipeline import analyze, model_versions, models_key

    store = get_store(settings.database_url)
    with store.session() as s:
        scan = s.get(Scan, scan_id)
        if scan is None:
            return "missing"
        if scan.status in ("done", "error") and scan.report_json:
            return scan.status
        scan.attempts += 1
        if scan.attempts > MAX_ATTEMPTS:
            # Redelivered after crashing the worker MAX_ATTEMPTS times: a poison file.
            msg = f"analysis crashed {MAX_ATTEMPTS} times; giving up on this file"
            scan.status, scan.error, scan.finished_at = "error", msg, utcnow()
            scan.report_json = json.dumps(_error_report(scan, msg))
            return "error"
        scan.status, scan.started_at = "running", utcnow()
        sha, media_type, blob_path, filename = scan.sha256, scan.media_type, scan.blob_path, scan.filename

    key = models_key(model_versions(settings, media_type))
    with store.session() as s:
        prev = s.scalars(
            select(Scan).where(Scan.sha256 == sha, Scan.models_key == key, Scan.status == "done", Scan.id != scan_id).limit(1)
        ).first()
        prev_report = prev.report if prev else None
    if prev_report is not None:
        report = dict(prev_report, id=scan_id, filename=filename)
        report["reused_from"] = prev.id
    else:
        report = analyze(blob_path, filename=filename, sha256=sha, scan_id=scan_id, settings=settings).to_dict()

    with store.session() as s:
        scan = s.get(Scan, scan_id)
        scan.status = report["status"]
        scan.error = report.get("error")
        scan.media_type = report.get("media_type") or scan.media_type
        verdict = report.get("verdict") or {}
        scan.verdict_label, scan.verdict_score = verdict.get("label"), verdict.get("score")
        scan.models_key = key
        scan.report_json = json.dumps(report)
        scan.finished_at = utcnow()
        return scan.status


# --- reading --------------------------------------------------------------------------------


def scan_view(scan: Scan) -> dict[str, Any]:
    """The Report contract for a scan in any state."""
    if scan.report_json:
        return json.loads(scan.report_json)
    return {
        "id": scan.id, "sha256": scan.sha256, "filename": scan.filename, "media_type": scan.media_type,
        "status": scan.status, "error": scan.error, "verdict": None, "provenance": {}, "detectors": [],
        "models": {}, "created_at": scan.created_at.isoformat(timespec="seconds") + "+00:00",
    }


def batch_view(ctx: Context, batch_id: str) -> dict[str, Any] | None:
    with ctx.store.session() as s:
        batch = s.get(Batch, batch_id)
        if batch is None:
            return None
        rows = s.execute(
            select(Scan.id, Scan.filename, Scan.status, Scan.verdict_label).where(Scan.batch_id == batch_id).order_by(Scan.created_at, Scan.filename)
        ).all()
    counts = {"queued": 0, "running": 0, "done": 0, "error": 0}
    labels: dict[str, int] = {}
    for _id, _fn, status, label in rows:
        counts[status] = counts.get(status, 0) + 1
        if label:
            labels[label] = labels.get(label, 0) + 1
    finished = counts["done"] + counts["error"]
    return {
        "id": batch.id,
        "source": batch.source,
        "path": batch.path,
        "total": len(rows),
        "counts": counts,
        "verdicts": labels,
        "complete": finished == len(rows),
        "progress": round(finished / len(rows), 4) if rows else 1.0,
        "scans": [{"id": i, "filename": fn, "status": st, "label": lb} for i, fn, st, lb in rows],
        "created_at": batch.created_at.isoformat(timespec="seconds") + "+00:00",
    }
