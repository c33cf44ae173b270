"""The reviewer queue, review decisions and the media/text endpoints behind the evidence views.

Flagged items are real: an image made and C2PA-signed by `provscan generate` (verdict
"synthetic"), analysed by the real pipeline in-process; the store runs on SQLite and on the real
PostgreSQL.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from tests.conftest import (
    REPO,
    fresh_postgres_database,
    jpeg_bytes,
    make_settings,
    png_bytes,
    run_cli,
    wav_bytes,
)
from tests.web.test_api import check
from web.app import create_app
from worker.service import run_scan, submit_stream

TEXT = ("The committee met on Tuesday to review the proposal for the new library. After a long discussion "
        "about costs, the members agreed that the building should include a larger children's section and a "
        "quiet reading room. Several residents spoke in favour of extending the opening hours on weekends, "
        "while others worried about the budget. Straße, café and naïve are here to test normalisation.\n")


@pytest.fixture(scope="module")
def signed_image(tmp_path_factory) -> bytes:
    """A procedural image made, watermarked and C2PA-signed by `provscan generate`."""
    tmp = tmp_path_factory.mktemp("gen")
    env = {**os.environ, "PROVSCAN_DATA_DIR": str(tmp / "data"), "PYTHONPATH": str(REPO)}
    out = run_cli("generate", "--modality", "image", "--count", "1", "--out", str(tmp / "ds"),
                  "--generators", "procedural_scene", "--seed", "5", env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    (png,) = (tmp / "ds").rglob("*.png")
    return png.read_bytes()


@pytest.fixture
def fresh_pg_url():
    """An empty PostgreSQL database for one test, so queue counts see only that test's scans."""
    with fresh_postgres_database("provscan_rev") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def rapp(request, tmp_path):
    env = {}
    if request.param == "postgres":
        env["DATABASE_URL"] = request.getfixturevalue("fresh_pg_url")
    app = create_app(make_settings(tmp_path, **env), config={"TESTING": True})
    key = app.extensions["provscan"].store.create_key("reviewer-key")
    return app, app.test_client(), {"Authorization": f"Bearer {key}"}


def scanned(app, data: bytes, name: str, *, run: bool = True) -> str:
    """Store an upload and (unless ``run`` is False) analyse it with the real pipeline."""
    ctx = app.extensions["provscan"]
    scan = submit_stream(ctx, io.BytesIO(data), name)
    if run:
        run_scan(ctx.settings, scan.id)
    return scan.id


def post_review(client, auth, scan_id: str, body) -> object:
    payload = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"/api/v1/scans/{scan_id}/review", data=payload, headers=auth, content_type="application/json")


def test_review_a_flagged_scan(rapp, signed_image) -> None:
    app, client, auth = rapp
    sid = scanned(app, signed_image, "gen.png")
    report = check(client.get(f"/api/v1/scans/{sid}", headers=auth), "Report", 200)
    assert report["verdict"]["label"] == "synthetic" and report["review"] is None and report["review_history"] == []

    saved = check(post_review(client, auth, sid, {"decision": "partially_synthetic", "note": " edited sky "}),
                  "Review", 201)
    assert saved["decision"] == "partially_synthetic" and saved["note"] == "edited sky"
    assert saved["reviewer"] == "reviewer-key"  # defaults to the API key's name
    report = check(client.get(f"/api/v1/scans/{sid}", headers=auth), "Report", 200)
    assert report["review"] == saved

    # A second opinion: the latest decision is the one shown.
    again = check(post_review(client, auth, sid, {"decision": "synthetic", "reviewer": "alice"}), "Review", 201)
    assert again["reviewer"] == "alice" and again["note"] is None and again["id"] > saved["id"]
    report = check(client.get(f"/api/v1/scans/{sid}", headers=auth), "Report", 200)
    assert report["review"] == again
    # Nothing is overwritten: the history keeps both decisions, newest first.
    assert report["review_history"] == [again, saved]


def test_review_validation(rapp, signed_image, rng) -> None:
    app, client, auth = rapp
    sid = scanned(app, signed_image, "gen.png")
    bad = [
        ({"decision": "fake"}, "invalid_decision"),
        ({}, "invalid_decision"),
        ({"decision": None}, "invalid_decision"),
        ({"decision": "synthetic", "note": "x" * 2001}, "invalid_note"),
        ({"decision": "synthetic", "note": 5}, "invalid_note"),
        ({"decision": "synthetic", "reviewer": " "}, "invalid_reviewer"),
        ({"decision": "synthetic", "reviewer": "r" * 201}, "invalid_reviewer"),
        ({"decison": "synthetic"}, "bad_request"),
        (["synthetic"], "bad_request"),
        ("not json", "bad_request"),
    ]
    for body, code in bad:
        assert check(post_review(client, auth, sid, body), "Error", 400)["error"]["code"] == code, body
    form = client.post(f"/api/v1/scans/{sid}/review", data={"decision": "synthetic"}, headers=auth)
    check(form, "Error", 400)
    check(post_review(client, auth, sid, {"decision": "synthetic", "note": "x" * 2000}), "Review", 201)
    check(post_review(client, auth, "doesnotexist", {"decision": "synthetic"}), "Error", 404)
    check(post_review(client, {}, sid, {"decision": "synthetic"}), "Error", 401)
    queued = scanned(app, png_bytes(rng), "q.png", run=False)
    assert check(post_review(client, auth, queued, {"decision": "unsure"}), "Error", 409)["error"]["code"] == \
        "scan_not_done"


def test_queue_filters_and_pages(rapp, signed_image, rng) -> None:
    app, client, auth = rapp
    # Oldest first: an inconclusive plain image, three synthetic ones (same bytes: the report is
    # reused), and two that are not flagged: a decode error and a scan still queued.
    plain = scanned(app, png_bytes(rng, (96, 128)), "plain.png")
    synth = [scanned(app, signed_image, f"gen{i}.png") for i in range(3)]
    broken = scanned(app, jpeg_bytes(rng, (128, 128))[:400], "broken.jpg")
    scanned(app, png_bytes(rng), "waiting.png", run=False)
    store = app.extensions["provscan"].store
    assert store.get_scan(plain).verdict_label == "inconclusive"
    assert store.get_scan(broken).status == "error"

    def queue(query: str = "") -> dict:
        return check(client.get("/api/v1/reviews/queue" + query, headers=auth), "ReviewQueue", 200)

    q = queue()
    assert [i["id"] for i in q["items"]] == synth[::-1] + [plain]
    assert q["total"] == 4 and q["state"] == "pending"
    top = q["items"][0]
    assert top["label"] == "synthetic" and top["score"] == pytest.approx(0.97)
    assert "C2PA" in top["top_reason"] and top["review_state"] == "pending" and top["review"] is None
    assert [i["id"] for i in queue("?label=synthetic")["items"]] == synth[::-1]
    assert [i["id"] for i in queue("?label=inconclusive")["items"]] == [plain]

    page1, page2 = queue("?limit=3"), queue("?limit=3&offset=3")
    assert [i["id"] for i in page1["items"] + page2["items"]] == synth[::-1] + [plain]
    assert page2["total"] == 4 and len(page2["items"]) == 1 and queue("?offset=10")["items"] == []

    check(post_review(client, auth, synth[1], {"decision": "authentic", "note": "camera original"}), "Review", 201)
    assert [i["id"] for i in queue()["items"]] == [synth[2], synth[0], plain]
    reviewed = queue("?state=reviewed")
    assert [i["id"] for i in reviewed["items"]] == [synth[1]] and reviewed["total"] == 1
    assert reviewed["items"][0]["review"]["decision"] == "authentic"
    assert reviewed["items"][0]["review_state"] == "reviewed"
    assert queue("?state=all")["total"] == 4

    for bad in ("?state=done", "?label=authentic", "?limit=0", "?limit=201", "?limit=abc", "?offset=-1"):
        check(client.get("/api/v1/reviews/queue" + bad, headers=auth), "Error", 400)
    check(client.get("/api/v1/reviews/queue"), "Error", 401)


def test_queue_sorts_by_score_or_arrival(rapp, signed_image, rng) -> None:
    app, client, auth = rapp
    first = scanned(app, png_bytes(rng, (96, 128)), "first.png")
    synth = scanned(app, signed_image, "gen.png")
    last = scanned(app, png_bytes(rng, (128, 96)), "last.png")

    def ids(query: str) -> tuple[list[str], list[float], str]:
        body = check(client.get("/api/v1/reviews/queue" + query, headers=auth), "ReviewQueue", 200)
        return [i["id"] for i in body["items"]], [i["score"] for i in body["items"]], body["sort"]

    order, scores, sort = ids("")
    # Default: the strongest case (a signed AI image) first, then the detector-only ones by score.
    assert sort == "score" and order[0] == synth and set(order) == {first, synth, last}
    assert scores == sorted(scores, reverse=True)
    assert ids("?sort=newest")[0] == [last, synth, first]
    assert ids("?sort=newest&limit=1&offset=1")[0] == [synth]
    check(client.get("/api/v1/reviews/queue?sort=oldest", headers=auth), "Error", 400)
    page = client.get("/review?sort=newest").get_data(as_text=True)
    assert page.index("last.png") < page.index("gen.png") < page.index("first.png")
    assert 'id="sort-newest" aria-current="true"' in " ".join(page.split())
    assert client.get("/review?sort=nope").status_code == 400

    # Working the "newest" queue: its links carry the order, the review post keeps it, and the
    # next pending item is the next one of *that* queue (by score it would be the signed image).
    assert f'href="/scans/{last}?sort=newest"' in page
    scan_page = client.get(f"/scans/{last}?sort=newest&label=bogus").get_data(as_text=True)
    assert f'"/ui/scans/{last}/review?sort=newest"' in scan_page  # an unknown label is dropped
    assert 'href="/review?sort=newest" id="back-to-queue"' in scan_page
    origin = {"Origin": "http://localhost"}
    resp = client.post(f"/ui/scans/{last}/review?sort=newest", json={"decision": "unsure"}, headers=origin)
    assert resp.status_code == 201 and resp.get_json()["next_pending"] == f"/scans/{synth}?sort=newest"
    resp = client.post(f"/ui/scans/{synth}/review", json={"decision": "synthetic"}, headers=origin)
    assert resp.get_json()["next_pending"] == f"/scans/{first}"
    resp = client.post(f"/ui/scans/{first}/review?sort=score&label=inconclusive", json={"decision": "authentic"},
                       headers=origin)
    assert resp.status_code == 201 and resp.get_json()["next_pending"] is None


def test_media_is_served_with_a_sniffed_type_and_never_as_html(client, auth, app, rng) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
    cases = [
        (png_bytes(rng), "a.txt", "image/png", "inline"),  # the name lies; the bytes decide
        (wav_bytes(rng), "v.wav", "audio/wav", "inline"),
        (TEXT.encode(), "t.txt", "text/plain; charset=utf-8", "attachment"),
        (b"<!doctype html><html><body><script>alert(1)</script></body></html>", "x.html",
         "text/plain; charset=utf-8", "attachment"),
        (svg, "x.svg", "text/plain; charset=utf-8", "attachment"),
    ]
    for data, name, mime, disposition in cases:
        sid = scanned(app, data, name, run=False)
        for url, headers in ((f"/api/v1/scans/{sid}/media", auth), (f"/ui/scans/{sid}/media", {})):
            resp = client.get(url, headers=headers)
            assert resp.status_code == 200, (name, url)
            assert resp.headers["Content-Type"] == mime, name
            assert resp.headers["Content-Disposition"].startswith(disposition), name
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in resp.headers["Content-Security-Policy"]
            assert resp.data == data
    # The <audio> player seeks with Range requests.
    part = client.get(f"/api/v1/scans/{sid}/media", headers={**auth, "Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == svg[:10]
    check(client.get("/api/v1/scans/nope/media", headers=auth), "Error", 404)
    check(client.get(f"/api/v1/scans/{sid}/media"), "Error", 401)
    assert client.get("/ui/scans/nope/media").status_code == 404
    # Refused files in a batch keep no bytes: 404, not a crash.
    batch = client.post("/api/v1/batches", data={"files": [(io.BytesIO(b""), "e.png")]}, headers=auth,
                        content_type="multipart/form-data").get_json()
    (empty,) = client.get(batch["status_url"], headers=auth).get_json()["scans"]
    assert check(client.get(f"/api/v1/scans/{empty['id']}/media", headers=auth), "Error", 404)["error"]["code"] == \
        "no_media"


def test_ui_endpoints_follow_the_page_login_rules(tmp_path, rng) -> None:
    app = create_app(make_settings(tmp_path), config={"TESTING": True, "UI_REQUIRE_LOGIN": True})
    client = app.test_client()
    sid = scanned(app, png_bytes(rng), "a.png", run=False)
    for url in (f"/ui/scans/{sid}/media", "/review", f"/ui/scans/{sid}/text.json"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"], url
    key = app.extensions["provscan"].store.create_key("night-shift")
    client.post("/login", data={"key": key})
    assert client.get(f"/ui/scans/{sid}/media").status_code == 200
    assert client.get("/review").status_code == 200


def test_ui_review_endpoint_refuses_cross_site_posts(app, client, signed_image) -> None:
    sid = scanned(app, signed_image, "gen.png")
    other = scanned(app, signed_image, "gen2.png")
    url = f"/ui/scans/{sid}/review"
    # A plain cross-site form post (no JSON) and a JSON post from another origin are refused.
    assert client.post(url, data={"decision": "synthetic"}).status_code == 403
    assert client.post(url, json={"decision": "synthetic"}, headers={"Origin": "https://evil.example"}).status_code == 403
    resp = client.post(url, json={"decision": "unsure", "note": "check the shadows"},
                       headers={"Origin": "http://localhost"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["review"]["reviewer"] == "local" and body["next_pending"] == f"/scans/{other}"
    assert client.get(f"/ui/scans/{sid}.json").get_json()["review"]["decision"] == "unsure"
    assert client.post(url, json={"decision": "maybe"}).status_code == 400


def test_text_view_matches_the_detector_highlight_offsets(app, client, rng) -> None:
    sid = scanned(app, TEXT.encode(), "t.txt")
    report = client.get(f"/ui/scans/{sid}.json").get_json()
    (det,) = [d for d in report["detectors"] if d["name"] == "text-lm-logreg"]
    hl = det["evidence"]["highlight"]
    view = client.get(f"/ui/scans/{sid}/text.json").get_json()
    # "Straße" case-folds to "strasse": the normalised text is what the offsets refer to.
    assert view["normalized"] is True and "strasse" in view["text"]
    words = [tuple(w) for w in view["words"]]
    assert [(h["start"], h["end"]) for h in hl] == words[: len(hl)]
    assert [view["text"][a:b] for a, b in words[:3]] == ["the", "committee", "met"]
    (wm,) = [w for w in report["provenance"]["watermarks"] if w["scheme"] == "provscan-text"]
    assert [view["text"][a:b] for a, b in words[:5]] == [t[0] for t in wm["evidence"]["token_map"][:5]]
    assert client.get(f"/ui/scans/{sid}/text.json".replace(sid, "nope")).status_code == 404
    img = scanned(app, png_bytes(rng), "a.png", run=False)
    assert client.get(f"/ui/scans/{img}/text.json").get_json()["error"]["code"] == "not_text"


def test_review_page_lists_the_queue(app, client, signed_image, rng) -> None:
    sid = scanned(app, signed_image, "gen<b>.png")
    page = client.get("/review").get_data(as_text=True)
    assert f'href="/scans/{sid}"' in page and "gen&lt;b&gt;.png" in page and "<b>" not in page.split("<main>")[1]
    assert "synthetic" in page and "pending" in page
    assert client.get("/review?state=nope").status_code == 400
    assert "Nothing here" in client.get("/review?state=reviewed").get_data(as_text=True)


def test_scan_page_has_the_evidence_and_review_hooks(app, client, rng) -> None:
    sid = scanned(app, png_bytes(rng), "a.png", run=False)
    page = client.get(f"/scans/{sid}").get_data(as_text=True)
    for needle in ('id="evidence"', 'id="review-form"', "evidence.js", f"/ui/scans/{sid}/media",
                   f"/ui/scans/{sid}/review", 'value="partially_synthetic"'):
        assert needle in page
    assert (Path(app.static_folder) / "evidence.js").is_file()


def test_dashboard_image_is_drawable_for_tiff_and_heic(client, app, rng) -> None:
    """Browsers draw neither TIFF nor HEIC: the scan page showed a broken image under its heatmap.
    /ui/scans/<id>/image is the stored bytes where a browser can draw them, else a JPEG of the
    pixels the detectors saw (same size)."""
    import numpy as np
    import pillow_heif
    from PIL import Image

    pixels = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    tif, heic = io.BytesIO(), io.BytesIO()
    Image.fromarray(pixels).save(tif, format="TIFF")
    pillow_heif.from_pillow(Image.fromarray(pixels)).save(heic, quality=90)
    png = png_bytes(rng)
    for data, name in ((tif.getvalue(), "scan.tif"), (heic.getvalue(), "IMG_0001.HEIC")):
        sid = scanned(app, data, name, run=False)
        resp = client.get(f"/ui/scans/{sid}/image")
        assert resp.status_code == 200 and resp.headers["Content-Type"] == "image/jpeg", name
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        shown = Image.open(io.BytesIO(resp.data))
        assert shown.format == "JPEG" and shown.size == (64, 48)
        assert client.get(f"/ui/scans/{sid}/media").data == data  # the download stays the original
    cut = scanned(app, tif.getvalue()[:300], "cut.tif", run=False)  # a TIFF cut short: a clear 422, not a 500
    bad = client.get(f"/ui/scans/{cut}/image")
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "undecodable"
    sid = scanned(app, png, "a.png", run=False)
    same = client.get(f"/ui/scans/{sid}/image")
    assert same.headers["Content-Type"] == "image/png" and same.data == png
    assert client.get("/ui/scans/nope/image").status_code == 404
    page = client.get(f"/scans/{sid}").get_data(as_text=True)
    assert f'"/ui/scans/{sid}/image"' in page
