"""A fresh install has no outgoing relay: an invitation is then only a file in
instance/outbox/, and the users page says so and names the ways on, instead of "on its way"."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from support.desk.models import User
from tests.factories import make_user
from tests.support.staff_helpers import fast_passwords, login

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)

WRITTEN = "No outgoing mail server is set up"


@pytest.fixture
def admin(app, session, client):
    user = make_user(session, email="admin@example.com", role="admin")
    session.commit()
    login(client, "admin@example.com")
    return user


def _invite(client, email: str = "nina@example.com"):
    data = {"email": email, "name": "Nina", "role": "agent", "is_active": "y", "language": "en"}
    return client.post("/staff/admin/users/new", data=data, follow_redirects=True)


def test_with_no_relay_the_admin_learns_the_invitation_was_not_sent(
    app, session, client, admin
) -> None:
    page = _invite(client).get_data(as_text=True)
    assert WRITTEN in page and "on its way" not in page
    assert "support set-password nina@example.com" in page
    assert str(app.instance_path) in page and "Resend invitation" in page
    nina = session.scalar(select(User).where(User.email == "nina@example.com"))
    assert nina is not None
    session.commit()
    again = client.post(f"/staff/admin/users/{nina.id}/invitation", follow_redirects=True)
    again_page = again.get_data(as_text=True)
    assert WRITTEN in again_page and "on its way" not in again_page


def test_a_chinese_admin_reads_it_in_chinese(app, session, client, admin) -> None:
    client.set_cookie("lang", "zh")
    client.set_cookie("script", "hant")
    page = _invite(client, "mei@example.com").get_data(as_text=True)
    assert "尚未設定外發郵件伺服器" in page and "「重新發送邀請」" in page
    client.set_cookie("script", "hans")
    page = _invite(client, "lan@example.com").get_data(as_text=True)
    assert "尚未设置外发邮件服务器" in page and "“重新发送邀请”" in page


@pytest.mark.parametrize("app_settings", [{"OUTBOUND_SMTP_HOST": "smtp.example.com"}])
def test_with_a_relay_nothing_more_is_said(app, session, client, admin) -> None:
    page = _invite(client).get_data(as_text=True)
    assert "An invitation is on its way" in page and WRITTEN not in page
