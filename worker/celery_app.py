"""The Celery application: Redis broker in production, kombu's filesystem transport embedded.

The web process only *sends* tasks by name (``send_task``) so it never imports the analysis code
(and so never torch). ``celery`` below is the worker's app, configured from the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery

from detector.settings import Settings

ANALYZE_TASK = "provscan.analyze_scan"
GENERATE_TASK = "provscan.generate_dataset"

# A scan that runs longer than this is stuck (huge video, pathological file): stop it and say so.
SOFT_TIME_LIMIT_S = 300
HARD_TIME_LIMIT_S = 330


def embedded_queue_dir(settings: Settings) -> Path:
    return settings.data_dir / "queue"


def broker_config(settings: Settings) -> dict[str, Any]:
    if settings.redis_url:
        return {
            "broker_url": settings.redis_url,
            # Redelivery of unacked tasks after a worker dies: longer than the hard time limit so
            # a long-running scan is not delivered twice while still running.
            "broker_transport_options": {"visibility_timeout": HARD_TIME_LIMIT_S * 3},
        }
    qdir = embedded_queue_dir(settings)
    for sub in ("in", "processed", "control"):
        (qdir / sub).mkdir(parents=True, exist_ok=True)
    return {
        "broker_url": "filesystem://",
        "broker_transport_options": {
            "data_folder_in": str(qdir / "in"),
            "data_folder_out": str(qdir / "in"),
            "processed_folder": str(qdir / "processed"),
            # Broadcast (control) messages default to ./control in the working directory.
            "control_folder": str(qdir / "control"),
            "store_processed": False,
        },
    }


def make_celery(settings: Settings | None = None) -> Celery:
    settings = settings or Settings.from_env()
    app = Celery("provscan", include=["worker.tasks"])
    app.conf.update(
        broker_config(settings),
        task_default_queue=settings.queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        task_soft_time_limit=SOFT_TIME_LIMIT_S,
        task_time_limit=HARD_TIME_LIMIT_S,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        task_serializer="json",
        accept_content=["json"],
    )
    return app


celery = make_celery()
