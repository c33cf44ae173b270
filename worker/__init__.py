"""provscan.worker: the store, blobs, Celery app and tasks, and the CLI."""
