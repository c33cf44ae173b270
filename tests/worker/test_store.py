"""The store on both backends: SQLite (default) and the real PostgreSQL."""

from __future__ import annotations

import io
import json

import pytest

from tests.conftest import make_settings, png_bytes
from worker.service import Context, ServiceError, batch_view, run_scan, scan_view, submit_stream


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ctx(request, tmp_path) -> Context:
    env = {}
    if request.param == "postgres":
        env["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    return Context.from_settings(make_settings(tmp_path, **env))


def test_submit_run_and_read(ctx, rng) -> None:
    scan = submit_stream(ctx, io.BytesIO(png_bytes(rng)), "../../etc/passwd.png")
    assert scan.filename == "passwd.png"  # client paths are display names, never paths
    assert scan.status == "queued" and ctx.blobs.exists(scan.sha256)
    assert run_scan(ctx.settings, scan.id) == "done"
    assert run_scan(ctx.settings, scan.id) == "done"  # redelivery is a no-op
    row = ctx.store.get_scan(scan.id)
    report = scan_view(row)
    assert report["status"] == "done" and row.verdict_label == report["verdict"]["label"]
    assert row.attempts == 1 and row.models_key


def test_strict_and_lenient_rejections(ctx) -> None:
    with pytest.raises(ServiceError) as exc:
        submit_stream(ctx, io.BytesIO(b""), "e.png")
    assert exc.value.http_status == 400
    with pytest.raises(ServiceError) as exc:
        submit_stream(ctx, io.BytesIO(b"\x00\x01" * 100), "r.png")
    assert exc.value.http_status == 415
    lenient = submit_stream(ctx, io.BytesIO(b""), "e.png", strict=False)
    assert lenient.status == "error" and json.loads(lenient.report_json)["error"] == "empty file"


def test_poison_file_gives_up_after_max_attempts(ctx, rng) -> None:
    from worker.service import MAX_ATTEMPTS
    from worker.store import Scan

    scan = submit_stream(ctx, io.BytesIO(png_bytes(rng)), "p.png")
    with ctx.store.session() as s:
        row = s.get(Scan, scan.id)
        row.attempts, row.status = MAX_ATTEMPTS, "running"  # as if it crashed the worker 3 times
    assert run_scan(ctx.settings, scan.id) == "error"
    assert "giving up" in ctx.store.get_scan(scan.id).error


def test_batch_counts_come_from_the_store(ctx, rng) -> None:
    from worker.service import create_batch_from_uploads

    batch, scans = create_batch_from_uploads(ctx, [(io.BytesIO(png_bytes(rng)), f"{i}.png") for i in range(3)])
    run_scan(ctx.settings, scans[0].id)
    view = batch_view(ctx, batch.id)
    assert view["counts"] == {"queued": 2, "running": 0, "done": 1, "error": 0}
    assert view["progress"] == pytest.approx(1 / 3, abs=1e-3) and not view["complete"]


def test_api_keys(ctx) -> None:
    key = ctx.store.create_key("ops")
    assert ctx.store.check_key(key).name == "ops"
    assert ctx.store.check_key(key + "x") is None and ctx.store.check_key("") is None
    with pytest.raises(ValueError):
        ctx.store.create_key(" ")
