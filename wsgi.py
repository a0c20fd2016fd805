"""WSGI entry point: `waitress-serve wsgi:app`, `gunicorn wsgi:app`.

The process that imports it loads what `support web` loads before it says "ready" (the FAQ
search models, compiled page templates), so that no request waits for them: the first staff
save of an FAQ article loaded the models (1.5 s CPU), the first ticket page compiled its
templates. With gunicorn, leave out --preload: the models' thread pools do not survive a fork.
"""

from faq.index_sync import load_models
from support.app import create_app
from support.core.web import warm_up_pages

app = create_app()
load_models(app)
warm_up_pages(app)
