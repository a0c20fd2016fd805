"""A new admin's first steps on the inbox: done as the configuration and the database say."""

from __future__ import annotations

import re

from sqlalchemy import select

from support.desk.models import Department
from tests.factories import make_user
from tests.support.staff_helpers import login

CARD = 'data-testid="getting-started"'


def _inbox(client, lang: str = "en") -> str:
    return client.get(f"/staff/?lang={lang}", follow_redirects=True).get_data(as_text=True)


def _done(page: str) -> tuple[int, int]:
    found = re.search(r"(\d+) of (\d+) done", page)
    assert found, "the list says how far the admin is"
    return int(found.group(1)), int(found.group(2))


def test_a_fresh_admin_sees_what_is_left_and_each_step_ticks_itself(app, session, client):
    admin = make_user(session, email="admin@example.com", name="Administrator", role="admin")
    session.commit()
    login(client, "admin@example.com")
    page = _inbox(client)
    assert CARD in page and _done(page) == (0, 6)
    for href in (
        'href="/staff/account#name-name"',
        f'href="/staff/admin/users/{admin.id}#email"',
        'href="/staff/admin/departments"',
        'href="/staff/mail"',
        'href="/staff/admin/users"',
    ):
        assert href in page
    assert "instance/outbox/" in page
    assert "开始使用" in _inbox(client, "zh") and "添加同事" in _inbox(client, "zh")

    client.post("/staff/account", data={"name-name": "Li Lei", "name-submit": "Save"})
    assert _done(_inbox(client)) == (1, 6)
    # Signed in as the demo's admin@example.com, notices went nowhere.
    admin.email = "li.lei@acme.cn"
    session.commit()
    assert _done(_inbox(client)) == (2, 6)
    app.config["COMPANY_NAME"] = "Acme Kettles"
    assert _done(_inbox(client)) == (3, 6)
    app.config["MAIL_DOMAINS"] = ["acme.cn", "example.com"]
    assert _done(_inbox(client)) == (3, 6), "a demo address still gets mail nobody sends"
    app.config["MAIL_DOMAINS"] = ["acme.cn"]
    # The departments still had their demo addresses: the step was ticked, while every
    # auto-reply left from example.com and the departments page said to change them.
    assert _done(_inbox(client)) == (3, 6), "the departments' addresses are not yours yet"
    departments = session.scalars(select(Department)).all()
    for department in departments:
        local = department.email_address.partition("@")[0]
        department.email_address = f"{local}@acme.cn"
    departments[0].is_active, departments[0].email_address = False, "old@example.com"
    session.commit()
    assert _done(_inbox(client)) == (4, 6), "a retired department's address does not count"
    app.config["OUTBOUND_SMTP_HOST"] = "smtp.acme.cn"
    assert _done(_inbox(client)) == (5, 6)
    make_user(session, email="ann@acme.cn", name="Ann", role="agent")
    session.commit()
    assert CARD not in _inbox(client), "all done: the list goes"


def test_agents_never_see_it_and_an_admin_may_hide_it(app, session, client):
    make_user(session, email="agent@example.com", name="Ann", role="agent")
    make_user(session, email="admin@example.com", name="Administrator", role="admin")
    session.commit()
    login(client, "agent@example.com")
    assert CARD not in _inbox(client)
    client.get("/staff/logout")
    other = app.test_client()
    login(other, "admin@example.com")
    assert CARD in _inbox(other)
    answer = other.post("/staff/getting-started/hide")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/staff/")
    assert "HttpOnly" in answer.headers["Set-Cookie"]
    assert CARD not in _inbox(other)


def test_the_mail_steps_lead_to_pages_that_say_how(app, session, client):
    # "Receive mail at your own domain" opened the departments page, which said nothing of
    # domains or where mail is delivered; "Set up outgoing mail" opened the sent-mail page,
    # which said only that no relay is configured. A new admin was left to search the README.
    make_user(session, email="admin@example.com", name="Administrator", role="admin")
    session.commit()
    login(client, "admin@example.com")
    assert 'href="/staff/admin/departments#mail-domain"' in _inbox(client)
    config_file = f"{app.instance_path}/config.toml"
    page = client.get("/staff/admin/departments").get_data(as_text=True)
    section = page[page.index('id="mail-domain"') :]
    assert "example.com" in section and config_file in section
    for words in ("mail_domains", "mail_general_address", "mail_imap_mailboxes"):
        assert words in section
    intake = f"{app.config['SMTP_HOST']}:{app.config['SMTP_PORT']}"
    assert intake in section and "docs/deploy.md" in section
    sent = client.get("/staff/mail").get_data(as_text=True)
    assert "outbound_smtp_host" in sent and config_file in sent
    zh = client.get("/staff/mail?lang=zh").get_data(as_text=True)
    assert "outbound_smtp_host" in zh and "重启" in zh
    zh = client.get("/staff/admin/departments?lang=zh").get_data(as_text=True)
    assert "mail_domains" in zh and "重启" in zh
