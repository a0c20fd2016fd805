"""WSGI entry point: `waitress-serve wsgi:app`, `gunicorn wsgi:app`."""

from support.app import create_app

app = create_app()
