"""End to end through a real Celery worker on the real Redis (no eager mode)."""

from __future__ import annotations

import io
import json
import shutil

import pytest

from tests.conftest import jpeg_bytes, png_bytes, wav_bytes
from web.app import create_app

pytestmark = pytest.mark.redis


def client_for(worker):
    app = create_app(worker.settings, config={"TESTING": True})
    key = app.extensions["provscan"].store.create_key("live")
    return app, app.test_client(), {"Authorization": f"Bearer {key}"}


def upload(client, auth, data: bytes, name: str) -> str:
    resp = client.post("/api/v1/scans", data={"file": (io.BytesIO(data), name)}, headers=auth,
                       content_type="multipart/form-data")
    assert resp.status_code == 202, resp.get_data(as_text=True)
    return resp.get_json()["id"]


def test_upload_through_flask_is_analysed_by_the_worker(live_worker, c2pa_fixtures) -> None:
    _app, client, auth = client_for(live_worker)
    sid = upload(client, auth, (c2pa_fixtures / "CA.jpg").read_bytes(), "CA.jpg")
    live_worker.wait_scans([sid])
    report = client.get(f"/api/v1/scans/{sid}", headers=auth).get_json()
    assert report["status"] == "done" and report["media_type"] == "image"
    assert report["provenance"]["c2pa"]["state"] == "Valid"
    assert report["verdict"]["label"] == "inconclusive"
    # Same bytes + same model versions: the stored report is reused, not recomputed.
    sid2 = upload(client, auth, (c2pa_fixtures / "CA.jpg").read_bytes(), "copy.jpg")
    live_worker.wait_scans([sid2])
    again = client.get(f"/api/v1/scans/{sid2}", headers=auth).get_json()
    assert again["reused_from"] == sid and again["filename"] == "copy.jpg" and again["id"] == sid2
    assert again["provenance"]["c2pa"] == report["provenance"]["c2pa"]


def test_bad_files_give_error_reports_and_the_worker_survives(live_worker, bad_inputs, rng) -> None:
    _app, client, auth = client_for(live_worker)
    ids = [upload(client, auth, bad_inputs[n], n) for n in ("truncated.jpg", "zero.png")]
    ids.append(upload(client, auth, png_bytes(rng), "fine.png"))
    res = live_worker.wait_scans(ids)
    assert [res[i]["status"] for i in ids] == ["error", "error", "done"]
    assert "truncated" in res[ids[0]]["error"] or "corrupt" in res[ids[0]]["error"]


def test_batch_of_60_files_every_report_stored(live_worker, tmp_path, rng) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    for i in range(60):
        kind = i % 3
        data = png_bytes(rng, (24 + i, 24)) if kind == 0 else jpeg_bytes(rng, (30, 20 + i)) if kind == 1 else \
            wav_bytes(rng, 0.2 + i / 1000)
        (folder / f"f{i:02d}.{['png', 'jpg', 'wav'][kind]}").write_bytes(data)
    settings = live_worker.settings
    from dataclasses import replace

    app = create_app(replace(settings, allowed_roots=(tmp_path.resolve(),)), config={"TESTING": True})
    client = app.test_client()
    auth = {"Authorization": f"Bearer {app.extensions['provscan'].store.create_key('b')}"}
    resp = client.post("/api/v1/batches", data=json.dumps({"path": str(folder)}), headers=auth,
                       content_type="application/json")
    assert resp.status_code == 202, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["total"] == 60
    batch = client.get(body["status_url"], headers=auth).get_json()
    live_worker.wait_scans([s["id"] for s in batch["scans"]], timeout=600)
    batch = client.get(body["status_url"], headers=auth).get_json()
    assert batch["complete"] and batch["counts"]["done"] == 60 and batch["progress"] == 1.0
    for s in batch["scans"]:
        rep = client.get(f"/api/v1/scans/{s['id']}", headers=auth).get_json()
        assert rep["status"] == "done" and rep["verdict"] is not None and rep["detectors"]


@pytest.mark.postgres
def test_postgres_store_with_live_worker(live_worker_pg, c2pa_fixtures, tmp_path) -> None:
    assert live_worker_pg.settings.database_url.startswith("postgresql+psycopg://")
    _app, client, auth = client_for(live_worker_pg)
    names = ["XCA.jpg", "CA.jpg", "sample1_signed.wav"]
    ids = [upload(client, auth, (c2pa_fixtures / n).read_bytes(), n) for n in names]
    res = live_worker_pg.wait_scans(ids)
    states = [res[i]["provenance"]["c2pa"]["state"] for i in ids]
    assert states == ["Invalid", "Valid", "Valid"]
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_dataset_job_through_the_worker(live_worker) -> None:
    import time

    _app, client, auth = client_for(live_worker)
    bad = client.post("/api/v1/datasets", json={"modality": "video", "count": 3}, headers=auth)
    assert bad.status_code == 400 and "modality" in bad.get_json()["error"]["message"]
    assert client.post("/api/v1/datasets", json={"modality": "text", "count": 0}, headers=auth).status_code == 400
    resp = client.post("/api/v1/datasets", json={"modality": "text", "count": 4, "seed": 3,
                                                 "generators": ["text-ngram"]}, headers=auth)
    assert resp.status_code == 202, resp.get_data(as_text=True)
    url = resp.get_json()["status_url"]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        job = client.get(url, headers=auth).get_json()
        if job["status"] in ("done", "error"):
            break
        time.sleep(0.5)
    assert job["status"] == "done", job
    assert job["done"] == 4 and job["progress"] == 1.0
    from pathlib import Path

    labels = (Path(job["out_dir"]) / "labels.jsonl").read_text().splitlines()
    assert len(labels) == 4


def test_dataset_jobs_have_their_own_queue(tmp_path, redis_url, c2pa_fixtures) -> None:
    """A worker on the scans queue only analyses uploads and leaves dataset jobs queued: a long
    dataset never holds up a scan (the embedded mode runs one worker per queue)."""
    import time

    from worker.live import start_worker, stop_worker

    w = start_worker(tmp_path, redis_url, concurrency=1, queues="scans")
    try:
        _app, client, auth = client_for(w)
        job = client.post("/api/v1/datasets", json={"modality": "text", "count": 2, "seed": 1,
                                                    "generators": ["text-ngram"]}, headers=auth)
        assert job.status_code == 202
        sid = upload(client, auth, (c2pa_fixtures / "CA.jpg").read_bytes(), "CA.jpg")
        assert w.wait_scans([sid], timeout=180)[sid]["status"] == "done"
        time.sleep(2)
        assert client.get(job.get_json()["status_url"], headers=auth).get_json()["status"] == "queued"
    finally:
        stop_worker(w)
    assert w.settings.dataset_queue != w.settings.queue


def test_worker_refuses_an_unknown_queue_name() -> None:
    from tests.conftest import run_cli

    out = run_cli("worker", "--queues", "scans,videos")
    assert out.returncode == 2 and "unknown queue 'videos'" in out.stderr
