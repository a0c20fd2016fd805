"""Administration: accounts, departments, API tokens; every change is audited."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from support.auth import hash_api_token
from support.desk.actions import compose_reply_text
from support.desk.models import AuditEvent, Department, User
from support.desk.outbox import sender_identity
from tests.factories import make_ticket, make_user
from tests.support.staff_helpers import PASSWORD, login


def _audit_actions(session) -> list[str]:
    found = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    session.commit()
    return found


def test_admin_creates_changes_and_deactivates_a_user(app, session, client) -> None:
    make_user(session, email="admin@example.com", role="admin")
    service = session.scalar(select(Department.id).where(Department.code == "service"))
    sales = session.scalar(select(Department.id).where(Department.code == "sales"))
    session.commit()
    login(client, "admin@example.com")
    created = client.post(
        "/staff/admin/users/new",
        data={
            "email": "New@Example.com",
            "name": "Nina",
            "role": "agent",
            "departments": [service, sales],
            "can_triage": "y",
            "is_active": "y",
            "language": "zh",
        },
    )
    assert created.status_code == 302
    nina = session.scalar(select(User).where(User.email == "new@example.com"))
    assert sorted(d.code for d in nina.departments) == ["sales", "service"]
    assert nina.can_triage and nina.language == "zh"
    session.commit()
    # The list names the departments as people read them, not by their routing code.
    listed = client.get("/staff/admin/users?lang=zh").get_data(as_text=True)
    assert "客户服务部" in listed and ">sales, service<" not in listed
    # No password typed by the admin: she is invited and chooses her own (test_password_links).
    assert "已邀请，尚未登录" in listed
    form = client.get(f"/staff/admin/users/{nina.id}?lang=zh").get_data(as_text=True)
    assert "客户服务部" in form

    client.post(
        f"/staff/admin/users/{nina.id}",
        data={"email": "new@example.com", "name": "Nina", "role": "lead", "departments": [sales]},
    )
    session.refresh(nina)
    assert nina.role == "lead" and not nina.is_active
    assert [d.code for d in nina.departments] == ["sales"]
    session.commit()
    refused = app.test_client().post(
        "/staff/login", data={"email": "new@example.com", "password": "a long enough secret"}
    )
    assert refused.status_code == 200  # deactivated: no sign-in
    changes = [a for a in _audit_actions(session) if a in ("user.created", "user.updated")]
    assert changes == ["user.created", "user.updated"]


def test_admin_cannot_lock_themselves_out(app, session, client) -> None:
    admin = make_user(session, email="admin@example.com", role="admin")
    session.commit()
    login(client, "admin@example.com")
    page = client.post(
        f"/staff/admin/users/{admin.id}",
        data={"email": "admin@example.com", "name": "Admin", "role": "agent", "is_active": "y"},
    )
    assert page.status_code == 200 and "cannot remove your own admin role" in page.get_data(
        as_text=True
    )
    session.refresh(admin)
    assert admin.role == "admin"
    session.commit()


def test_duplicate_address_is_refused(app, session, client) -> None:
    make_user(session, email="admin@example.com", role="admin")
    make_user(session, email="taken@example.com")
    session.commit()
    login(client, "admin@example.com")
    page = client.post(
        "/staff/admin/users/new",
        data={"email": "taken@example.com", "name": "X", "role": "agent"},
    )
    html = page.get_data(as_text=True)
    assert "Another account uses this address." in html
    # A screen reader hears the refusal with the field, not only sighted staff below it.
    box = (
        html.split('id="email"')[0].rsplit("<input", 1)[1]
        + html.split('id="email"')[1].split(">")[0]
    )
    assert 'aria-invalid="true"' in box and 'aria-describedby="email-error"' in box
    assert (
        '<div class="error-text" id="email-error">Another account uses this address.</div>' in html
    )


#: A new department as the admin's form posts it.
WHOLESALE = {
    "code": "wholesale",
    "name": "Wholesale",
    "name_zh": "批发部",
    "email_address": "wholesale@example.com",
    "display_name": "Lumen Wholesale",
    "is_active": "y",
}


def test_departments_are_added_renamed_and_retired(app, session, client) -> None:
    make_user(session, email="admin@example.com", role="admin")
    session.commit()
    login(client, "admin@example.com")
    form = dict(WHOLESALE)
    assert client.post("/staff/admin/departments/new", data=form).status_code == 302
    wholesale = session.scalar(select(Department).where(Department.code == "wholesale"))
    session.commit()
    assert "Wholesale" in client.get("/staff/inbox/wholesale").get_data(as_text=True)
    client.post(
        f"/staff/admin/departments/{wholesale.id}",
        data={**form, "name": "Trade Sales", "display_name": "Lumen Trade"},
    )
    client.post(
        f"/staff/admin/departments/{wholesale.id}",
        data={**form, "name": "Trade Sales", "is_active": ""},
    )
    session.refresh(wholesale)
    assert wholesale.name == "Trade Sales" and not wholesale.is_active
    session.commit()
    clash = client.post(
        "/staff/admin/departments/new",
        data={**form, "code": "other", "email_address": "sales@example.com"},
    )
    assert "Another department uses this address." in clash.get_data(as_text=True)
    actions = _audit_actions(session)
    assert actions[-3:] == ["department.created", "department.updated", "department.retired"]


def test_account_page_issues_a_token_once(app, session, client) -> None:
    user = make_user(session, email="ann@example.com")
    session.commit()
    login(client, "ann@example.com")
    page = client.post("/staff/account", data={}).get_data(as_text=True)
    token = page.split('data-testid="api-token">')[1].split("<")[0]
    session.refresh(user)
    assert user.api_token_hash == hash_api_token(token)
    session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page = client.get("/staff/account?lang=en").get_data(as_text=True)
    assert token not in page
    assert '"Authorization: Bearer &lt;token&gt;"' in page  # shown, not read as a tag


def test_create_api_token_command(app, session, database_url, tmp_path) -> None:
    from support.cli import cli

    user = make_user(session, email="bot@example.com")
    session.commit()
    instance = tmp_path / "cli"
    instance.mkdir()
    (instance / "config.toml").write_text(
        f'secret_key = "cli-test-secret"\ndatabase_url = "{database_url}"\n'
    )
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--instance", str(instance), "create-api-token", "BOT@example.com"]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    session.refresh(user)
    assert user.api_token_hash == hash_api_token(token)
    session.commit()
    missing = runner.invoke(cli, ["--instance", str(instance), "create-api-token", "x@y.z"])
    assert missing.exit_code != 0 and "no active staff account" in missing.output


def test_a_new_departments_members_are_chosen_on_its_own_page(app, session, client) -> None:
    make_user(session, email="admin@example.com", role="admin")
    ann = make_user(session, email="ann@example.com", name="Ann", departments=("service",))
    make_user(session, email="bob@example.com", name="Bob", departments=("sales",))
    session.commit()
    login(client, "admin@example.com")
    form = dict(WHOLESALE)
    client.post("/staff/admin/departments/new", data={**form, "members": [str(ann.id)]})
    wholesale = session.scalar(select(Department).where(Department.code == "wholesale"))
    assert [u.email for u in wholesale.members] == ["ann@example.com"]
    session.commit()
    page = client.get(f"/staff/admin/departments/{wholesale.id}?lang=zh").get_data(as_text=True)
    assert "<h1>批发部</h1>" in page and "Ann &lt;ann@example.com&gt;" in page
    checked = page[: page.index("Ann &lt;ann@example.com&gt;")].rsplit("<input", 1)[1]
    assert "checked" in checked
    client.post("/staff/logout")
    login(client, "ann@example.com")
    assert client.get("/staff/inbox/wholesale").status_code == 200
    session.refresh(ann)
    assert sorted(d.code for d in ann.departments) == ["service", "wholesale"]  # kept her others
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "department.created")
    ).one()
    assert event.data["after"]["members"] == ["ann@example.com"]


def test_a_post_without_the_checklist_keeps_members_and_departments(app, session, client) -> None:
    # A scripted POST to the department form without the members field cleared its members
    # (and one to a user's form without departments, the person's departments); the page's
    # own form says it listed the boxes, so unticking them all still clears.
    make_user(session, email="admin@example.com", role="admin")
    ann = make_user(session, email="ann@example.com", name="Ann", departments=("service",))
    session.commit()
    login(client, "admin@example.com")
    client.post("/staff/admin/departments/new", data={**WHOLESALE, "members": [str(ann.id)]})
    wholesale = session.scalar(select(Department).where(Department.code == "wholesale"))
    session.commit()
    page = client.get(f"/staff/admin/departments/{wholesale.id}").get_data(as_text=True)
    assert 'name="members_listed"' in page
    renamed = {**WHOLESALE, "name": "Wholesale and trade"}
    client.post(f"/staff/admin/departments/{wholesale.id}", data=renamed)
    session.refresh(wholesale)
    assert wholesale.name == "Wholesale and trade"
    assert [u.email for u in wholesale.members] == ["ann@example.com"]
    session.commit()  # SQLite: end the read transaction before the app writes
    client.post(
        f"/staff/admin/users/{ann.id}",
        data={"email": "ann@example.com", "name": "Ann Lee", "role": "agent", "is_active": "y"},
    )
    session.refresh(ann)
    assert ann.name == "Ann Lee"
    assert sorted(d.code for d in ann.departments) == ["service", "wholesale"]
    session.commit()
    client.post(f"/staff/admin/departments/{wholesale.id}", data={**renamed, "members_listed": "1"})
    session.refresh(wholesale)
    assert wholesale.members == []


def test_staff_choose_the_language_of_their_own_mail(app, session, client) -> None:
    # Only an admin could set it (on the user form): an English-reading agent on a desk whose
    # default is Chinese got every assignment and new-ticket mail in Chinese.
    from support.desk.mail import language_of

    agent = make_user(session, email="ann@example.com")
    session.commit()
    app.config["DEFAULT_LANGUAGE"] = "zh"
    assert language_of(agent, app.config) == "zh"
    login(client, "ann@example.com")
    page = client.get("/staff/account?lang=en").get_data(as_text=True)
    assert "Language of your pages and mail" in page and "Default (as the browser asks)" in page
    assert "in the desk's language, 中文" in page  # what Default means, said beside it
    client.post("/staff/account", data={"language-language": "en", "language-submit": "Save"})
    session.refresh(agent)
    assert agent.language == "en" and language_of(agent, app.config) == "en"
    assert agent.api_token_hash is None  # the token form's button was not pressed
    session.commit()
    page = client.get("/staff/account?lang=en").get_data(as_text=True)
    assert "your pages and the mail to you are in the language chosen" in page
    assert '<option selected value="en">' in page
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.language_changed")
    ).one()
    assert event.data["after"] == {"language": "en"}


def test_the_account_page_says_how_long_a_new_password_must_be(app, session, client) -> None:
    # The label said only "新密码": the rule showed only once a shorter password came back
    # ("字段长度必须介于 10 到 500 个字符之间", WTForms' words); the admin's form said it.
    make_user(session, email="ann@example.com")
    session.commit()
    login(client, "ann@example.com")
    page = client.get("/staff/account?lang=zh").get_data(as_text=True)
    assert "新密码（至少 10 个字符）" in page
    page = client.post(
        "/staff/account?lang=zh",
        data={
            "password-current": PASSWORD,
            "password-new": "short-pw",
            "password-submit": "1",
        },
    ).get_data(as_text=True)
    assert "至少 10 个字符，最多 500 个。" in page


def test_saving_ones_name_says_how_replies_are_signed(app, session, client) -> None:
    # "Saved: your replies are signed with the name customers see." when that field was left
    # empty: a new admin could not tell which name their replies would carry.
    make_user(session, email="ann@example.com", name="Administrator")
    session.commit()
    login(client, "ann@example.com")
    client.post("/staff/account", data={"name-name": "Chen Jing", "name-submit": "Save"})
    page = client.get("/staff/account?lang=en").get_data(as_text=True)
    assert "Saved: your replies are signed “Chen Jing”." in page
    data = {"name-name": "陈静", "name-display_alias": "小陈", "name-submit": "保存"}
    client.post("/staff/account?lang=zh", data=data)
    assert "已保存：您的回复将署名“小陈”。" in client.get("/staff/account?lang=zh").get_data(
        as_text=True
    )


def test_staff_set_the_name_customers_see_on_their_own_account_page(app, session, client) -> None:
    # The first admin of a new desk is "Administrator", and replies went out signed and sent
    # as "Administrator (客户服务部)": only an admin's user form could change it.
    agent = make_user(session, email="ann@example.com", name="Administrator")
    session.commit()
    login(client, "ann@example.com")
    page = client.get("/staff/account?lang=zh").get_data(as_text=True)
    assert "客户看到的名字" in page and 'value="Administrator"' not in page  # asks for a name
    assert "在您设置自己的名字之前" in page
    response = client.post(
        "/staff/account",
        data={"name-name": "李丽", "name-display_alias": "小李", "name-submit": "保存"},
    )
    assert response.status_code == 302
    session.refresh(agent)
    assert (agent.name, agent.display_alias, agent.signature_name) == ("李丽", "小李", "小李")
    assert agent.api_token_hash is None  # the token form's button was not pressed
    session.commit()
    client.post("/staff/account", data={"name-name": "", "name-submit": "Save"})
    session.refresh(agent)
    assert agent.name == "李丽"  # a name is required: an empty one changes nothing
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.name_changed")
    ).one()
    assert event.data["after"] == {"name": "李丽", "display_alias": "小李"}


def test_an_unnamed_first_admin_is_asked_for_a_name_and_never_signs_as_administrator(
    app, session, client
) -> None:
    # Replies went out signed and sent as "Administrator (Customer Service)" and nothing on
    # the staff pages said so.
    admin = make_user(session, email="admin@example.com", name="Administrator", role="admin")
    ticket = make_ticket(session)
    session.commit()
    assert admin.needs_name and admin.signature_name == ""
    text = compose_reply_text(ticket, admin, "It is covered.", app.config)
    assert "Administrator" not in text and "Customer Service" in text
    assert "Administrator" not in sender_identity(ticket.department, app.config, admin)[0]
    session.commit()
    login(client, "admin@example.com")
    # Said on every staff page but the inbox, where Getting started's "Next: Set your name"
    # says it already (a trial found the two one above the other); the name is its first step.
    for lang, notice in (("en", "until you set your own name"), ("zh", "您的回复只署团队的名字")):
        page = client.get(f"/staff/dashboard?lang={lang}").get_data(as_text=True)
        assert notice in page and 'href="/staff/account#name-name"' in page
        inbox = client.get(f"/staff/?lang={lang}", follow_redirects=True).get_data(as_text=True)
        assert notice not in inbox
        next_step = inbox.partition('data-testid="next-step"')[2].partition("</p>")[0]
        assert 'href="/staff/account#name-name"' in next_step
    client.post("/staff/account", data={"name-name": "Li Lei", "name-submit": "Save"})
    assert "until you set your own name" not in client.get("/staff/dashboard?lang=en").get_data(
        as_text=True
    )
    session.refresh(admin)
    assert admin.signature_name == "Li Lei"


def test_an_unnamed_admin_is_called_administrator_in_the_pages_language(
    app, session, client
) -> None:
    # Chinese pages said "Administrator" in English wherever the unnamed first admin's name
    # shows: the header, the inbox's assignee column, the ticket, its history, the staff list.
    make_user(session, email="admin@example.com", name="Administrator", role="admin")
    note_by = "Administrator"
    ticket = make_ticket(session, subject="水壶坏了")
    session.commit()
    login(client, "admin@example.com")
    client.post(f"/staff/tickets/{ticket.id}/take")
    client.post(f"/staff/tickets/{ticket.id}/note", data={"note-body": "已联系客户。"})
    session.commit()
    for path in (
        "/staff/inbox/service?lang=zh",
        f"/staff/tickets/{ticket.id}?lang=zh",
        "/staff/admin/users?lang=zh",
    ):
        page = client.get(path).get_data(as_text=True)
        assert note_by not in page, path
        assert "管理员" in page, path
    english = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert 'data-testid="ticket-assignee">Administrator<' in english


def test_an_account_without_a_department_is_pointed_out(app, session, client) -> None:
    # An agent saved with no department ticked saw no tickets and was missing from every
    # ticket's "assign to" list, and nothing said why.
    make_user(session, email="admin@example.com", role="admin")
    service = session.scalar(select(Department.id).where(Department.code == "service"))
    session.commit()
    login(client, "admin@example.com")
    data = {"email": "lilei@example.com", "name": "李雷", "role": "agent", "is_active": "y"}
    data |= {"departments_listed": "1"}
    page = client.post("/staff/admin/users/new?lang=zh", data=data, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "李雷 不属于任何部门" in text
    lilei = session.scalar(select(User).where(User.email == "lilei@example.com"))
    session.commit()
    data |= {"departments": [service]}
    page = client.post(f"/staff/admin/users/{lilei.id}?lang=zh", data=data, follow_redirects=True)
    assert "不属于任何部门" not in page.get_data(as_text=True)


def test_departments_page_shows_the_name_mail_uses_in_each_language(app, session, client):
    """Chinese mail is from 客户服务部 (outbox.team_name), English mail from the display name:
    the page shows both, labelled, the reader's language first."""
    make_user(session, email="admin@example.com", role="admin")
    service = session.scalar(select(Department).where(Department.code == "service"))
    service.name_zh = "客户服务部"
    service.display_name = "Lumen Customer Care"
    session.commit()
    login(client, "admin@example.com")
    for lang, first, second in (
        ("en", "English mail", "Chinese mail"),
        ("zh", "中文邮件", "英文邮件"),
    ):
        html = client.get(f"/staff/admin/departments?lang={lang}").get_data(as_text=True)
        row = html[html.index(f"/staff/admin/departments/{service.id}") :]
        cell = row[row.index('data-testid="mail-names"') : row.index("</tr>")]
        assert "Lumen Customer Care" in cell and "客户服务部" in cell, lang
        assert cell.index(first) < cell.index(second), lang
