"""`provscan serve` as `make run` starts it: the embedded worker is supervised, and a dead broker
gives a clear 503 instead of scans stuck in "queued"."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time

from tests.conftest import free_port, make_settings, png_bytes, run_cli
from web.app import create_app


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_embedded_worker_is_restarted_after_a_crash(served, c2pa_fixtures) -> None:
    kids = _children(served["proc"].pid)
    assert len(kids) == 2, "provscan serve should start one embedded worker for scans and one for datasets"
    for k in kids:
        os.kill(k, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (set(_children(served["proc"].pid)) - set(kids)):
        time.sleep(0.5)
    assert set(_children(served["proc"].pid)) - set(kids), "embedded worker was not restarted"
    out = run_cli("scan", str(c2pa_fixtures / "CA.jpg"), "--json", "--api", served["url"], "--key", served["key"],
                  "--timeout", "180", env=served["env"], timeout=240)
    assert out.returncode == 0, out.stderr + served["log"].read_text()[-2000:]
    assert json.loads(out.stdout)["provenance"]["c2pa"]["state"] == "Valid"


def test_unreachable_broker_gives_503_and_no_stuck_scan(tmp_path, rng) -> None:
    settings = make_settings(tmp_path, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(settings, config={"TESTING": True})
    app.extensions["provscan.enqueuer"].celery.conf.broker_connection_timeout = 1
    app.extensions["provscan.enqueuer"].celery.conf.broker_connection_max_retries = 0
    key = app.extensions["provscan"].store.create_key("t")
    client = app.test_client()
    resp = client.post("/api/v1/scans", data={"file": (io.BytesIO(png_bytes(rng)), "a.png")},
                       headers={"Authorization": f"Bearer {key}"}, content_type="multipart/form-data")
    assert resp.status_code == 503 and resp.get_json()["error"]["code"] == "queue_unavailable"
    listing = client.get("/api/v1/scans", headers={"Authorization": f"Bearer {key}"}).get_json()
    assert [i["status"] for i in listing["items"]] == ["error"]
    health = client.get("/api/v1/healthz")
    assert health.status_code == 503 and health.get_json()["queue"].startswith("error")


def test_serve_on_a_taken_port_is_a_clear_usage_error(tmp_path) -> None:
    """It used to print "serving on ..." then a waitress traceback, after starting its two workers."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = dict(os.environ, PROVSCAN_DATA_DIR=str(tmp_path / "data"))
        env.pop("REDIS_URL", None)
        out = run_cli("serve", "--port", str(port), env=env, timeout=120)
    assert out.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr and "choose another --port" in out.stderr
    assert "Traceback" not in out.stderr and "serving on" not in out.stderr
    assert "embedded workers started" not in out.stderr
