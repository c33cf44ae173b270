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

from worker.service import Context, ServiceError, mark_error, scan_view, submit_stream

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
    return render_template("scan.html", scan_id=scan_id, filename=scan.filename)


@ui.get("/ui/scans/<scan_id>.json")
@ui_auth
def scan_json(scan_id: str):  # noqa: ANN201
    scan = ctx().store.get_scan(scan_id)
    if scan is None:
        return jsonify({"error": {"code": "not_found", "message": "no such scan"}}), 404
    return jsonify(scan_view(scan))
