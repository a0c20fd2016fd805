"""WSGI entry point: `waitress-serve wsgi:app`, `gunicorn wsgi:app`."""

from support import create_app

app = create_app()
