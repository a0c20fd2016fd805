"""The agent's ticket page without a browser: saved replies (placeholders, access, management),
send and next, triage's best guess and reason, the move warning and history in words."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from faq.models import Article, Category
from support.core.db import utcnow
from support.desk import actions, merging, saved_replies
from support.desk.models import AuditEvent, SavedReply, Ticket
from support.desk.sla import start_clock
from tests.factories import department, make_customer, make_ticket, make_user, same_matter_tickets
from tests.support.staff_helpers import login

BODY = "Dear {customer_name}, about {reference}: {agent_name} answers by {due_time}. {unknown}"


def _saved(session, owner, *, scope="personal", department_code=None, body=BODY) -> SavedReply:
    reply = SavedReply(
        scope=scope,
        owner_id=owner.id,
        department_id=department(session, department_code).id if department_code else None,
        title=f"Reply {scope}",
        body=body,
    )
    session.add(reply)
    session.flush()
    return reply


def test_fill_replaces_known_placeholders_and_keeps_unknown_ones() -> None:
    values = {"customer_name": "Li <b>Wei</b>", "reference": "SUP-00001"}
    text = saved_replies.fill("Hi {customer_name} ({reference}) {nope} {REFERENCE} {", values)
    assert text == "Hi Li <b>Wei</b> (SUP-00001) {nope} {REFERENCE} {"


def test_placeholder_values_use_the_alias_and_the_local_due_time(session) -> None:
    agent = make_user(session, name="Wei Li", display_alias="Vivian")
    customer = make_customer(session, name="Chen Jing")
    ticket = make_ticket(session, customer=customer)
    ticket.first_response_due_at = utcnow().replace(
        year=2026, month=5, day=4, hour=2, minute=0, second=0, microsecond=0
    )
    values = saved_replies.placeholder_values(ticket, agent, "Asia/Shanghai")
    assert values == {
        "customer_name": "Chen Jing",
        "reference": ticket.reference,
        "agent_name": "Vivian",
        "due_time": "2026-05-04 10:00 (Asia/Shanghai, UTC+8)",
    }


def test_the_due_time_placeholder_names_the_zone_as_the_customers_mail_does(session) -> None:
    # Inserted into an answer to a Chinese writer: 北京时间, as in their acknowledgement, not
    # the programmer's "Asia/Shanghai".
    agent = make_user(session)
    ticket = make_ticket(session, language="zh")
    ticket.first_response_due_at = utcnow().replace(
        year=2026, month=5, day=4, hour=2, minute=0, second=0, microsecond=0
    )
    values = saved_replies.placeholder_values(ticket, agent, "Asia/Shanghai")
    assert values["due_time"] == "2026-05-04 10:00（北京时间）"


def test_filled_reply_comes_as_plain_text_json_for_a_visible_ticket(client, session) -> None:
    agent = make_user(session, name="Wei Li", display_alias="Vivian")
    customer = make_customer(session, name="Li <script>x</script>")
    ticket = make_ticket(session, customer=customer)
    reply = _saved(session, agent)
    session.commit()
    login(client, agent.email)
    response = client.get(f"/staff/tickets/{ticket.id}/saved-replies/{reply.id}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    text = response.get_json()["text"]
    assert text.startswith(f"Dear Li <script>x</script>, about {ticket.reference}: Vivian")
    assert text.endswith("{unknown}")
    assert response.headers["Cache-Control"] == "private, no-store"


def test_another_departments_agent_cannot_fetch_a_filled_reply(client, session) -> None:
    lead = make_user(session, role="lead", departments=("service",))
    outsider = make_user(session, departments=("sales",))
    ticket = make_ticket(session, department_code="service")
    team = _saved(session, lead, scope="everyone")
    mine = _saved(session, outsider)
    theirs = _saved(session, lead)
    session.commit()
    login(client, outsider.email)
    assert client.get(f"/staff/tickets/{ticket.id}/saved-replies/{team.id}").status_code == 404
    assert client.get(f"/staff/tickets/{ticket.id}/saved-replies/{mine.id}").status_code == 404
    sales_ticket = make_ticket(session, department_code="sales")
    session.commit()
    url = f"/staff/tickets/{sales_ticket.id}/saved-replies"
    assert client.get(f"{url}/{mine.id}").status_code == 200
    assert client.get(f"{url}/{theirs.id}").status_code == 404  # someone else's personal one


def test_without_javascript_the_insert_button_fills_the_reply_box(client, session) -> None:
    agent = make_user(session, display_alias="Vivian")
    customer = make_customer(session, name="Li <b>Wei</b>")
    ticket = make_ticket(session, customer=customer)
    reply = _saved(session, agent, body="Hello {customer_name}, {agent_name} here.")
    session.commit()
    login(client, agent.email)
    response = client.post(
        f"/staff/tickets/{ticket.id}/reply",
        data={"reply-body": "First line.", "saved_reply": str(reply.id), "insert_saved": "1"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "First line.\n\nHello Li &lt;b&gt;Wei&lt;/b&gt;, Vivian here.</textarea>" in page
    assert session.scalar(select(Ticket.first_response_at).where(Ticket.id == ticket.id)) is None


def test_agents_manage_only_their_own_personal_replies(client, session) -> None:
    agent = make_user(session)
    lead = make_user(session, role="lead", departments=("service",))
    team = _saved(session, lead, scope="department", department_code="service")
    session.commit()
    login(client, agent.email)
    page = client.get("/staff/saved-replies").get_data(as_text=True)
    assert team.title in page and f"/staff/saved-replies/{team.id}/edit" not in page
    assert client.get(f"/staff/saved-replies/{team.id}/edit").status_code == 403
    assert client.post(f"/staff/saved-replies/{team.id}/delete").status_code == 403
    refused = client.post(
        "/staff/saved-replies",
        data={"title": "All", "body": "x", "scope": "everyone", "department_id": "0"},
    )
    assert refused.status_code == 400  # not a choice an agent has
    made = client.post(
        "/staff/saved-replies",
        data={
            "title": "Mine",
            "body": "Hi {customer_name}",
            "scope": "personal",  # no department field: an agent's page has none
        },
    )
    assert made.status_code == 302
    mine = session.scalar(select(SavedReply).where(SavedReply.title == "Mine"))
    assert mine is not None and mine.owner_id == agent.id and mine.scope == "personal"
    mine_id = mine.id
    session.commit()  # SQLite: a read transaction would block the app's next write
    edited = client.post(
        f"/staff/saved-replies/{mine_id}/edit",
        data={"title": "Mine 2", "body": "Hello", "scope": "personal", "department_id": "0"},
    )
    assert edited.status_code == 302
    assert session.scalar(select(SavedReply.title).where(SavedReply.id == mine_id)) == "Mine 2"
    session.commit()
    assert client.post(f"/staff/saved-replies/{mine_id}/delete").status_code == 302
    session.expunge_all()
    assert session.get(SavedReply, mine_id) is None


def test_a_lead_writes_team_replies_for_their_department_only(client, session) -> None:
    lead = make_user(session, role="lead", departments=("service",))
    session.commit()
    login(client, lead.email)
    finance = department(session, "finance").id
    service = department(session, "service").id
    session.commit()
    denied = client.post(
        "/staff/saved-replies",
        data={"title": "F", "body": "x", "scope": "department", "department_id": str(finance)},
    )
    assert denied.status_code == 400  # finance is not among the lead's choices
    ok = client.post(
        "/staff/saved-replies",
        data={"title": "S", "body": "x", "scope": "department", "department_id": str(service)},
    )
    assert ok.status_code == 302
    made = session.scalar(select(SavedReply).where(SavedReply.title == "S"))
    assert made is not None and made.department_id == service
    session.commit()
    # The department's name in the page's language (it was "Customer Service" on 常用回复).
    page = client.get("/staff/saved-replies?lang=zh").get_data(as_text=True)
    assert f'<option value="{service}">客户服务部</option>' in page


def test_send_and_next_goes_to_the_next_ticket_in_queue_order(client, session, app) -> None:
    agent = make_user(session)
    now = utcnow()
    made = {}
    for subject, urgency, minutes in (("A", 4, 50), ("B", 2, 40), ("C", 4, 30)):
        ticket = make_ticket(session, subject=subject, urgency=urgency)
        start_clock(ticket, app.config, now=now - timedelta(minutes=minutes))
        made[subject] = ticket
    session.commit()
    login(client, agent.email)
    response = client.post(
        f"/staff/tickets/{made['A'].id}/reply",
        data={"reply-body": "We are on it.", "reply-send_next": "1", "queue": "service"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/tickets/{made['C'].id}?queue=service")
    response = client.post(
        f"/staff/tickets/{made['C'].id}/resolve", data={"next": "1", "queue": "service"}
    )
    assert response.headers["Location"].endswith(f"/staff/tickets/{made['B'].id}?queue=service")


def test_triage_preselects_the_guess_and_says_why(client, session) -> None:
    agent = make_user(session, can_triage=True)
    ticket = make_ticket(session, department_code=None, needs_triage=True)
    ticket.classification = {
        "department": {
            "label": "finance",
            "probability": 0.3,
            "reasons": [],
            "source": "fallback",
            "triage_reason": "low_confidence",
        }
    }
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "30% &lt; 45% threshold" in page
    assert "best guess, Finance, is only" in page  # its name, not the code "finance"
    client.set_cookie("lang", "zh")
    assert "最佳猜测是财务部" in client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    finance = department(session, "finance").id
    session.commit()
    assert f'<option selected value="{finance}">Finance</option>' in page


def test_why_it_is_here_shows_the_words_as_the_customer_wrote_them(client, session) -> None:
    # The classifier reads 發票 as 发票 and Taiwan's 保固 as 保修; the agent reads the customer's.
    agent = make_user(session)
    ticket = make_ticket(
        session,
        subject="發票",
        body="請問台北門市可以開發票嗎？保固多久？不急。伺服器又當機了。",
        language="zh",
    )
    ticket.classification = {
        "department": {
            "label": "finance",
            "probability": 0.8,
            "reasons": ["发票", "开发票", "保修"],
            "source": "model",
        },
        "urgency": {
            "label": 2,
            "probability": 0.9,
            "reasons": ["calm: 不急", "当机"],
            "source": "model",
            "calm": "不急",
            "model_label": 4,
            "adjustments": ["rule:当机"],
        },
    }
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    why = page.split('id="class-title"', 1)[1].split("</section>", 1)[0]
    for written in ("<li>發票</li>", "<li>開發票</li>", "<li>保固</li>", "<li>當機</li>"):
        assert written in why
    assert "“當機”" in why  # the keyword that raised it
    assert "<strong>Urgency: </strong>2 · Normal (90%)" in why  # the level's name too
    assert not any(word in why for word in ("发票", "保修", "当机"))
    # The router's own "calm: 不急" is said in words, once, not shown as it is stored.
    assert "the customer says it is not urgent (“不急”); the model said 4." in why
    assert "calm" not in why
    chinese = client.get(f"/staff/tickets/{ticket.id}?lang=zh").get_data(as_text=True)
    assert "<strong>紧急程度：</strong>2 · 一般" in chinese  # the Chinese colon, no space
    assert "保持为 2：客户说不急（“不急”）；模型判断为 4。" in chinese and "calm" not in chinese


def test_why_it_is_here_says_the_routers_own_reasons_in_words(client, session) -> None:
    # "claim: urgent", "problem: 不過", "unsure: 5 at 46%" and the specialist rule's "urgency 3:
    # special problem" were shown as stored, beside the notes that say them in words.
    agent = make_user(session)
    ticket = make_ticket(session, subject="URGENT", body="Urgent: the hood rattles.")
    ticket.classification = {
        "department": {
            "label": "service",
            "probability": 1.0,
            "reasons": ["urgency 3: special problem"],
            "source": "rules",
        },
        "urgency": {
            "label": 4,
            "probability": 0.7,
            "reasons": ["claim: urgent", "problem: 不過", "hood"],
            "source": "model",
            "claim": "urgent",
            "model_label": 5,
        },
    }
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    why = page.split('id="class-title"', 1)[1].split("</section>", 1)[0]
    assert "only the customer&#39;s own “urgent” made it an emergency" in why
    assert "Sent to the specialist department: a special problem (urgency 3)" in why
    assert "<li>hood</li>" in why
    for raw in ("claim:", "problem:", "urgency 3:"):
        assert raw not in why, raw
    chinese = client.get(f"/staff/tickets/{ticket.id}?lang=zh").get_data(as_text=True)
    assert "降为 4：只是客户自己写的“urgent”让它成了紧急情况" in chinese
    assert "转给专门部门" in chinese


def test_why_it_is_here_leaves_out_words_that_carry_no_topic(client, session) -> None:
    # A ticket routed before 還是, 一直 and "just" were left out of the deciding words keeps
    # them in its classification; the page shows the words that name a topic.
    agent = make_user(session)
    ticket = make_ticket(
        session, subject="電水壺", body="電水壺一直不熱，還是一樣，just bought it.", language="zh"
    )
    ticket.classification = {
        "department": {
            "label": "service",
            "probability": 0.8,
            "reasons": ["还是", "电水壶", "一直", "just"],
            "source": "model",
        },
        "urgency": {"label": 2, "probability": 0.9, "reasons": ["买", "不热"], "source": "model"},
    }
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    why = page.split('id="class-title"', 1)[1].split("</section>", 1)[0]
    assert "<li>電水壺</li>" in why and "<li>不熱</li>" in why
    for word in ("還是", "还是", "一直", "just", "买", "買"):
        assert f"<li>{word}</li>" not in why


def test_a_reply_names_its_author_once(client, session) -> None:
    # "Ann Agent (Customer Service) <service@example.com> (Ann Agent)"; an alias still shows
    # who wrote it: "Lily (Customer Service) <...> (Li Hua)".
    ann = make_user(session, email="ann@example.com", name="Ann Agent")
    make_user(session, email="li@example.com", name="Li Hua", display_alias="Lily")
    ticket = make_ticket(session)
    session.commit()
    for email in ("ann@example.com", "li@example.com"):
        login(client, email)
        client.post(
            f"/staff/tickets/{ticket.id}/reply",
            data={"reply-body": f"Answer from {email}", "reply-then": "open", "reply-send": "1"},
        )
        client.post("/staff/logout")
    login(client, ann.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert page.count("(Ann Agent)") == 0 and "Ann Agent (Customer Service)" in page
    assert '<span class="muted"> (Li Hua)</span>' in page


def test_a_move_that_drops_the_assignee_is_announced_and_written_down(client, session) -> None:
    admin = make_user(session, role="admin", name="Ada Admin")
    agent = make_user(session, name="Li Wei", departments=("service",))
    ticket = make_ticket(session)
    session.commit()
    login(client, admin.email)
    client.post(f"/staff/tickets/{ticket.id}/assign", data={"assign-assignee": str(agent.id)})
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "unassigns Li Wei, who does not work there" in page
    finance = department(session, "finance").id
    session.commit()
    client.post(f"/staff/tickets/{ticket.id}/department", data={"department-department": finance})
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "Assigned to Li Wei by Ada Admin" in page
    assert "Moved from Customer Service to Finance by Ada Admin" in page
    assert "Unassigned from Li Wei: moved to a department they do not work in" in page
    assert "ticket.assigned" not in page and "{&#34;from&#34;" not in page
    actions_written = list(
        session.scalars(select(AuditEvent.action).where(AuditEvent.ticket_id == ticket.id))
    )
    assert actions_written.count("ticket.assigned") == 2


def test_history_reads_in_chinese(client, session, app) -> None:
    admin = make_user(session, role="admin", name="管理员")
    agent = make_user(session, name="李伟")
    ticket = make_ticket(session)
    actions.assign(session, ticket, admin, agent, app.config)
    actions.change_department(session, ticket, admin, department(session, "finance"), app.config)
    session.commit()
    login(client, admin.email)
    client.set_cookie("lang", "zh")
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert "管理员：分配给 李伟" in page
    # No space between Chinese words (从 客户服务部 转到 财务部 read as if typed by a machine).
    assert "管理员：从客户服务部转到财务部" in page
    assert "管理员：取消分配 李伟（转到了其不在的部门）" in page
    sales = department(session, "sales").id
    session.commit()
    client.post(f"/staff/tickets/{ticket.id}/department", data={"department-department": sales})
    assert "已转至销售部。" in client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)


def test_the_triage_inbox_has_one_chinese_name(app) -> None:
    """The navigation calls it 待分拣; the classifier page and the history said 待分派收件箱
    and 待分派队列 for the same inbox."""
    from babel.messages.pofile import read_po

    with open(app.root_path + "/core/translations/zh_Hans/LC_MESSAGES/messages.po", "rb") as po:
        catalog = read_po(po)
    assert catalog.get("Triage").string == "待分拣"
    texts = [m.string for m in catalog if m.id and isinstance(m.string, str)]
    assert not [t for t in texts if "待分派" in t]


def _skip_reasons() -> list[str]:
    """Every reason the mail side writes on ``auto_reply_skipped`` (its constants: the staff
    pages may not import them, so History names them again)."""
    from mailrouter import flood
    from mailrouter.intake import pipeline
    from mailrouter.outbound import autoreply

    audited = [value for name, value in vars(autoreply).items() if name.startswith("SKIP_")]
    # "disabled" is not written; follow-ups and staff mail never reach the decision.
    audited = [r for r in audited if r not in {"disabled", "not_inbound", "follow_up"}]
    return [
        *audited,
        pipeline.SKIP_SPAM_SCORE,
        flood.WINDOW,
        flood.DAILY_LIMIT,
        flood.FLOOD,
        flood.ALREADY_REPLIED,
    ]


@pytest.mark.parametrize("reason", _skip_reasons())
def test_every_reason_for_no_confirmation_is_said_in_words(app, reason) -> None:
    """History says why, not only "No automatic confirmation sent", for each reason the mail
    side records (a reason added there without a sentence here fails)."""
    from support.staff.history import Names, describe

    event = SimpleNamespace(
        action="auto_reply_skipped",
        data={"reason": f"{reason}: detail"},
        actor_id=None,
        actor_label="system",
    )
    with app.test_request_context("/?lang=en"):
        app.preprocess_request()
        text = describe(event, Names({}, {}))  # type: ignore[arg-type]
    assert text.startswith("No automatic confirmation sent: "), (reason, text)


@pytest.mark.parametrize(
    ("action", "data", "words"),
    [
        ("auto_reply_queued", {}, "自动确认邮件"),
        ("auto_reply_skipped", {"reason": "flood"}, "未发送自动确认邮件"),
        ("ticket_resolved_by_faq", {"question": "怎么开发票？"}, "“怎么开发票？”"),
        ("mail_failed", {"reason": "550 no such user"}, "550 no such user"),
    ],
)
def test_the_mail_sides_events_read_in_chinese_too(app, action, data, words) -> None:
    """The auto-reply and sending events on a ticket's history are sentences in the page's
    language ("系统：Auto reply queued" was the action name, capitalised)."""
    from support.staff.history import Names, describe

    event = SimpleNamespace(action=action, data=data, actor_id=None, actor_label="system")
    with app.test_request_context("/?lang=zh"):
        app.preprocess_request()
        text = describe(event, Names({}, {}))  # type: ignore[arg-type]
    assert words in text and action.split("_")[0] not in text.lower(), text


def test_describe_never_prints_raw_event_data(app) -> None:
    from support.staff.history import Names, describe

    names = Names({1: "Li Wei"}, {"sales": "Sales"})
    event = SimpleNamespace(
        action="ticket.something_new", data={"x": 1}, actor_id=None, actor_label="system"
    )
    with app.test_request_context():
        text = describe(event, names)  # type: ignore[arg-type]
    assert "Something new" in text and "{" not in text and "something_new" not in text


def test_faq_answers_for_the_reply_box_follow_the_ticket_access_rule(client, session) -> None:
    outsider = make_user(session, departments=("sales",))
    agent = make_user(session)
    ticket = make_ticket(session, department_code="service")
    category = Category(slug="returns", name_en="Returns")
    article = Article(
        slug="return-policy",
        category=category,
        language="en",
        question="How do I return a kettle?",
        answer_md="Return it within **30 days** with the receipt.",
    )
    session.add_all([category, article])
    session.commit()
    login(client, outsider.email)
    base = f"/staff/tickets/{ticket.id}/faq-answers"
    assert client.get(f"{base}?q=return+kettle").status_code == 404
    assert client.post(f"{base}/{article.id}").status_code == 404
    login(client, agent.email)
    found = client.get(f"{base}?q=return+kettle").get_json()["answers"]
    assert [a["question"] for a in found] == ["How do I return a kettle?"]
    used = client.post(f"{base}/{article.id}")
    # The answer, then the article's page for the customer to keep, in the reply's language.
    assert used.get_json() == {
        "text": "Return it within 30 days with the receipt.\n\n"
        "http://127.0.0.1:8080/a/return-policy?lang=en"
    }
    assert client.post(f"{base}/999999").status_code == 404


def test_faq_answers_for_the_reply_box_come_in_the_customers_language_first(
    client, session
) -> None:
    # An English customer's "Heater smoking and sparked!" was offered two Chinese articles
    # first: the search reads every language. The customer's language leads now, the others
    # follow (the words typed still find every article).
    agent = make_user(session)
    english = make_ticket(session, subject="Kettle", body="How do I return my kettle?")
    chinese = make_ticket(session, subject="水壶", body="我想退货，水壶怎么退？")
    english.language, chinese.language = "en", "zh"
    for ticket in (english, chinese):
        ticket.messages[0].language = ticket.language
    category = Category(slug="returns", name_en="Returns", name_zh="退货")
    session.add_all(
        [
            category,
            Article(
                slug="return-kettle",
                category=category,
                language="en",
                question="How do I return a kettle?",
                answer_md="Return it within 30 days.",
            ),
            Article(
                slug="return-kettle-zh",
                category=category,
                language="zh",
                question="水壶怎么退货？",
                answer_md="30天内凭收据退货。",
            ),
        ]
    )
    session.commit()
    login(client, agent.email)
    words = "return kettle 水壶 退货"
    for ticket, first in ((english, "en"), (chinese, "zh")):
        url = f"/staff/tickets/{ticket.id}/faq-answers?q={words}"
        found = client.get(url).get_json()["answers"]
        assert [a["language"] for a in found] == [first, "zh" if first == "en" else "en"]


def test_faq_answers_for_the_reply_box_skip_articles_of_a_hidden_category(client, session) -> None:
    # The portal hides a published article whose category is unpublished; inserting it into a
    # reply checked the article's own flag only, so staff could quote what customers cannot read.
    agent = make_user(session)
    ticket = make_ticket(session, department_code="service")
    hidden = Category(slug="internal", name_en="Internal", is_published=False)
    article = Article(
        slug="staff-discount",
        category=hidden,
        language="en",
        question="Is there a staff discount on kettles?",
        answer_md="Staff get **40%** off kettles.",
    )
    session.add_all([hidden, article])
    session.commit()
    login(client, agent.email)
    base = f"/staff/tickets/{ticket.id}/faq-answers"
    assert client.get(f"{base}?q=staff+discount+kettles").get_json()["answers"] == []
    assert client.post(f"{base}/{article.id}").status_code == 404
    page = client.post(
        f"/staff/tickets/{ticket.id}/reply",
        data={"reply-body": "First line.", "insert_article": str(article.id)},
    ).get_data(as_text=True)
    assert "First line.</textarea>" in page and "40%" not in page


def test_the_ticket_head_reads_in_each_language(client, session) -> None:
    # Label and value with the language's colon (状态：新建, not 状态: 新建), and the
    # channel in words, not its code.
    agent = make_user(session, name="Wei Li")
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    english = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert 'Status: <strong data-testid="ticket-status">' in english
    assert "Channel: email" in english
    chinese = client.get(f"/staff/tickets/{ticket.id}?lang=zh").get_data(as_text=True)
    assert '状态：<strong data-testid="ticket-status">' in chinese
    assert "渠道：邮件" in chinese and "状态: " not in chinese


def test_the_urgency_badge_in_the_ticket_heading_is_read_as_words(client, session) -> None:
    # A screen reader read the heading as "2 Broken blender": the level's name was only in a
    # tooltip. The digit stays what sighted staff see; the heading's text names the level.
    agent = make_user(session, name="Wei Li")
    ticket = make_ticket(session, subject="Broken blender")
    session.commit()
    login(client, agent.email)
    for lang, spoken in (("en", "Urgency 2 · Normal: "), ("zh", "级别 2 · 一般：")):
        page = client.get(f"/staff/tickets/{ticket.id}?lang={lang}").get_data(as_text=True)
        heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
        assert '<span aria-hidden="true">2</span>' in heading
        assert f'<span class="visually-hidden">{spoken}</span>' in heading, heading


def test_a_late_ticket_says_so_in_its_head(client, session, app) -> None:
    # On a phone "Breached" was only in the response target card, screens below the head.
    agent = make_user(session, name="Wei Li")
    late = make_ticket(session, urgency=5, created_at=utcnow() - timedelta(hours=3))
    start_clock(late, app.config, now=late.created_at)
    fresh = make_ticket(session, urgency=1)
    start_clock(fresh, app.config, now=utcnow())
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{late.id}").get_data(as_text=True)
    head = page.split('<header class="ticket-head">')[1].split("</header>")[0]
    assert '<strong data-testid="head-sla-state"><span class="sla-breached">Breached</span>' in head
    calm = client.get(f"/staff/tickets/{fresh.id}").get_data(as_text=True)
    assert "head-sla-state" not in calm


def test_a_customer_without_a_name_is_named_once(client, session) -> None:
    agent = make_user(session, name="Wei Li")
    ticket = make_ticket(session, customer=make_customer(session, name=None, email="x@example.tw"))
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    card = page.split('id="customer-title"', 1)[1].split("</p>", 1)[0]
    assert card.count("x@example.tw") == 1
    # Their messages: "Customer: x@example.tw" (or 客户：), not "Customer:  <x@example.tw>".
    ticket.messages[0].from_name, ticket.messages[0].from_address = "", "x@example.tw"
    session.commit()
    page = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert "Customer: x@example.tw" in page and "&lt;x@example.tw&gt;" not in page
    chinese = client.get(f"/staff/tickets/{ticket.id}?lang=zh").get_data(as_text=True)
    assert "客户：x@example.tw" in chinese


def test_counts_in_brackets_are_full_width_on_chinese_pages(client, session) -> None:
    agent = make_user(session)
    ticket = make_ticket(session)
    session.commit()
    login(client, agent.email)
    english = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert ">History (" in english
    client.set_cookie("lang", "zh")
    chinese = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert ">记录（" in chinese and ">记录 (" not in chinese


def test_the_first_response_time_reads_as_a_duration(client, session, app) -> None:
    # It read "First response after 1 working minutes" (and 95 min in minutes), with no
    # business hours configured.
    agent = make_user(session)
    ticket = make_ticket(session)
    ticket.first_response_at = utcnow()
    ticket.first_response_seconds = 95 * 60 + 20
    session.commit()
    login(client, agent.email)
    english = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert "First response after 1 h 35 min<" in english and "working minutes" not in english
    chinese = client.get(f"/staff/tickets/{ticket.id}?lang=zh").get_data(as_text=True)
    assert "首次回复用时 1 小时 35 分钟<" in chinese
    app.config["SLA_BUSINESS_CALENDAR"] = {"hours": {"mon-fri": "09:00-18:00"}}
    english = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert "First response after 1 h 35 min of working time" in english


def test_why_it_is_here_says_where_staff_moved_it_since(client, session, app) -> None:
    # After a lead moved a ticket to Sales and raised it to 4, the card still said only
    # "Department: Customer Service (93%) — model" under the heading "Why it is here".
    lead = make_user(session, role="admin", name="Ada Admin")
    ticket = make_ticket(session)
    ticket.classification = {
        "department": {"label": "service", "probability": 0.93, "source": "model"},
        "urgency": {"label": 2, "probability": 0.9, "source": "model"},
    }
    session.commit()
    login(client, lead.email)
    page = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert 'data-testid="changed-since"' not in page
    actions.change_department(session, ticket, lead, department(session, "sales"), app.config)
    actions.change_urgency(session, ticket, lead, 4, app.config)
    session.commit()
    page = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    why = page.split('id="class-title"', 1)[1].split("</section>", 1)[0]
    assert "Customer Service (93%)" in why and "Since moved to Sales." in why
    assert "Since changed to 4 · Important." in why
    chinese = client.get(f"/staff/tickets/{ticket.id}?lang=zh").get_data(as_text=True)
    assert "此后已转至销售部。" in chinese and "此后已改为 4 · 重要。" in chinese


def test_an_faq_answer_goes_into_a_reply_in_the_customers_script(client, session) -> None:
    # The FAQ is written in Simplified; a Taiwan customer who wrote in Traditional got the
    # inserted warranty answer in Simplified while the rest of our mail (Re:, quote header,
    # signature) came in Traditional. Both ways of inserting it convert; others keep it.
    agent = make_user(session)
    taiwan = make_ticket(
        session,
        customer=make_customer(session, email="wang@example.tw"),
        body="我的電熱水壺不能加熱了，請問還在保固期內嗎？",
        subject="電熱水壺保固問題",
        language="zh",
    )
    mainland = make_ticket(
        session,
        customer=make_customer(session, email="li@example.cn"),
        body="我的电热水壶不能加热了，请问还在保修期内吗？",
        subject="电热水壶保修问题",
        language="zh",
    )
    category = Category(slug="warranty", name_en="Warranty", name_zh="保修")
    article = Article(
        slug="warranty-zh",
        category=category,
        language="zh",
        question="保修期多久？",
        answer_md="所有电器自签收之日起**保修2年**，订单号即为购买凭证。",
    )
    session.add_all([category, article])
    session.commit()
    login(client, agent.email)
    used = client.post(f"/staff/tickets/{taiwan.id}/faq-answers/{article.id}").get_json()
    assert used["text"].startswith("所有電器自簽收之日起保固2年，訂單號即為購買憑證。\n\n")
    assert used["text"].endswith("/a/warranty-zh?lang=zh&script=hant")
    page = client.post(
        f"/staff/tickets/{taiwan.id}/reply",
        data={"reply-body": "王先生您好：", "insert_article": str(article.id)},
    ).get_data(as_text=True)
    assert "王先生您好：\n\n所有電器自簽收之日起保固2年" in page
    used = client.post(f"/staff/tickets/{mainland.id}/faq-answers/{article.id}").get_json()
    assert used["text"].startswith("所有电器自签收之日起保修2年，订单号即为购买凭证。\n\n")
    assert used["text"].endswith("/a/warranty-zh?lang=zh")


def test_an_faq_answer_written_in_traditional_goes_to_a_simplified_writer_in_simplified(
    client, session
) -> None:
    # A Taiwan admin writes the FAQ in Traditional: a mainland customer's reply got it so.
    agent = make_user(session)
    mainland = make_ticket(
        session,
        customer=make_customer(session, email="li@example.cn"),
        body="我的电热水壶不能加热了，请问还在保修期内吗？",
        language="zh",
    )
    category = Category(slug="warranty", name_en="Warranty", name_zh="保固")
    article = Article(
        slug="warranty-zh",
        category=category,
        language="zh",
        question="保固期多久？",
        answer_md="所有電器自簽收之日起保固兩年，訂單號即為購買憑證。",
    )
    session.add_all([category, article])
    session.commit()
    login(client, agent.email)
    used = client.post(f"/staff/tickets/{mainland.id}/faq-answers/{article.id}").get_json()
    assert used["text"].startswith("所有电器自签收之日起保修两年，订单号即为购买凭证。\n\n")


def test_attachment_sizes_read_as_people_say_them(client, session) -> None:
    # A 13-byte file was "0.0 KB" (as if the customer's file were empty) and 3.5 MB was
    # "3584.0 KB"; a Chinese page said "bytes" in English on the quarantine page.
    from support.desk.models import Attachment

    agent = make_user(session)
    ticket = make_ticket(session)
    message = ticket.messages[0]
    for name, size in (("note.txt", 13), ("photo.png", 2048), ("manual.pdf", 3_670_016)):
        session.add(
            Attachment(
                message=message,
                filename=name,
                content_type="application/octet-stream",
                size=size,
                sha256="0" * 64,
                data=b"x",
            )
        )
    session.commit()
    login(client, agent.email)
    chinese = client.get(f"/staff/tickets/{ticket.id}?lang=zh").get_data(as_text=True)
    assert "13 字节" in chinese and "2 KB" in chinese and "3.5 MB" in chinese
    assert "0.0 KB" not in chinese and "3584" not in chinese
    english = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert "13 bytes" in english and "3.5 MB" in english


def _earlier_tickets_card(page: str, heading: str) -> str:
    """The customer card's list of their other tickets (the page names the tickets elsewhere
    too)."""
    start = page.index('data-testid="customer-other-tickets"')
    assert heading in page[start : start + 400]
    return page[start:].split("</section>")[0]


def _merged_in(client, session, app) -> tuple[Ticket, Ticket, Ticket]:
    """A customer's three tickets, the second merged into the first and the third closed, with
    their agent signed in: (kept, merged, closed)."""
    agent = make_user(session)
    customer = make_customer(session, email="wang@example.tw")
    kept = make_ticket(session, customer=customer, subject="電熱水壺保固問題")
    again = make_ticket(session, customer=customer, subject="熱水壺送修進度？")
    closed = make_ticket(session, customer=customer, subject="發票抬頭", status="closed")
    session.commit()
    merging.merge(session, again, agent, kept, app.config)
    session.commit()
    login(client, agent.email)
    return kept, again, closed


def test_earlier_tickets_say_which_one_a_ticket_was_merged_into(client, session, app) -> None:
    # The customer card listed a merged ticket as "(已关闭, 2026-12-05)": an agent read it as
    # closed unanswered. It says where it went, in Chinese punctuation.
    kept, _again, closed = _merged_in(client, session, app)
    page = client.get(f"/staff/tickets/{closed.id}?lang=zh").get_data(as_text=True)
    assert f"（已合并到 {kept.reference}，" in page and f"(已合并到 {kept.reference}," not in page
    page = client.get(f"/staff/tickets/{closed.id}?lang=en").get_data(as_text=True)
    assert f"(merged into {kept.reference}, " in page


def test_a_ticket_merged_into_this_one_is_not_one_of_its_earlier_tickets(
    client, session, app
) -> None:
    # After a merge the kept ticket's customer card listed the newer ticket merged into it
    # among the customer's other tickets: its conversation is the kept ticket's own now.
    kept, again, closed = _merged_in(client, session, app)
    for lang, heading, state in (
        ("zh", "该客户的其他工单", "（已关闭，"),
        ("en", "Other tickets from this customer", "(closed, "),
    ):
        page = client.get(f"/staff/tickets/{kept.id}?lang={lang}").get_data(as_text=True)
        card = _earlier_tickets_card(page, heading)
        assert closed.reference in card and state in card
        assert again.reference not in card


def test_the_customers_other_tickets_are_named_so_newest_first_with_their_state(
    client, session
) -> None:
    # The card said "Earlier tickets" over a list that began with tickets newer than this one.
    agent = make_user(session)
    customer = make_customer(session, email="chen@example.cn")
    now = utcnow()
    older = make_ticket(session, customer=customer, subject="Old invoice", status="resolved")
    this = make_ticket(session, customer=customer, subject="This one")
    newer = make_ticket(session, customer=customer, subject="Newer question")
    for ticket, days in ((older, 30), (this, 5), (newer, 1)):
        ticket.created_at = now - timedelta(days=days)
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{this.id}?lang=en").get_data(as_text=True)
    assert "Earlier tickets" not in page
    card = _earlier_tickets_card(page, "Other tickets from this customer")
    assert card.index(newer.reference) < card.index(older.reference)
    assert "(new, " in card and "(resolved, " in card
    assert "newer than this one" in card  # the newer one says so; the older one does not
    assert card.count("newer than this one") == 1
    chinese = client.get(f"/staff/tickets/{this.id}?lang=zh").get_data(as_text=True)
    assert "该客户的其他工单" in _earlier_tickets_card(chinese, "该客户的其他工单")


def test_the_other_tickets_are_bounded_and_counted_within_the_agents_departments(
    client, session
) -> None:
    """Ten at most, the newest the agent may open, however many of the customer's newer
    tickets are another department's (the card took the 50 newest and then dropped those the
    agent may not see: a customer with 50 newer sales tickets showed the service agent none of
    their service tickets); another department's subjects are never shown, only how many."""
    agent = make_user(session, departments=("service",))
    customer = make_customer(session, email="busy@example.cn")
    now = utcnow()
    this = make_ticket(session, customer=customer, subject="Current")
    this.created_at = now - timedelta(days=400)
    service = []
    for n in range(12):
        t = make_ticket(session, customer=customer, subject=f"Service question {n:02d}")
        t.created_at = now - timedelta(days=300 + n)
        service.append(t)
    for n in range(52):
        t = make_ticket(
            session, customer=customer, subject=f"SECRET-SALES-{n:02d}", department_code="sales"
        )
        t.created_at = now - timedelta(days=n)
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{this.id}?lang=en").get_data(as_text=True)
    assert "SECRET-SALES" not in page
    card = _earlier_tickets_card(page, "Other tickets from this customer")
    shown = [t for t in service if t.reference in card]
    assert shown == service[:10]  # the newest ten of those the agent may open
    assert "52 more in other departments" in card
    assert "All tickets from this customer (13)" in card  # the 12 and this one, in search


def test_a_long_customer_message_shows_its_opening_and_folds_the_rest(client, session) -> None:
    # A 9,000-character mail filled the page: the reply box was far below it.
    paragraph = "My kettle stops after a minute and the light blinks red. " * 8
    long_text = "\n\n".join(f"{n}. {paragraph}" for n in range(20)) + "\n\nTHE-VERY-END"
    agent = make_user(session)
    long_ticket = make_ticket(session, body=long_text)
    short_ticket = make_ticket(session, body="Short question about my kettle.")
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{long_ticket.id}?lang=en").get_data(as_text=True)
    article = page[page.index('data-testid="latest-customer-message"') :]
    article = article[: article.index("</article>")]
    opening = article.split('<details class="rest-of-message">')[0]
    assert "0. My kettle stops" in opening and "THE-VERY-END" not in opening
    assert len(opening) < 2600
    folded = article.split('<details class="rest-of-message">')[1]
    assert "<summary>Show all (" in folded and "THE-VERY-END" in folded
    assert opening.rstrip().endswith("blinks red.</div>")  # cut at a paragraph's end
    chinese = client.get(f"/staff/tickets/{long_ticket.id}?lang=zh").get_data(as_text=True)
    assert "展开全文（还有" in chinese
    short = client.get(f"/staff/tickets/{short_ticket.id}").get_data(as_text=True)
    assert "rest-of-message" not in short


def test_a_long_chinese_message_folds_sooner(client, session) -> None:
    # 2,000 Chinese characters filled forty lines of the page before the fold.
    text = "我三月在网店买的热水壶，每天早上都用，一直按说明书清洗。" * 150
    agent = make_user(session)
    ticket = make_ticket(session, body=text)
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}?lang=zh").get_data(as_text=True)
    article = page[page.index('data-testid="latest-customer-message"') :]
    opening = article.split('<details class="rest-of-message">')[0]
    opening = opening[opening.index('<div class="text">') :]
    assert 500 < len(opening) < 1100 and opening.rstrip().endswith("清洗。</div>")


def test_the_customers_other_open_tickets_are_named_at_the_top_with_a_merge_button(
    client, session
) -> None:
    # Alice wrote "Kettle stopped heating" and, ten minutes later, "... (again)" in a new
    # thread: two tickets in one queue, and the only hint was the customer card, screens below
    # the reply box on a phone. The ticket's head names the other open one and merges in a click.
    agent = make_user(session)
    alice = make_customer(session, name="Alice Brown", email="alice@example.org")
    first, again = same_matter_tickets(
        session, alice, "Kettle stopped heating", "<b>Kettle</b> (again)"
    )
    make_ticket(session, customer=alice, subject="Old invoice", status="resolved")
    sales = make_ticket(session, customer=alice, department_code="sales", subject="Quote")
    lonely = make_ticket(session, subject="Blender noise")
    session.commit()
    login(client, agent.email)

    page = client.get(f"/staff/tickets/{first.id}?lang=en").get_data(as_text=True)
    notice = page[page.index('data-testid="open-duplicates"') :]
    notice = notice[: notice.index("</div>")]
    assert "This customer has another ticket about the same matter:" in notice
    assert again.reference in notice and "&lt;b&gt;Kettle&lt;/b&gt; (again)" in notice
    assert "Old invoice" not in notice  # resolved: nothing to answer twice
    assert sales.reference not in notice  # a department the agent does not work in
    # The newer merges into the older, which holds the conversation, from either page.
    assert f'action="/staff/tickets/{again.id}/merge"' in notice
    assert f'name="merge-target" value="{first.reference}"' in notice
    assert f"Merge {again.reference} into this ticket" in notice
    assert 'href="/staff/search?q=alice@example.org"' in page  # all of her tickets
    assert 'data-testid="open-duplicates"' not in client.get(
        f"/staff/tickets/{lonely.id}?lang=en"
    ).get_data(as_text=True)

    zh = client.get(f"/staff/tickets/{first.id}?lang=zh").get_data(as_text=True)
    assert "该客户还有同一事项的其他工单：" in zh and f"将 {again.reference} 合并到本工单" in zh

    merge_url, target = f"/staff/tickets/{again.id}/merge", first.reference
    asked = client.post(merge_url, data={"merge-target": target})
    assert asked.status_code == 200 and 'data-testid="merge-confirm"' in asked.get_data(True)
    session.expire_all()
    assert session.get(Ticket, again.id).merged_into_id is None  # asked first, not merged
    session.rollback()
    response = client.post(merge_url, data={"merge-target": target, "merge-confirm": "1"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Ticket, again.id).merged_into_id == first.id
    first_page = f"/staff/tickets/{first.id}?lang=en"
    # On SQLite the test's reads hold the write lock (IMMEDIATE) that the page's "seen" write
    # needs: let it go, or the page waits out the 30 s busy timeout and answers 503.
    session.rollback()
    response = client.get(first_page)
    assert response.status_code == 200
    assert 'data-testid="open-duplicates"' not in response.get_data(True)  # the newer one is in


def test_next_ticket_goes_on_in_the_inbox_without_acting(client, session) -> None:
    agent = make_user(session)
    first = make_ticket(session, subject="First", urgency=4)
    second = make_ticket(session, subject="Second", urgency=2)
    sales = make_ticket(session, department_code="sales", subject="Quote")
    session.commit()
    login(client, agent.email)
    response = client.get(f"/staff/tickets/{first.id}/next?queue=service")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/tickets/{second.id}?queue=service")
    session.expire_all()
    assert session.get(Ticket, first.id).status == "new"  # nothing done to the first
    assert client.get(f"/staff/tickets/{sales.id}/next").status_code == 404


@pytest.mark.parametrize(
    ("role", "told"),
    [
        # They landed on the inbox with no word of the ticket; going back to it gave a 404.
        (
            "agent",
            "{ref} moved to Sales, a department you do not work in: you can no longer open it.",
        ),
        ("admin", "{ref} moved to Sales."),  # still theirs to see: back on its page
    ],
)
def test_a_move_says_where_the_ticket_went_and_whether_it_is_out_of_sight(
    client, session, role, told
) -> None:
    user = make_user(session, role=role, departments=("service",))
    ticket = make_ticket(session)
    sales = department(session, "sales").id
    reference = ticket.reference
    session.commit()
    login(client, user.email)
    moved = client.post(
        f"/staff/tickets/{ticket.id}/department?lang=en", data={"department-department": sales}
    )
    assert moved.location.endswith(f"/staff/tickets/{ticket.id}") == (role == "admin")
    page = client.get(moved.location, follow_redirects=True).get_data(as_text=True)
    assert told.format(ref=reference) in page
    assert ("no longer open" in page) == (role == "agent")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_move_that_unassigns_says_so_after_the_move(client, session, lang) -> None:
    """The page warned before the move; after it, "moved to Sales." alone left the assignee's
    loss to be found in the head line ("Assignee: nobody")."""
    admin = make_user(session, role="admin", departments=("service",))
    agent = make_user(session, name="Li Lei", departments=("service",))
    ticket = make_ticket(session, assignee=agent)
    kept = make_ticket(session, assignee=admin)  # an admin works everywhere: still theirs
    sales = department(session, "sales").id
    session.commit()
    login(client, admin.email)
    told = {
        "en": f"{ticket.reference} moved to Sales. Li Lei, who does not work there, no longer "
        "has it.",
        "zh": f"{ticket.reference} 已转至销售部。Li Lei 不在该部门，已不再负责此工单。",
    }[lang]

    moved = client.post(
        f"/staff/tickets/{ticket.id}/department?lang={lang}", data={"department-department": sales}
    )
    page = client.get(moved.location, follow_redirects=True).get_data(as_text=True)
    assert told in page
    moved = client.post(
        f"/staff/tickets/{kept.id}/department?lang={lang}", data={"department-department": sales}
    )
    page = client.get(moved.location, follow_redirects=True).get_data(as_text=True)
    assert "no longer has it" not in page and "已不再负责" not in page
    session.expire_all()
    assert session.get(Ticket, ticket.id).assignee_id is None
    assert session.get(Ticket, kept.id).assignee_id == admin.id


def test_a_bulk_move_out_of_sight_says_where_and_that_they_are_gone(client, session) -> None:
    agent = make_user(session, name="Li Wei", departments=("service",))
    first, second = make_ticket(session), make_ticket(session)
    sales = department(session, "sales").id
    refs = f"{first.reference}, {second.reference}"
    session.commit()
    login(client, agent.email)
    page = client.post(
        "/staff/inbox/service/bulk?lang=en",
        data={"action": "move", "department": str(sales), "ticket_id": [first.id, second.id]},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"2 tickets moved to Sales: {refs}." in page
    assert "2 of them are in a department you do not work in: you can no longer open them." in page


def test_an_international_address_reads_in_its_own_script_beside_its_ascii_form(
    client, session
) -> None:
    # The contact form keeps 用户@例子.公司 as 用户@xn--fsqu00a.xn--55qx5d; the customer card
    # showed only that. The ASCII form stays beside it: a look-alike domain (pаypal.com with a
    # Cyrillic а) shows what it is.
    agent = make_user(session)
    customer = make_customer(session, name="李明", email="用户@xn--fsqu00a.xn--55qx5d")
    ticket = make_ticket(session, customer=customer)
    session.commit()
    login(client, agent.email)
    page = client.get(f"/staff/tickets/{ticket.id}").get_data(as_text=True)
    assert '用户@例子.公司 <span class="muted">(用户@xn--fsqu00a.xn--55qx5d)</span>' in page


def test_an_inserted_faq_answer_keeps_its_list_and_link_address(client, session) -> None:
    # Seen from a fresh install: "Insert this answer" gave "... Rinse it three times Boil clean
    # water once ... See our care guide." on one line, and the guide's address was gone.
    agent = make_user(session)
    ticket = make_ticket(session, department_code="service")
    category = Category(slug="care", name_en="Care")
    article = Article(
        slug="descale",
        category=category,
        language="en",
        question="How do I descale my kettle?",
        answer_md="Boil vinegar.\n\n- Rinse it\n- Boil water\n\nSee [our guide](https://a.example/care).",
    )
    session.add_all([category, article])
    session.commit()
    login(client, agent.email)
    used = client.post(f"/staff/tickets/{ticket.id}/faq-answers/{article.id}").get_json()
    assert used["text"].startswith(
        "Boil vinegar.\n\n- Rinse it\n- Boil water\n\nSee our guide (https://a.example/care).\n\n"
    )


def test_the_ticket_page_reads_its_own_order_numbers_once_for_all_other_tickets(
    client, session, monkeypatch
) -> None:
    # Each of the customer's other tickets (up to OTHER_TICKETS_SHOWN) was compared with this
    # one by reading this one's subject and customer messages for order numbers again: ten
    # reads of up to five messages of 20,000 characters for one page view.
    from support.desk import same_matter

    agent = make_user(session)
    alice = make_customer(session, name="Alice Brown", email="alice@example.org")
    for n in range(10):
        make_ticket(session, customer=alice, subject=f"Blender {n}", body="It is loud.")
    ticket = make_ticket(
        session, customer=alice, subject="Kettle stopped heating", body="Order 88240193: cold."
    )
    session.commit()
    login(client, agent.email)
    read: list[str] = []
    real = same_matter.order_numbers

    def counted(text: str) -> set[str]:
        read.append(text)
        return real(text)

    monkeypatch.setattr(same_matter, "order_numbers", counted)
    page = client.get(f"/staff/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    assert 'data-testid="open-duplicates"' not in page  # no other is about the same matter
    assert read.count("Order 88240193: cold.") == 1
    assert read.count("Kettle stopped heating") == 1
    assert read.count("It is loud.") == 10  # each other ticket's once
