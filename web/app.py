"""Flask application factory."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from detector.settings import Settings
from web.errors import http_error_to_json, json_error
from worker.celery_app import ANALYZE_TASK, GENERATE_TASK, make_celery
from worker.service import Context

log = logging.getLogger(__name__)


class Enqueuer:
    """Sends scan ids to the queue by task name (so this process never imports the analysis)."""

    def __init__(self, settings: Settings) -> None:
        self.celery = make_celery(settings)
        self.queue = settings.queue
        self.dataset_queue = settings.dataset_queue

    def enqueue(self, scan_id: str) -> None:
        self.celery.send_task(ANALYZE_TASK, args=[scan_id], queue=self.queue)

    def enqueue_dataset(self, job_id: str) -> None:
        self.celery.send_task(GENERATE_TASK, args=[job_id], queue=self.dataset_queue)


def _secret_key(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    # Persist a generated key so sessions survive restarts and are shared by every web process
    # that uses this data dir.
    path = settings.data_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(settings: Settings | None = None, *, config: dict[str, Any] | None = None) -> Flask:
    settings = settings or Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.media_root.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"),
                static_folder=str(Path(__file__).parent / "static"))
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        # One file per request plus multipart overhead; larger requests get a JSON 413 before
        # anything is spooled to disk.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if config:
        app.config.update(config)
    app.extensions["provscan"] = Context.from_settings(settings)
    app.extensions["provscan.enqueuer"] = Enqueuer(settings)

    from web.api import api
    from web.ui import ui

    app.register_blueprint(api, url_prefix="/api/v1")
    app.register_blueprint(ui)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # noqa: ANN202
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return http_error_to_json(exc)
        return exc

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # noqa: ANN202
        log.exception("unhandled error on %s", request.path)
        return json_error("internal_error", "internal error; the server log has details", 500)

    return app


def ctx_of(app: Flask) -> Context:
    return app.extensions["provscan"]
