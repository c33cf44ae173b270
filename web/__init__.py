"""provscan.web: Flask app factory, the /api/v1 blueprint and the dashboard. Never imports torch."""

from web.app import create_app

__all__ = ["create_app"]
