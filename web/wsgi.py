"""WSGI entry point for gunicorn (docker-compose): ``gunicorn web.wsgi:app``."""

from web.app import create_app

app = create_app()
