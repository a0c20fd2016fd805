"""Invitations and "Forgot your password?": one-time links to choose a password, mailed
through the outbox in the member's language; a link works once, expires, ends when a newer
one is sent or the password changes, and a reset request reveals no account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

import support.staff.password_links
from support.core.commands import command_line
from support.core.db import utcnow
from support.desk import staff_tokens
from support.desk.models import OutboundMail, StaffToken, User
from tests.factories import make_user
from tests.support.staff_helpers import PASSWORD, login, mail_text

NEW_PASSWORD = "a brand new secret"
NEUTRAL = "If this address belongs to a staff account, a link to choose a new password"
GONE = "This link no longer works"


def _mails(session, to: str) -> list[OutboundMail]:
    found = [
        m
        for m in session.scalars(select(OutboundMail).order_by(OutboundMail.id))
        if to in m.recipients
    ]
    session.commit()
    return found


def _link(mail: OutboundMail) -> str:
    found = re.search(r"http://127\.0\.0\.1:8080(/staff/password\?token=[\w-]+)", mail_text(mail))
    assert found, mail_text(mail)
    return found.group(1)


def _invite(client, email: str = "nina@example.com", language: str = "zh"):
    return client.post(
        "/staff/admin/users/new",
        data={
            "email": email,
            "name": "Nina",
            "role": "agent",
            "is_active": "y",
            "language": language,
        },
    )


@pytest.fixture
def admin(app, session, client):
    user = make_user(session, email="admin@example.com", role="admin")
    session.commit()
    login(client, "admin@example.com")
    return user


def _choose(client, path: str, password: str = NEW_PASSWORD):
    token = path.split("token=", 1)[1]
    return client.post("/staff/password", data={"token": token, "new": password, "again": password})


def test_the_admin_adds_a_member_without_a_password_and_an_invitation_goes_out(
    app, session, client, admin
) -> None:
    form = client.get("/staff/admin/users/new").get_data(as_text=True)
    assert 'name="password"' not in form
    assert _invite(client).status_code == 302
    nina = session.scalar(select(User).where(User.email == "nina@example.com"))
    assert nina is not None and nina.last_login_at is None
    session.commit()
    (mail,) = _mails(session, "nina@example.com")
    # Through the outbox like other mail, from the desk's general address, in her language.
    assert mail.kind == "account_link" and mail.state == "pending" and mail.ticket_id is None
    assert mail.envelope_from == "support@example.com"
    text = mail_text(mail)
    assert "您好" in text and "7 天" in text and "nina@example.com" in text
    assert "账户" in str(mail.subject) and "设置您的密码" in text
    # Only the token's hash is stored.
    token = _link(mail).split("token=", 1)[1]
    stored = session.scalar(select(StaffToken.token_hash))
    session.commit()
    assert stored is not None and token not in stored
    # The list says she has not signed in yet, and offers to send the invitation again.
    listed = client.get("/staff/admin/users").get_data(as_text=True)
    assert "invited, not yet signed in" in listed and "Resend invitation" in listed
    # The sent-mail page does not show the link to an admin.
    detail = client.get(f"/staff/mail/{mail.id}").get_data(as_text=True)
    assert token not in detail


def test_an_english_member_gets_an_english_invitation(app, session, client, admin) -> None:
    _invite(client, "eve@example.com", language="en")
    (mail,) = _mails(session, "eve@example.com")
    text = mail_text(mail)
    assert text.startswith("Hello Nina,") and "for 7 days" in text


def test_a_member_who_reads_traditional_chinese_gets_it(app, session, client, admin) -> None:
    _invite(client, "mei@example.com", language="zh-Hant")
    (mail,) = _mails(session, "mei@example.com")
    text = mail_text(mail)
    assert "設定您的密碼" in text and "帳戶" in text and "设置" not in text


def test_the_link_works_once_and_signs_the_member_in(app, session, client, admin) -> None:
    _invite(client)
    path = _link(_mails(session, "nina@example.com")[0])
    member = app.test_client()
    page = member.get(path + "&lang=en")
    assert page.status_code == 200 and "Choose your password" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    done = _choose(member, path)
    assert done.status_code == 302 and done.headers["Location"].endswith("/staff/")
    assert member.get("/staff/account").status_code == 200  # signed in
    login(app.test_client(), "nina@example.com", NEW_PASSWORD)
    # Used: a clear page, in either language, and no second password.
    again = app.test_client()
    for language, words in (("en", GONE), ("zh", "此链接已失效")):
        again.set_cookie("lang", language)
        shown = again.get(path)
        assert shown.status_code == 410 and words in shown.get_data(as_text=True)
    assert _choose(app.test_client(), path, "another long secret").status_code == 410
    listed = client.get("/staff/admin/users").get_data(as_text=True)
    assert "invited, not yet signed in" not in listed


def test_the_sign_in_pages_show_no_faq_search_but_the_language_switch(
    app, session, client, admin
) -> None:
    # Staff signing in were offered "Search the FAQ" in the header: the customers' search,
    # of no use to them there. The language switch stays.
    _invite(client)
    path = _link(_mails(session, "nina@example.com")[0])
    visitor = app.test_client()
    for language, other in (("en", "中文"), ("zh", "English")):
        visitor.set_cookie("lang", language)
        pages = {
            "/staff/login": 200,
            "/staff/forgot-password": 200,
            path: 200,
            "/staff/password?token=x": 410,
        }
        for url, status in pages.items():
            response = visitor.get(url)
            page = response.get_data(as_text=True)
            assert response.status_code == status, url
            assert 'id="site-search"' not in page and "faq/search" not in page, url
            header = page.split("<header", 1)[1].split("</header>", 1)[0]
            assert 'class="lang-switch"' in header and f">{other}</a>" in header, url
    # The customers' pages keep it.
    assert 'id="site-search"' in visitor.get("/contact").get_data(as_text=True)


def test_an_expired_link_does_not_work(app, session, client, admin, monkeypatch) -> None:
    app.config["STAFF_INVITATION_HOURS"] = 1
    _invite(client)
    path = _link(_mails(session, "nina@example.com")[0])
    later = utcnow() + timedelta(hours=1, seconds=1)
    monkeypatch.setattr(support.staff.password_links, "utcnow", lambda: later)
    assert _choose(app.test_client(), path).status_code == 410


def test_a_resent_invitation_replaces_the_old_link(app, session, client, admin) -> None:
    _invite(client)
    nina = session.scalar(select(User).where(User.email == "nina@example.com"))
    session.commit()
    first = _link(_mails(session, "nina@example.com")[0])
    assert client.post(f"/staff/admin/users/{nina.id}/invitation").status_code == 302
    mails = _mails(session, "nina@example.com")
    assert len(mails) == 2
    second = _link(mails[1])
    assert _choose(app.test_client(), first).status_code == 410
    assert _choose(app.test_client(), second).status_code == 302


def test_a_password_change_ends_the_link(app, session, client, admin) -> None:
    ann = make_user(session, email="ann@example.com")
    session.commit()
    client.post("/staff/forgot-password", data={"email": "ann@example.com"})
    path = _link(_mails(session, "ann@example.com")[0])
    # Ann remembers her password and changes it on her account page.
    own = app.test_client()
    login(own, "ann@example.com")
    own.post(
        "/staff/account",
        data={
            "password-current": PASSWORD,
            "password-new": "changed it myself",
            "password-submit": "y",
        },
    )
    session.refresh(ann)
    session.commit()
    assert _choose(app.test_client(), path).status_code == 410
    login(app.test_client(), "ann@example.com", "changed it myself")


def test_forgot_password_answers_the_same_for_an_unknown_address(app, session) -> None:
    make_user(session, email="ann@example.com", language="en")
    make_user(session, email="gone@example.com", is_active=False)
    session.commit()
    answers = []
    for email in ("ann@example.com", "nobody@example.com", "gone@example.com"):
        visitor = app.test_client()
        visitor.set_cookie("lang", "en")
        sent = visitor.post("/staff/forgot-password", data={"email": email})
        assert sent.status_code == 302
        answers.append(visitor.get(sent.headers["Location"]).get_data(as_text=True))
    assert all(NEUTRAL in page for page in answers)
    assert [len(_mails(session, e)) for e in ("ann@example.com", "gone@example.com")] == [1, 0]
    (mail,) = _mails(session, "ann@example.com")
    assert "reset the password" in mail_text(mail) and "60 minutes" in mail_text(mail)
    assert _choose(app.test_client(), _link(mail)).status_code == 302
    login(app.test_client(), "ann@example.com", NEW_PASSWORD)


def test_reset_requests_are_limited_per_address_and_per_client(app, session) -> None:
    app.config.update(STAFF_RESET_MAX_PER_HOUR=2, STAFF_RESET_CLIENT_MAX_PER_HOUR=4)
    make_user(session, email="ann@example.com")
    session.commit()
    for n in range(4):  # four clients
        app.test_client().post(
            "/staff/forgot-password",
            data={"email": "ann@example.com"},
            environ_base={"REMOTE_ADDR": f"198.51.100.{n}"},
        )
    assert len(_mails(session, "ann@example.com")) == 2  # the address's limit
    one = app.test_client()
    one.set_cookie("lang", "en")
    codes = [
        one.post(
            "/staff/forgot-password",
            data={"email": f"guess{n}@example.com"},
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        ).status_code
        for n in range(5)
    ]
    assert codes == [302, 302, 302, 302, 429]


def test_the_forms_need_the_csrf_token(app, session) -> None:
    make_user(session, email="ann@example.com")
    session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    visitor = app.test_client()
    visitor.post("/staff/forgot-password", data={"email": "ann@example.com"})
    assert _mails(session, "ann@example.com") == []
    app.config["WTF_CSRF_ENABLED"] = False
    visitor.post("/staff/forgot-password", data={"email": "ann@example.com"})
    path = _link(_mails(session, "ann@example.com")[0])
    app.config["WTF_CSRF_ENABLED"] = True
    refused = _choose(app.test_client(), path)
    assert refused.status_code == 400  # refused before the view: the password unchanged
    app.config["WTF_CSRF_ENABLED"] = False
    login(app.test_client(), "ann@example.com", PASSWORD)


def test_a_short_password_is_refused_and_the_link_still_works(app, session) -> None:
    make_user(session, email="ann@example.com")
    session.commit()
    app.test_client().post("/staff/forgot-password", data={"email": "ann@example.com"})
    path = _link(_mails(session, "ann@example.com")[0])
    visitor = app.test_client()
    visitor.set_cookie("lang", "en")
    short = _choose(visitor, path, "short")
    assert short.status_code == 200 and "At least 10 characters" in short.get_data(as_text=True)
    assert _choose(visitor, path).status_code == 302


def test_a_hostile_token_gets_the_clear_page(app, session, client) -> None:
    for token in ("x", "é" * 5000, "%00", "a" * 43):
        assert client.get("/staff/password", query_string={"token": token}).status_code == 410
        assert client.post("/staff/password", data={"token": token}).status_code == 410
    assert staff_tokens.valid_token(session, "é" * 5000, utcnow()) is None
    # No token at all: the page that sends one.
    assert client.get("/staff/password").headers["Location"].endswith("/staff/forgot-password")


def _edit(client, user_id: int, email: str, *, active: bool = True):
    data = {"email": email, "name": "Nina", "role": "agent", "language": "en"}
    if active:
        data["is_active"] = "y"
    return client.post(f"/staff/admin/users/{user_id}", data=data)


def test_a_reactivated_account_s_old_links_stay_dead(app, session, client, admin) -> None:
    ann = make_user(session, email="ann@example.com", name="Nina")
    session.commit()
    app.test_client().post("/staff/forgot-password", data={"email": "ann@example.com"})
    path = _link(_mails(session, "ann@example.com")[0])
    assert _edit(client, ann.id, "ann@example.com", active=False).status_code == 302
    assert _edit(client, ann.id, "ann@example.com").status_code == 302
    # The link mailed before she left does not open her account now she is back.
    assert _choose(app.test_client(), path).status_code == 410
    login(app.test_client(), "ann@example.com", PASSWORD)


def test_a_new_address_ends_the_link_sent_to_the_old_one(app, session, client, admin) -> None:
    _invite(client, "nina@exmaple.com")  # mistyped: a stranger's mailbox gets the link
    nina = session.scalar(select(User).where(User.email == "nina@exmaple.com"))
    session.commit()
    stranger = _link(_mails(session, "nina@exmaple.com")[0])
    assert _edit(client, nina.id, "nina@example.com").status_code == 302
    assert _choose(app.test_client(), stranger).status_code == 410
    # The right address gets a new invitation of its own, which works.
    (mail,) = _mails(session, "nina@example.com")
    assert _choose(app.test_client(), _link(mail)).status_code == 302


def test_a_link_spent_meanwhile_sets_no_second_password(db, session) -> None:
    """Two requests with one link at once: both read it unused, one alone may spend it."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite runs one writing request at a time: no two read it unused")
    ann = make_user(session, email="ann@example.com")
    now = utcnow()
    token = staff_tokens.issue(
        session, ann, staff_tokens.PURPOSE_RESET, lifetime=timedelta(hours=1), now=now
    )
    session.commit()
    found = staff_tokens.valid_token(session, token, now)  # this request read it unused
    assert found is not None
    with db.session() as other:  # another request with the same link, done first
        theirs = staff_tokens.valid_token(other, token, now)
        assert theirs is not None and staff_tokens.use(other, theirs, now) is True
    assert staff_tokens.use(session, found, now) is False


NOT_SENT = "No outgoing mail server is set up"


def test_with_no_relay_the_admin_learns_the_invitation_was_not_sent(
    app, session, client, admin
) -> None:
    # A fresh install has no relay: the invitation is only a file in instance/outbox/, and
    # "on its way" left the admin waiting for a colleague who never got it.
    _invite(client, language="en")
    page = client.get("/staff/admin/users").get_data(as_text=True)
    assert NOT_SENT in page and "on its way" not in page
    # The command as typed in any shell: ./start.sh puts no `support` on PATH.
    command = command_line(absolute=True, instance=app.instance_path)
    assert f"{command} set-password nina@example.com" in page
    assert str(app.instance_path) in page and "Resend invitation" in page
    nina = session.scalar(select(User).where(User.email == "nina@example.com"))
    assert nina is not None
    session.commit()
    again = client.post(f"/staff/admin/users/{nina.id}/invitation", follow_redirects=True)
    again_page = again.get_data(as_text=True)
    assert NOT_SENT in again_page and "on its way" not in again_page


def test_a_chinese_admin_reads_that_in_chinese(app, session, client, admin) -> None:
    client.set_cookie("lang", "zh")
    client.set_cookie("script", "hant")
    _invite(client, "mei@example.com")
    page = client.get("/staff/admin/users").get_data(as_text=True)
    assert "尚未設定外發郵件伺服器" in page and "「重新發送邀請」" in page
    client.set_cookie("script", "hans")
    _invite(client, "lan@example.com")
    page = client.get("/staff/admin/users").get_data(as_text=True)
    assert "尚未设置外发邮件服务器" in page and "“重新发送邀请”" in page


@pytest.mark.parametrize("app_settings", [{"OUTBOUND_SMTP_HOST": "smtp.example.com"}])
def test_with_a_relay_the_invitation_is_on_its_way(app, session, client, admin) -> None:
    _invite(client, language="en")
    page = client.get("/staff/admin/users").get_data(as_text=True)
    assert "An invitation is on its way" in page and NOT_SENT not in page


def test_without_an_outgoing_server_the_reset_page_says_how_else(app, session) -> None:
    # Seen from a fresh install: the admin who lost the printed password asked for a link, read
    # "a link ... is on its way" and waited; with no outgoing mail server none ever leaves (the
    # file in instance/outbox/ has the link taken out). Said for every address alike.
    make_user(session, email="ann@example.com", language="en")
    session.commit()
    visitor = app.test_client()
    visitor.set_cookie("lang", "en")
    hint = "support set-password"
    assert hint in visitor.get("/staff/forgot-password").get_data(as_text=True)
    for email in ("ann@example.com", "nobody@example.com"):
        sent = visitor.post("/staff/forgot-password", data={"email": email})
        page = visitor.get(sent.headers["Location"]).get_data(as_text=True)
        assert NEUTRAL in page and hint in page and "No outgoing mail server" in page
    app.config["OUTBOUND_SMTP_HOST"] = "smtp.example.com"
    assert hint not in visitor.get("/staff/forgot-password").get_data(as_text=True)
