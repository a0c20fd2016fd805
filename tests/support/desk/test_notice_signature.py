"""A notice staff answer by mail said the reply is "signed with your name"; until they set one
(the first admin `support init` calls "Administrator") it is signed with the team's name only,
and the notice now says so and where to set a name."""

from __future__ import annotations

from support.desk.models import UNNAMED_ADMIN
from support.desk.notifications import notify_assigned, notify_new_ticket
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import mail_text, outbound

NAMED_EN = "signed with your name."
NAMED_ZH = "并署上您的名字。"
UNNAMED_EN = "signed with your team's name only, until you set your name on your account page:"
UNNAMED_ZH = "在您于“我的账户”页面设置自己的名字之前，只署团队的名字："


def test_the_notice_says_how_a_mailed_reply_is_signed(app, session) -> None:
    unnamed_en = make_user(session, email="admin@example.com", name=UNNAMED_ADMIN, role="admin",
                           language="en")  # fmt: skip
    make_user(session, email="admin-zh@example.com", name=UNNAMED_ADMIN, role="admin",
              language="zh")  # fmt: skip
    make_user(session, email="li@example.com", name="Li Lei", language="zh")
    make_user(session, email="dana@example.com", name="Dana", language="en")
    # An alias signs the reply too: a name is set.
    make_user(session, email="alias@example.com", name=UNNAMED_ADMIN, display_alias="Lily",
              language="en")  # fmt: skip
    ticket = make_ticket(session, subject="Kettle broken")
    session.commit()
    with app.app_context():
        assert notify_new_ticket(session, ticket, app.config)
    session.commit()
    texts = {mail.recipients[0]: mail_text(mail) for mail in outbound(session, ticket)}
    account = f"{app.config['PUBLIC_BASE_URL'].rstrip('/')}/staff/account#name-name"

    for address in ("admin@example.com", "admin-zh@example.com"):
        assert account in texts[address]
    assert UNNAMED_EN in texts["admin@example.com"]
    assert NAMED_EN not in texts["admin@example.com"]
    assert UNNAMED_ZH in texts["admin-zh@example.com"]
    assert NAMED_ZH not in texts["admin-zh@example.com"]
    for address, named in (("li@example.com", NAMED_ZH), ("dana@example.com", NAMED_EN),
                           ("alias@example.com", NAMED_EN)):  # fmt: skip
        assert named in texts[address] and account not in texts[address]

    # Every answerable notice shares the line: an assignment to the unnamed admin too.
    by = make_user(session, email="lead@example.com", name="Wang Wei", role="lead")
    session.commit()
    with app.app_context():
        assert notify_assigned(session, ticket, unnamed_en, by, app.config)
    session.commit()
    [assigned] = [
        mail_text(mail) for mail in outbound(session, ticket) if "Assigned to you" in mail.subject
    ]
    assert UNNAMED_EN in assigned and account in assigned


def test_a_notice_from_the_unnamed_admin_names_them_in_the_readers_language(app, session):
    admin = make_user(session, email="admin@example.com", name=UNNAMED_ADMIN, role="admin")
    agent = make_user(session, email="li@example.com", name="Li Lei", language="zh")
    ticket = make_ticket(session, subject="Kettle broken")
    session.commit()
    with app.app_context():
        assert notify_assigned(session, ticket, agent, admin, app.config)
    session.commit()
    [mail] = outbound(session, ticket)
    text = mail_text(mail)
    assert "管理员" in mail.subject and "管理员" in text
    assert UNNAMED_ADMIN not in mail.subject and UNNAMED_ADMIN not in text
