"""Every public and staff page, in English and Chinese, in real Chromium: axe-core finds no
violation, and no public page scrolls sideways on a 390 px phone.

The pages are found by following links from the home page and from the staff inbox (one page
per route, so pages added later are checked too), plus the pages only reached from mail: the
follow, "this answered my question" and rating links, the contact confirmation and a 404.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from faq.models import Article
from mailrouter.outbound.customer_links import follow_url, solved_url
from mailrouter.routing.training import ensure_model
from support.demo import load_demo_content
from support.desk.models import Department, Ticket
from support.desk.satisfaction import rating_links
from tests.browser_tools import (
    PHONE,
    axe_script,
    axe_violations,
    chromium,
    live_server,
    overflow_px,
    sign_in,
)
from tests.factories import make_user
from tests.support.staff_helpers import PASSWORD

pytestmark = pytest.mark.browser

#: Links that change state, download files or leave the HTML pages.
SKIP_PARTS = ("logout", "/raw", "/export", ".csv", "/attachments/", "/api/", "/static/")
#: At most this many pages per route (the department, triage and personal inboxes).
PER_ROUTE = 3
MAX_PAGES = 80
#: Where the staff crawl starts (pages not linked from the navigation are found this way).
STAFF_STARTS = [
    "/staff/",
    "/staff/inbox/triage",
    "/staff/inbox/mine",
    "/staff/tickets/1",
    "/staff/faq/",
    "/staff/faq/categories",
    "/staff/faq/gaps",
    "/staff/faq/phrasings",
    "/staff/mail",
    "/staff/templates",
    "/staff/quarantine/",
    "/staff/classifier/",
    "/staff/account",
    "/staff/admin/departments",
]


@pytest.fixture
def app_settings() -> dict:
    return {"WTF_CSRF_ENABLED": True, "FAQ_HOME_CACHE_SECONDS": 0}


def _mail_pages(app, session) -> list[str]:
    """Pages customers reach from our mail, for a demo ticket resolved for the rating page."""
    ticket = session.scalars(select(Ticket).order_by(Ticket.id)).first()
    article = session.scalars(select(Article).order_by(Article.id)).first()
    assert ticket is not None and article is not None
    follow = follow_url(app.config, ticket.reference)
    solved = solved_url(app.config, ticket.reference, article.id)
    ticket.status = "resolved"
    rate = rating_links(ticket, app.config)[2]
    session.commit()
    return [_path(u) for u in (follow, solved, rate)] + ["/contact/sent", "/no-such-page"]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _route(app, path: str) -> str:
    try:
        endpoint, _args = app.url_map.bind("localhost").match(urlsplit(path).path)
    except HTTPException:
        return path
    return str(endpoint)


def _crawl(app, page, base: str, start: list[str], prefix: str) -> list[str]:
    """Same-site pages under ``prefix`` reachable from ``start``, one per route."""
    seen_routes: dict[str, int] = {}
    found: list[str] = []
    queue = list(start)
    while queue and len(found) < MAX_PAGES:
        path = queue.pop(0)
        route = _route(app, path)
        if seen_routes.get(route, 0) >= PER_ROUTE or path in found:
            continue
        seen_routes[route] = seen_routes.get(route, 0) + 1
        found.append(path)
        page.goto(base + path)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            parts = urlsplit(href)
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if (
                href.startswith(base)
                and parts.path.startswith(prefix)
                and "lang=" not in parts.query
                and not any(p in link for p in SKIP_PARTS)
            ):
                queue.append(link)
    return found


@pytest.fixture
def site(app, session, demo_faq_vectors):
    with app.app_context():
        ensure_model(app)  # the classifier page then shows its evaluation tables
    for _line in load_demo_content(app):
        pass
    make_user(
        session,
        email="admin@example.com",
        role="admin",
        departments=tuple(session.scalars(select(Department.code))),
    )
    session.commit()
    mail_pages = _mail_pages(app, session)
    with live_server(app) as base, chromium() as browser:
        yield app, base, browser, mail_pages


def _pages(site, context, *, staff: bool = True) -> tuple[list[str], list[str]]:
    app, base, _browser, mail_pages = site
    page = context.new_page()
    public = _crawl(app, page, base, ["/", "/search?q=refund", "/contact"], "/")
    public = [p for p in public if not p.startswith("/staff")] + mail_pages
    staff_pages: list[str] = []
    if staff:
        sign_in(page, base, "admin@example.com", PASSWORD)
        staff_pages = _crawl(app, page, base, STAFF_STARTS, "/staff/")
    page.close()
    return public, staff_pages


def test_axe_finds_no_violation_on_any_page_in_either_language(site) -> None:
    """One crawl (the pages are the same in both languages), then every page in each."""
    _app, base, browser, _mail = site
    script = axe_script()
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    public, staff = _pages(site, context)
    assert len(public) >= 8 and len(staff) >= 15, (public, staff)
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    for lang in ("en", "zh"):
        context.add_cookies([{"name": "lang", "value": lang, "url": base}])
        for path in public + staff:
            page.goto(base + path)
            assert page.evaluate("document.documentElement.lang").startswith(lang), path
            found = axe_violations(page, script)
            if found:
                problems[f"{lang} {path}"] = found
    context.close()
    assert not problems, "\n".join(
        f"{path}: {line}" for path, lines in problems.items() for line in lines
    )


def test_no_public_page_scrolls_sideways_on_a_phone(site) -> None:
    _app, base, browser, _mail = site
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    public, _staff = _pages(site, context, staff=False)
    page = context.new_page()
    wide = {}
    for lang in ("en", "zh"):
        for path in public:
            page.goto(base + path + ("&" if "?" in path else "?") + f"lang={lang}")
            if overflow_px(page) > 1:
                wide[f"{lang} {path}"] = overflow_px(page)
    context.close()
    assert not wide, wide
