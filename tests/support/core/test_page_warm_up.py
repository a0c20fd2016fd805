"""The web server's warm-up: the first staff page after "ready" compiles nothing."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from support.app import web_services
from support.core.runner import WebService
from support.core.web import PageWarmUp
from tests.factories import make_ticket, make_user
from tests.faq.conftest import sign_in


def _compiled(app: Flask) -> set[str]:
    """The templates in the app's template cache (keys are (loader, name))."""
    return {key[1] for key in app.jinja_env.cache.keys()}  # type: ignore[union-attr]


def test_the_web_server_warms_the_pages_up_before_it_listens(app: Flask) -> None:
    app.config["HTTP_PORT"] = 0  # any free port: the web service binds it when made
    services = web_services(app)
    for service in services:
        if isinstance(service, WebService):
            service.server.close()
    kinds = [type(service) for service in services]
    assert PageWarmUp in kinds
    assert kinds.index(PageWarmUp) < kinds.index(WebService)


def test_the_first_ticket_page_after_the_warm_up_compiles_no_template(
    app: Flask, session: Session
) -> None:
    user = make_user(session, role="admin")
    ticket = make_ticket(session)
    session.commit()
    client = app.test_client()
    sign_in(client, user)

    PageWarmUp(app).start()
    warmed = _compiled(app)
    assert {"staff/ticket.html", "staff/layout.html", "base.html"} <= warmed

    page = client.get(f"/staff/tickets/{ticket.id}")
    assert page.status_code == 200
    assert ticket.subject in page.get_data(as_text=True)
    assert _compiled(app) == warmed  # every template the page used was compiled already
    assert client.get("/staff/faq/").status_code == 200
    assert _compiled(app) == warmed
