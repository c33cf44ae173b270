from __future__ import annotations

import io
import json
import os

import jsonschema
import pytest
from openapi_spec_validator import validate

from tests.conftest import make_settings, png_bytes
from web.app import create_app
from web.openapi import spec

SPEC = spec()
SCHEMAS = SPEC["components"]["schemas"]


def check(resp, schema_name: str, status: int) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    schema = dict(SCHEMAS[schema_name], components=SPEC["components"])
    jsonschema.validate(body, schema)
    return body


def upload(client, auth, data: bytes, name: str = "x.png"):
    return client.post("/api/v1/scans", data={"file": (io.BytesIO(data), name)}, headers=auth,
                       content_type="multipart/form-data")


def test_openapi_document_is_valid_and_matches_routes(app, client, auth) -> None:
    validate(SPEC)
    served = check(client.get("/api/v1/openapi.json", headers=auth), "Error", 200) if False else \
        client.get("/api/v1/openapi.json", headers=auth).get_json()
    validate(served)
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = rule.rule[len("/api/v1"):].replace("<", "{").replace(">", "}")
            for m in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((path, m.lower()))
    documented = {(p, m) for p, ops in SPEC["paths"].items() for m in ops}
    assert routes == documented


def test_healthz_needs_no_key(client) -> None:
    body = check(client.get("/api/v1/healthz"), "Health", 200)
    assert body["database"] == "ok" and body["queue"] == "embedded"


@pytest.mark.parametrize("method,path", [("get", "/api/v1/scans/abc"), ("post", "/api/v1/scans"),
                                         ("get", "/api/v1/scans"), ("post", "/api/v1/batches"),
                                         ("get", "/api/v1/batches/abc"), ("get", "/api/v1/openapi.json"),
                                         ("get", "/api/v1/scans/abc/media"), ("post", "/api/v1/scans/abc/review"),
                                         ("get", "/api/v1/reviews/queue")])
def test_every_route_but_healthz_needs_a_key(client, method, path) -> None:
    check(getattr(client, method)(path), "Error", 401)
    check(getattr(client, method)(path, headers={"Authorization": "Bearer psk_wrong"}), "Error", 401)


def test_keys_are_stored_hashed_and_revocable(app, api_key) -> None:
    store = app.extensions["provscan"].store
    (row,) = store.list_keys()
    assert api_key not in (row.key_hash, row.prefix) and len(row.key_hash) == 64
    assert store.check_key(api_key) is not None
    assert store.revoke_key("test") == 1
    assert store.check_key(api_key) is None


def test_upload_then_get(client, auth, rng) -> None:
    body = check(upload(client, auth, png_bytes(rng)), "AcceptedScan", 202)
    report = check(client.get(body["status_url"], headers=auth), "Report", 200)
    assert report["status"] == "queued" and report["id"] == body["id"]
    listing = check(client.get("/api/v1/scans?limit=5", headers=auth), "ScanList", 200)
    assert listing["items"][0]["id"] == body["id"]


def test_bad_uploads(client, auth, bad_inputs) -> None:
    assert check(upload(client, auth, bad_inputs["empty.jpg"], "empty.jpg"), "Error", 400)["error"]["code"] == "empty_file"
    assert check(upload(client, auth, bad_inputs["random.png"], "random.png"), "Error", 415)["error"]["code"] == \
        "unsupported_media_type"
    # Truncated / 0x0 files sniff as images: accepted, and the worker reports the decode error.
    check(upload(client, auth, bad_inputs["truncated.jpg"], "t.jpg"), "AcceptedScan", 202)
    check(upload(client, auth, bad_inputs["zero.png"], "z.png"), "AcceptedScan", 202)
    check(client.post("/api/v1/scans", data={}, headers=auth), "Error", 400)
    check(client.get("/api/v1/scans/doesnotexist", headers=auth), "Error", 404)
    check(client.get("/api/v1/scans?limit=abc", headers=auth), "Error", 400)
    check(client.delete("/api/v1/scans/x", headers=auth), "Error", 405)


def test_upload_limit_gives_json_413(tmp_path, rng) -> None:
    app = create_app(make_settings(tmp_path, PROVSCAN_MAX_UPLOAD_MB="0.05"), config={"TESTING": True})
    client = app.test_client()
    key = app.extensions["provscan"].store.create_key("t")
    big = rng.integers(0, 256, 3 * 1024 * 1024, dtype="uint8").tobytes()
    body = check(upload(client, {"Authorization": f"Bearer {key}"}, b"\x89PNG\r\n\x1a\n" + big), "Error", 413)
    assert "limit" in body["error"]["message"]
    # Nothing partial left in the blob store.
    media = app.extensions["provscan"].settings.media_root
    assert not [p for p in media.rglob("*") if p.is_file()]


@pytest.fixture
def rooted(tmp_path, rng):
    root = tmp_path / "archive"
    (root / "sub").mkdir(parents=True)
    (root / "a.png").write_bytes(png_bytes(rng))
    (root / "sub" / "b.png").write_bytes(png_bytes(rng, (32, 32)))
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "s.png").write_bytes(png_bytes(rng, (20, 20)))
    os.symlink(outside / "s.png", root / "link.png")
    os.symlink(outside, root / "linkdir")
    app = create_app(make_settings(tmp_path, PROVSCAN_ALLOWED_ROOTS=str(root)), config={"TESTING": True})
    key = app.extensions["provscan"].store.create_key("t")
    return app, app.test_client(), {"Authorization": f"Bearer {key}"}, root, outside


def post_path(client, auth, path):
    return client.post("/api/v1/batches", data=json.dumps({"path": path}), headers=auth, content_type="application/json")


def test_batch_from_folder_stays_inside_root(rooted) -> None:
    _app, client, auth, root, outside = rooted
    body = check(post_path(client, auth, str(root)), "AcceptedBatch", 202)
    assert body["total"] == 2  # the two symlinks out of the root are never read
    batch = check(client.get(body["status_url"], headers=auth), "Batch", 200)
    assert sorted(s["filename"] for s in batch["scans"]) == ["a.png", "sub/b.png"]
    assert batch["counts"]["queued"] == 2 and batch["complete"] is False
    check(post_path(client, auth, "sub"), "AcceptedBatch", 202)  # relative to the first root
    for bad in (str(outside), str(root / ".." / "secret"), "../secret", str(root / "linkdir")):
        assert check(post_path(client, auth, bad), "Error", 403)["error"]["code"] == "path_not_allowed", bad
    check(post_path(client, auth, str(root / "nope")), "Error", 404)
    (root / "empty").mkdir()
    assert check(post_path(client, auth, str(root / "empty")), "Error", 400)["error"]["code"] == "empty_batch"
    check(client.post("/api/v1/batches", data="[1]", headers=auth, content_type="application/json"), "Error", 400)


def test_folder_batches_disabled_without_roots(client, auth) -> None:
    assert check(post_path(client, auth, "/tmp"), "Error", 403)["error"]["code"] == "path_scans_disabled"


def test_batch_from_uploads_accounts_for_every_file(client, auth, rng, bad_inputs) -> None:
    files = [(io.BytesIO(png_bytes(rng)), "ok.png")] + [(io.BytesIO(d), n) for n, d in bad_inputs.items()]
    resp = client.post("/api/v1/batches", data={"files": files}, headers=auth, content_type="multipart/form-data")
    body = check(resp, "AcceptedBatch", 202)
    assert body["total"] == 5
    batch = check(client.get(body["status_url"], headers=auth), "Batch", 200)
    # Empty and unsupported files are errors at once; the rest wait for the worker.
    assert batch["counts"]["error"] == 2 and batch["counts"]["queued"] == 3
    check(client.post("/api/v1/batches", data={}, headers=auth, content_type="multipart/form-data"), "Error", 400)
