"""A real Celery worker process on the real Redis, sharing a store with a Flask test client."""

from __future__ import annotations

import pytest

from worker.live import start_worker, stop_worker


@pytest.fixture(scope="module")
def live_worker(tmp_path_factory, redis_url):
    w = start_worker(tmp_path_factory.mktemp("live"), redis_url)
    yield w
    stop_worker(w)


@pytest.fixture(scope="module")
def live_worker_pg(tmp_path_factory, redis_url, postgres_url):
    w = start_worker(tmp_path_factory.mktemp("livepg"), redis_url, postgres_url)
    yield w
    stop_worker(w)
