"""Minimal web pages: upload form → result page that polls until the scan is done.

Access: open to browsers on the same machine (the default bind is 127.0.0.1); from anywhere else
a person signs in once with an API key, kept in a signed session cookie.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, session, url_for

from web.errors import json_error
from web.media import image_response, media_response, text_view
from web.reviews import (
    next_pending,
    parse_queue_args,
    queue_context,
    queue_view,
    save_review,
    scan_with_review,
)
from worker.service import Context, ServiceError, mark_error, submit_stream
from worker.store import ApiKey

ui = Blueprint("ui", __name__)


def ctx() -> Context:
    return current_app.extensions["provscan"]


def _is_loopback(addr: str | None) -> bool:
    try:
        return ipaddress.ip_address(addr or "").is_loopback
    except ValueError:
        return False


def ui_auth(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if session.get("key_id") is not None:
            return fn(*args, **kwargs)
        if _is_loopback(request.remote_addr) and not current_app.config.get("UI_REQUIRE_LOGIN"):
            return fn(*args, **kwargs)
        return redirect(url_for("ui.login", next=request.path))

    return wrapper


@ui.errorhandler(ServiceError)
def _service_error(exc: ServiceError):  # noqa: ANN202 - the dashboard's JSON endpoints
    return json_error(exc.code, exc.message, exc.http_status)


def _reviewer_name() -> str:
    """Who is reviewing: the signed-in key's name, or "local" for a loopback browser."""
    key_id = session.get("key_id")
    if key_id is not None:
        with ctx().store.session() as s:
            row = s.get(ApiKey, key_id)
        if row is not None:
            return row.name
    return "local"


def _same_origin_json() -> bool:
    """CSRF guard for the dashboard's JSON POSTs.

    Loopback browsers are let in without a session, so a page on another site must not be able
    to post on their behalf: cross-site forms cannot send ``application/json`` without a CORS
    preflight (which this app never grants), and a browser's Origin header, when sent, must be
    ours.
    """
    if not request.is_json:
        return False
    origin = request.headers.get("Origin")
    return origin is None or origin.rstrip("/") == request.host_url.rstrip("/")


@ui.route("/login", methods=["GET", "POST"])
def login():  # noqa: ANN201
    error = None
    if request.method == "POST":
        row = ctx().store.check_key(request.form.get("key", "").strip())
        if row is not None:
            session["key_id"] = row.id
            nxt = request.args.get("next") or "/"
            return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else "/")
        error = "That API key is not valid."
    return render_template("login.html", error=error), 401 if error else 200


@ui.get("/")
@ui_auth
def index():  # noqa: ANN201
    return render_template("index.html", max_mb=ctx().settings.max_upload_mb)


@ui.post("/upload")
@ui_auth
def upload():  # noqa: ANN201
    f = request.files.get("file")
    if f is None or not f.filename:
        return render_template("index.html", max_mb=ctx().settings.max_upload_mb, error="Choose a file first."), 400
    try:
        scan = submit_stream(ctx(), f.stream, f.filename)
    except ServiceError as exc:
        return render_template("index.html", max_mb=ctx().settings.max_upload_mb, error=exc.message), exc.http_status
    try:
        current_app.extensions["provscan.enqueuer"].enqueue(scan.id)
    except Exception:
        mark_error(ctx().settings, scan.id, "the task queue is unavailable; resubmit the file later")
    return redirect(url_for("ui.scan_page", scan_id=scan.id), 303)


@ui.get("/scans/<scan_id>")
@ui_auth
def scan_page(scan_id: str):  # noqa: ANN201
    scan = ctx().store.get_scan(scan_id)
    if scan is None:
        abort(404)
    # The queue the reviewer came from (its order and label filter) travels with the review post,
    # so "next pending item" follows that queue rather than the default one.
    return render_template("scan.html", scan_id=scan_id, filename=scan.filename, queue=queue_context(request.args))


@ui.get("/ui/scans/<scan_id>.json")
@ui_auth
def scan_json(scan_id: str):  # noqa: ANN201
    scan = ctx().store.get_scan(scan_id)
    if scan is None:
        return jsonify({"error": {"code": "not_found", "message": "no such scan"}}), 404
    return jsonify(scan_with_review(ctx().store, scan))


@ui.get("/ui/scans/<scan_id>/media")
@ui_auth
def scan_media(scan_id: str):  # noqa: ANN201
    return media_response(ctx(), scan_id)


@ui.get("/ui/scans/<scan_id>/image")
@ui_auth
def scan_image(scan_id: str):  # noqa: ANN201
    return image_response(ctx(), scan_id)


@ui.get("/ui/scans/<scan_id>/text.json")
@ui_auth
def scan_text(scan_id: str):  # noqa: ANN201
    return jsonify(text_view(ctx(), scan_id))


@ui.post("/ui/scans/<scan_id>/review")
@ui_auth
def scan_review(scan_id: str):  # noqa: ANN201
    if not _same_origin_json():
        return json_error("forbidden", "send the review as application/json from this site", 403)
    review = save_review(ctx().store, scan_id, request.get_json(silent=True), _reviewer_name())
    # Working a queue: hand back the next pending item of the queue the reviewer came from.
    context = queue_context(request.args)
    nxt = next_pending(ctx().store, scan_id, context)
    return jsonify({"review": review,
                    "next_pending": url_for("ui.scan_page", scan_id=nxt, **context) if nxt else None}), 201


@ui.get("/review")
@ui_auth
def review_page():  # noqa: ANN201
    try:
        opts = parse_queue_args(request.args)
    except ServiceError as exc:
        return render_template("review.html", error=exc.message, queue=None, state="pending", label="",
                               sort="score"), 400
    queue = queue_view(ctx().store, opts)
    return render_template("review.html", queue=queue, state=opts["state"], label=request.args.get("label", ""),
                           sort=opts["sort"], error=None)
