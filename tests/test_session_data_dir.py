"""Tests never write into the checkout's ./data (a live ``make run`` keeps its database and uploads there)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import REPO, SESSION_DATA_DIR


def test_the_test_run_has_its_own_data_dir_outside_the_checkout() -> None:
    from detector.settings import Settings
    from worker.celery_app import broker_config, embedded_queue_dir

    settings = Settings.from_env()
    assert Path(os.environ["PROVSCAN_DATA_DIR"]) == SESSION_DATA_DIR == settings.data_dir
    assert not SESSION_DATA_DIR.resolve().is_relative_to(REPO)
    # The worker app's import-time broker folders land there, not in ./data.
    if not settings.redis_url:
        broker_config(settings)
        assert (embedded_queue_dir(settings) / "in").is_dir()
    assert embedded_queue_dir(settings).is_relative_to(SESSION_DATA_DIR)


def test_wordnet_cache_is_shared_between_runs_and_outside_the_checkout() -> None:
    link = SESSION_DATA_DIR / "text-src"
    assert link.is_symlink() and link.is_dir()
    assert not link.resolve().is_relative_to(REPO)
