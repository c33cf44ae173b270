"""Thin Celery tasks: state, retries and time limits. The work is in worker.service."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError

from detector.settings import Settings
from worker import service
from worker.celery_app import ANALYZE_TASK, GENERATE_TASK

log = logging.getLogger(__name__)

TRANSIENT = (OperationalError, ConnectionError, TimeoutError)


class ScanTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):  # noqa: ANN001 - Celery's signature
        # Reached for hard time limits and unexpected crashes: the scan must not stay "running".
        if args:
            try:
                service.mark_error(Settings.from_env(), args[0], f"analysis failed: {type(exc).__name__}: {exc}")
            except Exception:
                log.exception("could not record failure of scan %s", args[0])


@shared_task(
    bind=True,
    base=ScanTask,
    name=ANALYZE_TASK,
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def analyze_scan(self: Task, scan_id: str) -> str:
    settings = Settings.from_env()
    try:
        return service.run_scan(settings, scan_id)
    except SoftTimeLimitExceeded:
        service.mark_error(settings, scan_id, f"analysis timed out after {self.request.timelimit or 'the time limit'} s")
        return "error"



@shared_task(bind=True, name=GENERATE_TASK, acks_late=True, time_limit=12 * 3600, soft_time_limit=12 * 3600 - 60)
def generate_dataset(self: Task, job_id: str) -> str:
    # Resumable: a redelivered job skips the items already finished.
    from worker.datasets import run_dataset_job

    return run_dataset_job(Settings.from_env(), job_id)
