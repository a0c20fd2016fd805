"""The contact form: validated, CSRF-protected, rate-limited, and queued as mail."""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from email import message_from_bytes
from email.policy import default

import pytest
from sqlalchemy import select

from faq.index_sync import rebuild_index
from mailrouter.models import InboundMail
from support.desk.models import OutboundMail, Ticket

VALID = {
    "name": "Wang Fang",
    "email": "wang.fang@example.org",
    "subject": "Kettle lid cracked",
    "question": "The lid of my new kettle was cracked when it arrived. What can I do?",
    "department": "",
    "consent": "y",
    "action": "send",
}


@pytest.fixture
def app_settings() -> dict:
    return {"FAQ_CONTACT_LIMIT_PER_HOUR": 2}


def _queued(session) -> list[InboundMail]:
    rows = session.scalars(select(InboundMail).order_by(InboundMail.id)).all()
    session.commit()
    return rows


def test_form_has_labelled_fields_and_departments(client, browser_headers):
    html = client.get("/contact?lang=en", headers=browser_headers).get_data(as_text=True)
    for field, label in [
        ("name", "Your name"),
        ("email", "Your email address"),
        ("question", "Your question"),
    ]:
        assert re.search(rf'<label for="{field}">{label}</label>', html)
    assert '<option value="sales">' in html and "Not sure" in html


def test_the_form_says_where_photos_and_files_go(client, browser_headers):
    # The form takes no files; a customer with a photo of the fault looked for a way to send it.
    html = client.get("/contact?lang=zh", headers=browser_headers).get_data(as_text=True)
    assert 'aria-describedby="question-hint"' in html
    assert "确认邮件中有添加照片和文件的链接" in html


def test_a_question_becomes_queued_mail_and_a_confirmation(client, session, browser_headers):
    response = client.post("/contact?lang=en", data=VALID, headers=browser_headers)
    assert response.status_code == 302 and "/contact/sent?r=" in response.location
    page = client.get(response.location, headers=browser_headers).get_data(as_text=True)
    assert "We received your question" in page and "reference number" in page
    assert VALID["email"] in page  # the address the answer goes to: a typo shows here
    (mail,) = _queued(session)
    assert mail.channel == "web" and mail.state == "received"
    assert mail.envelope_from == VALID["email"]
    assert mail.meta["source"] == "contact_form" and len(mail.meta["ip_hash"]) == 32
    assert b"Kettle lid cracked" in mail.raw and b"cracked when it arrived" in mail.raw


def test_a_chosen_department_addresses_the_mail_to_it(client, session, browser_headers):
    client.post("/contact", data={**VALID, "department": "sales"}, headers=browser_headers)
    (mail,) = _queued(session)
    assert mail.department_code == "sales" and mail.envelope_to == ["sales@example.com"]


def test_the_question_goes_through_the_mail_pipeline_to_a_ticket(
    app, client, session, browser_headers
):
    from mailrouter.intake.worker import Worker

    client.post("/contact", data=VALID, headers=browser_headers)
    assert Worker(app).run_until_idle() == 1
    (ticket,) = session.scalars(select(Ticket)).all()
    assert ticket.channel == "web" and ticket.subject == VALID["subject"]
    assert ticket.customer.email == VALID["email"]
    session.commit()


def test_each_question_sent_from_the_form_gets_its_confirmation_mail(
    app, client, session, browser_headers
):
    # The page promises "we have sent the link to this address"; the per-sender window (one
    # auto-reply per 4 hours, against mail loops, which a web form cannot start) kept the
    # second question of the afternoon from getting its mail, reference and follow link.
    from mailrouter.intake.worker import Worker

    client.post("/contact", data=VALID, headers=browser_headers)
    second = {**VALID, "subject": "Invoice", "question": "Please send me an invoice for it."}
    client.post("/contact", data=second, headers=browser_headers)
    assert Worker(app).run_until_idle() == 2
    tickets = session.scalars(select(Ticket).order_by(Ticket.id)).all()
    confirmed = session.scalars(
        select(OutboundMail.ticket_id).where(OutboundMail.kind == "auto_reply")
    ).all()
    assert len(tickets) == 2 and sorted(confirmed) == [t.id for t in tickets]
    session.commit()


def test_a_second_question_is_answered_with_the_name_just_typed(
    app, client, session, browser_headers
):
    # Seen from a fresh install: a customer who wrote "Wang Wei" once and "Wei Wang" the
    # second time was greeted "Dear Wang Wei": the name on record, not the one they had just
    # typed into the form to be called by. The record keeps its name (staff may have set it).
    from mailrouter.intake.worker import Worker

    client.post("/contact", data=VALID, headers=browser_headers)
    second = {
        **VALID,
        "name": "Fang Wang",
        "subject": "Invoice",
        "question": "Please send an invoice.",
    }
    client.post("/contact", data=second, headers=browser_headers)
    assert Worker(app).run_until_idle() == 2
    texts = [
        message_from_bytes(raw, policy=default).get_body(("plain",)).get_content()
        for raw in session.scalars(
            select(OutboundMail.raw)
            .where(OutboundMail.kind == "auto_reply")
            .order_by(OutboundMail.id)
        )
    ]
    assert texts[0].startswith("Dear Wang Fang,") and texts[1].startswith("Dear Fang Wang,")
    (customer,) = {t.customer for t in session.scalars(select(Ticket))}
    assert customer.name == "Wang Fang"
    session.commit()


def test_a_name_typed_on_the_form_never_names_a_known_customer(
    app, client, session, browser_headers
):
    # Anyone can type any address: a name typed with it filled in the empty name of the
    # address's customer, so a stranger wrote on another's record (staff then saw and greeted
    # the owner by it). The name stays the question's own: its message and its confirmation.
    from mailrouter.intake.worker import Worker
    from tests.factories import make_customer

    known = make_customer(session, email=VALID["email"], name="")
    session.commit()
    client.post("/contact", data={**VALID, "name": "Mallory"}, headers=browser_headers)
    assert Worker(app).run_until_idle() == 1
    session.refresh(known)
    assert known.name == ""
    (ticket,) = session.scalars(select(Ticket)).all()
    assert ticket.customer_id == known.id and ticket.messages[0].from_name == "Mallory"
    raw = session.scalar(select(OutboundMail.raw).where(OutboundMail.kind == "auto_reply"))
    text = message_from_bytes(raw, policy=default).get_body(("plain",)).get_content()
    assert text.startswith("Dear Mallory,")
    session.commit()


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("user@bücher.de", "user@xn--bcher-kva.de"),
        # A non-ASCII mailbox goes out with SMTPUTF8 (the relay's check, ``relay._deliver``).
        ("用户@例子.公司", "用户@xn--fsqu00a.xn--55qx5d"),
    ],
)
def test_an_international_address_is_answered(app, client, session, browser_headers, typed, kept):
    # The form said "Please enter a valid email address" to 用户@例子.公司 and, from any client
    # but Chromium (which sends the domain as IDNA), to user@bücher.de.
    from mailrouter.intake.worker import Worker

    response = client.post(
        "/contact?lang=en", data={**VALID, "email": typed}, headers=browser_headers
    )
    assert response.status_code == 302
    page = client.get(response.location, headers=browser_headers).get_data(as_text=True)
    # The customer checks the address as they know it, not as xn--…
    assert f'data-testid="contact-address">{typed}<' in page
    assert Worker(app).run_until_idle() == 1
    ticket = session.scalars(select(Ticket)).one()
    assert ticket.customer.email == kept.lower()
    reply = session.scalars(select(OutboundMail).where(OutboundMail.kind == "auto_reply")).one()
    assert reply.recipients == [kept.lower()]
    # In the To header as UTF-8 (RFC 6532), never an encoded word: that would be no address.
    assert kept.encode() in reply.raw
    session.commit()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "valid email address"),
        ({"email": ""}, "email", "so we can answer you"),
        ({"name": ""}, "name", "tell us your name"),
        ({"question": ""}, "question", "write your question"),
        ({"question": "x" * 10_001}, "question", "under 10,000 characters"),
        ({"department": "nonexistent"}, "department", "Not a valid choice"),
    ],
)
def test_each_error_is_explained_next_to_its_field(
    client, session, browser_headers, changes, field, message
):
    response = client.post("/contact?lang=en", data={**VALID, **changes}, headers=browser_headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    # (A field with a hint names the hint first.)
    assert re.search(rf'aria-describedby="(?:{field}-hint )?{field}-error"', html)
    assert 'aria-invalid="true"' in html
    error = re.search(rf'<p class="error-text" id="{field}-error">([^<]*)</p>', html).group(1)
    assert message in error
    # Between the label and the box, not under the question's long photo hint.
    assert html.index(f'id="{field}-error"') < html.index(f'id="{field}"')
    assert 'role="alert"' in html  # the summary on top
    assert _queued(session) == []


def test_errors_are_in_chinese_for_chinese_customers(client, browser_headers):
    html = client.post(
        "/contact?lang=zh", data={**VALID, "email": "x"}, headers=browser_headers
    ).get_data(as_text=True)
    assert "请输入有效的邮箱地址" in html


def test_a_form_sent_back_in_traditional_keeps_what_the_customer_typed(client, browser_headers):
    # The page is converted to Traditional; the customer's own 陳台生 / 台北 / 十台 must come back
    # as typed (not 臺), or the corrected form would send the converter's words as theirs.
    typed = {"name": "陳台生", "subject": "台北門市", "question": "請問台北有門市嗎？我想買十台。"}
    html = client.post(
        "/contact?lang=zh&script=hant",
        data={**VALID, **typed, "consent": ""},
        headers=browser_headers,
    ).get_data(as_text=True)
    assert "聯絡我們" in html  # the page's own words are Traditional (Taiwan's 聯絡)
    assert 'value="陳台生"' in html and 'value="台北門市"' in html
    assert "請問台北有門市嗎？我想買十台。</textarea>" in html
    assert "臺" not in html


def test_missing_csrf_token_is_refused(app, client, session, browser_headers):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/contact", data=VALID, headers=browser_headers)
    assert response.status_code == 400
    assert _queued(session) == []
    # The matches while typing are POSTed with the form's token too (app.js sends it).
    matches = client.post("/contact/matches", data={"q": "refund"}, headers=browser_headers)
    assert matches.status_code == 400


def test_rate_limited_per_address_and_per_ip(app, client, session, browser_headers):
    for _ in range(2):
        assert client.post("/contact", data=VALID, headers=browser_headers).status_code == 302
    response = client.post("/contact?lang=en", data=VALID, headers=browser_headers)
    assert response.status_code == 429
    assert "several questions in the last hour" in response.get_data(as_text=True)
    # Another address from the same IP is limited too ...
    other = {**VALID, "email": "someone.else@example.org"}
    assert client.post("/contact", data=other, headers=browser_headers).status_code == 429
    # ... and the same address from another IP is limited by address, silently: the
    # question is taken, its address gets no mail (test_contact_leaks).
    far = app.test_client()
    response = far.post(
        "/contact", data=VALID, headers=browser_headers, environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    assert response.status_code == 302
    queued = _queued(session)
    assert len(queued) == 3 and [bool(q.meta.get("no_auto_reply")) for q in queued] == [
        False,
        False,
        True,
    ]


@pytest.fixture
def demo_index(app, demo) -> None:
    """The demo FAQ, indexed: a matching answer is offered only when probably right, which a
    one-article FAQ cannot say."""
    rebuild_index(app)


def test_without_javascript_check_our_answers_first(client, session, demo_index, browser_headers):
    data = {**VALID, "action": "check"}
    response = client.post("/contact?lang=en", data=data, headers=browser_headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "These answers may already help you" in html
    assert "My item arrived damaged or broken. What can I do?" in html
    assert 'value="Wang Fang"' in html  # what they typed is kept
    assert _queued(session) == []


def test_a_question_no_answer_fits_is_offered_no_guess(client, demo_index, browser_headers):
    # The demo shop sells small appliances: no article is about a fridge, and the nearest ones
    # (out of stock, returns) are not offered as answers.
    data = {
        **VALID,
        "subject": "Fridge",
        "question": "My fridge is not cold any more.",
        "action": "check",
    }
    html = client.post("/contact?lang=en", data=data, headers=browser_headers).get_data(
        as_text=True
    )
    assert "We found no matching answer; please send us your question." in html
    assert 'href="/a/' not in html.split('id="contact-matches"')[1].split("</section>")[0]
    assert client.post("/contact/matches", data={"q": "fridge not cold"}).get_json() == {
        "matches": []
    }


def test_matching_answers_json_while_typing(client, demo_index):
    data = client.post("/contact/matches", data={"q": "my kettle arrived damaged"}).get_json()
    assert data["matches"][0] == {
        "question": "My item arrived damaged or broken. What can I do?",
        "lang": "en",
        "url": "/a/damaged-item-en",
    }
    assert client.post("/contact/matches", data={"q": ""}).get_json() == {"matches": []}


@pytest.mark.parametrize(
    ("typed", "slug"), [("退款", "/a/refund-time-zh"), ("发票", "/a/invoice-zh")]
)
def test_a_two_character_chinese_question_is_matched(client, demo_index, typed, slug):
    """退款 or 发票 is a whole question in Chinese, as "refund" is in English: the search finds
    their answers, and "check our answers first" must not tell the customer there are none."""
    data = client.post("/contact/matches", data={"q": f"\n{typed}"}).get_json()
    assert slug in [match["url"] for match in data["matches"]]


def test_bots_filling_the_hidden_field_are_dropped_quietly(client, session, browser_headers):
    response = client.post(
        "/contact", data={**VALID, "website": "http://spam.example"}, headers=browser_headers
    )
    assert response.status_code == 302
    assert _queued(session) == []


def test_ask_us_from_an_article_prefills_the_subject(client, kb, browser_headers):
    article = kb.article(kb.category("returns"), "Can I return a used kettle?")
    kb.commit()
    html = client.get(f"/contact?article={article.slug}", headers=browser_headers).get_data(
        as_text=True
    )
    assert 'value="Can I return a used kettle?"' in html


def test_ask_us_after_a_search_carries_the_search_into_the_subject(client, kb, browser_headers):
    """Nothing found for "量子纠缠 加湿器" -> "Ask us": the customer does not type it again."""
    html = client.get("/search?q=量子纠缠 加湿器&lang=zh", headers=browser_headers).get_data(
        as_text=True
    )
    link = re.search(r'href="(/contact\?q=[^"]+)"', html)
    assert link is not None, "the no-results page's ask-us link carries the question"
    form = client.get(link.group(1).replace("&amp;", "&"), headers=browser_headers)
    assert 'value="量子纠缠 加湿器"' in form.get_data(as_text=True)


def test_the_error_summary_names_fields_shortly_with_their_languages_colon(client, browser_headers):
    """Each line names its field and then the problem: "主题：请..." (not "主题: "), and the
    consent box by "隐私说明", not by its whole paragraph of consent text."""
    data = {**VALID, "name": "", "consent": ""}
    html = client.post("/contact?lang=zh", data=data, headers=browser_headers).get_data(
        as_text=True
    )
    summary = html.split('id="form-errors"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#name">您的姓名</a>：请' in summary
    assert '<a href="#consent">隐私说明</a>：请勾选' in summary
    assert "我同意" not in summary
    english = client.post("/contact?lang=en", data=data, headers=browser_headers)
    assert '<a href="#name">Your name</a>: Please' in english.get_data(as_text=True)


def test_a_question_sent_without_a_subject_takes_its_first_line_as_subject(
    app, client, session, browser_headers
):
    """On a phone the question is typed first; the inbox still shows what it is about."""
    from mailrouter.intake.worker import Worker

    data = {**VALID, "subject": "", "question": "\n  My kettle   leaks at the base\nIt is new."}
    response = client.post("/contact?lang=en", data=data, headers=browser_headers)
    assert response.status_code == 302
    assert Worker(app).run_until_idle() == 1
    (ticket,) = session.scalars(select(Ticket)).all()
    assert ticket.subject == "My kettle leaks at the base"
    session.commit()


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("short", "short"),
        (
            "The lid of the kettle I bought last month cracked, and now it will not close at all",
            "The lid of the kettle I bought last month cracked, and now…",
        ),
        ("我" * 70, "我" * 60 + "…"),
        ("", ""),
    ],
)
def test_a_subject_made_from_a_question_is_one_line_cut_at_a_word(question, subject):
    from faq.portal import subject_from_question

    assert subject_from_question(question) == subject


def _header_names(raw: bytes) -> list[bytes]:
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    return [line.split(b":", 1)[0].lower() for line in head.split(b"\n") if line[:1] not in b" \t"]


def test_an_encoded_word_in_the_name_adds_no_headers(app, client, session, browser_headers):
    # Finding 4: the stdlib wrote the decoded word raw, so this name added Bcc, Subject and
    # In-Reply-To headers (threading the question onto someone else's ticket).
    import base64

    from mailrouter.intake.worker import Worker

    injected = b"Eve\r\nBcc: x@evil.test\r\nIn-Reply-To: <a@evil.test>\r\nSubject: spam"
    name = f"=?utf-8?b?{base64.b64encode(injected).decode()}?="
    response = client.post("/contact", data={**VALID, "name": name}, headers=browser_headers)
    assert response.status_code == 302
    (mail,) = _queued(session)
    names = _header_names(mail.raw)
    assert names.count(b"subject") == 1 and names.count(b"from") == 1
    assert b"bcc" not in names and b"in-reply-to" not in names
    assert Worker(app).run_until_idle() == 1
    (ticket,) = session.scalars(select(Ticket)).all()
    assert ticket.subject == VALID["subject"] and ticket.customer.email == VALID["email"]
    assert all(char.isprintable() for char in ticket.customer.name or "")
    session.commit()


@pytest.mark.parametrize("field", ["name", "subject"])
def test_control_characters_in_name_or_subject_are_refused(client, session, browser_headers, field):
    response = client.post(
        "/contact?lang=en",
        data={**VALID, field: "Eve\r\nBcc: x@evil.test"},
        headers=browser_headers,
    )
    assert response.status_code == 400
    assert "no line breaks" in response.get_data(as_text=True)
    assert _queued(session) == []


def _sent_and_processed(app, client, session, headers, data=VALID) -> str:
    """The contact form sent and the worker done with it: the confirmation page's address."""
    from tests.mailrouter.conftest import process_all

    sent = client.post("/contact?lang=en", data=data, headers=headers).location
    session.commit()
    assert process_all(app) == 1
    return sent


def test_the_confirmation_shows_the_reference_once_the_worker_made_the_ticket(
    app, client, session, browser_headers
):
    sent = _sent_and_processed(app, client, session, browser_headers)
    page = client.get(sent, headers=browser_headers).get_data(as_text=True)
    reference = session.scalar(select(Ticket.reference))
    assert f'data-testid="contact-reference">{reference}<' in page
    assert "/t/" not in page and "sent the link to follow your request" in page  # by mail
    assert "Your reference: <strong" in page
    # A full-width colon brings its own space: none more after it (编号： SUP-...).
    chinese = client.get(sent + "&lang=zh", headers=browser_headers).get_data(as_text=True)
    assert "您的工单编号：<strong" in chinese and "我们会回复到这个邮箱：<strong" in chinese
    forged = client.get("/contact/sent?r=" + "x" * 40, headers=browser_headers)
    assert VALID["email"] not in forged.get_data(as_text=True)


def test_a_question_never_joins_a_ticket_by_its_token(app, client, session, browser_headers):
    """The form proves nothing about the address typed: whoever knows a customer's address
    and a reference of theirs could write into that ticket (staff would read it as the
    customer's), and the confirmation, naming no reference then, told that the address takes
    part in that ticket. A question with a token starts its own ticket (staff may merge)."""
    from support.desk.models import Message
    from tests.factories import make_customer, make_ticket

    customer = make_customer(session, email=VALID["email"])
    earlier = make_ticket(session, customer=customer)
    session.commit()
    data = {**VALID, "subject": f"[#{earlier.reference}] please send the refund elsewhere"}
    sent = _sent_and_processed(app, client, session, browser_headers, data)
    new = session.scalar(select(Ticket).where(Ticket.id != earlier.id))
    assert new is not None and new.customer_id == customer.id  # was: none, threaded in
    assert session.scalar(select(Message.ticket_id).where(Message.channel == "web")) == new.id
    session.commit()
    page = client.get(sent, headers=browser_headers).get_data(as_text=True)
    assert f'data-testid="contact-reference">{new.reference}<' in page
    assert earlier.reference not in page.replace(f"[#{earlier.reference}]", "")


def test_the_confirmation_gives_no_follow_link_for_a_known_customers_address(
    app, client, session, browser_headers
):
    """Anyone may type a known customer's address into the form. The follow page would show
    them our answers to that customer (and, once staff fold the question into the customer's
    earlier ticket, that whole conversation): the link goes only to the address, by mail."""
    from support.desk import merging
    from support.desk.models import User
    from tests.factories import make_customer, make_ticket, make_user

    customer = make_customer(session, email=VALID["email"])
    earlier = make_ticket(session, customer=customer, body="My card ends in 4242; PIN reset?")
    make_user(session, email="li.na@example.com", role="admin")
    session.commit()
    sent = _sent_and_processed(app, client, session, browser_headers)
    page = client.get(sent, headers=browser_headers).get_data(as_text=True)
    new = session.scalar(select(Ticket).where(Ticket.id != earlier.id))
    assert new is not None and new.customer_id == customer.id
    assert f'data-testid="contact-reference">{new.reference}<' in page
    assert "/t/" not in page  # no follow link in this browser...
    assert "sent the link to follow your request" in page  # ... it is in the mail
    agent = session.scalar(select(User).where(User.email == "li.na@example.com"))
    merging.merge(session, new, agent, earlier, app.config)  # a duplicate, folded in
    session.commit()
    page = client.get(sent, headers=browser_headers).get_data(as_text=True)
    assert "/t/" not in page and "4242" not in page


def test_a_confirmation_link_shows_nothing_of_a_ticket_it_is_later_merged_into(
    app, client, session, browser_headers
):
    """Someone asked first under an address that is not theirs and kept the link the
    confirmation page gave then (``own_only``; it gives none now); its owner then writes by
    mail, and staff merge the question into the owner's ticket: the link still shows only
    the question, not the owner's conversation."""
    from mailrouter.intake import queue
    from mailrouter.outbound.customer_links import follow_url
    from support.desk import merging
    from support.desk.models import User
    from tests.factories import make_user
    from tests.mailrouter.conftest import make_mail, process_all

    make_user(session, email="li.na@example.com", role="admin")
    session.commit()
    _sent_and_processed(app, client, session, browser_headers)
    reference = session.scalar(select(Ticket.reference))
    session.commit()
    link = re.search(r"(/t/[^?]+)", follow_url(app.config, reference, own_only=True))
    assert link is not None
    follow = client.get(link.group(1), headers=browser_headers).get_data(as_text=True)
    assert "cracked when it arrived" in follow
    queue.store_inbound(
        session,
        channel="smtp",
        raw=make_mail(
            sender=f"Wang Fang <{VALID['email']}>", body="My card ends in 4242; PIN reset?\n"
        ),
        envelope_from=VALID["email"],
        envelope_to=["support@example.com"],
    )
    session.commit()
    assert process_all(app) == 1
    question, owners = session.scalars(select(Ticket).order_by(Ticket.id)).all()
    agent = session.scalar(select(User).where(User.email == "li.na@example.com"))
    merging.merge(session, question, agent, owners, app.config)
    session.commit()
    follow = client.get(link.group(1), headers=browser_headers).get_data(as_text=True)
    assert "cracked when it arrived" in follow and "4242" not in follow


def test_the_confirmation_does_not_tell_whether_the_address_is_a_customers(
    app, client, session, browser_headers
):
    """Anyone may type any address: the page after sending must read the same whether the
    address has asked before or not (it showed a follow link only to new addresses, so
    one question told whether someone is a customer). The link goes by mail, always."""
    from tests.factories import make_customer, make_ticket

    make_ticket(session, customer=make_customer(session, email="known@example.org"))
    session.commit()
    pages = {}
    for address in ("known@example.org", "new.person@example.org"):
        sent = _sent_and_processed(
            app, client, session, browser_headers, {**VALID, "email": address}
        )
        page = client.get(sent, headers=browser_headers).get_data(as_text=True)
        reference = session.scalar(select(Ticket.reference).order_by(Ticket.id.desc()))
        session.commit()
        assert f'data-testid="contact-reference">{reference}<' in page
        page = re.sub(r"r=[\w.-]+", "r=RECEIPT", page)  # the language links keep the receipt
        pages[address] = page.replace(address, "ADDRESS").replace(reference, "REFERENCE")
    assert pages["known@example.org"] == pages["new.person@example.org"]
    assert "/t/" not in pages["new.person@example.org"]


def test_a_question_reads_none_of_the_others_questions(app, client, session, browser_headers):
    """The limit is two counters, not a count of the hour's queued questions: that read every
    question of the last hour on each new one (0.35 s with 20,000 of them), so many clients
    together made each question dearer than the last."""
    from sqlalchemy import event

    for n in range(30):
        others = app.test_client()
        others.post(
            "/contact",
            data={**VALID, "email": f"other{n}@example.org"},
            headers=browser_headers,
            environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"},
        )
    engine = app.extensions["support_db"].engine
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.post("/contact", data=VALID, headers=browser_headers)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 302
    reads = [
        s for s in statements if s.lstrip().upper().startswith("SELECT") and "inbound_mail" in s
    ]
    assert reads == []
    assert len(_queued(session)) == 31


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("-300", -300),  # New York in winter
        ("330", 330),  # India
        ("+840", 840),  # Line Islands, the furthest ahead
        ("0", 0),  # a browser on UTC+0 (as mail, "+0000" is a program that does not know)
        ("7", None),  # no clock is 7 minutes ahead
        ("-841", None),
        ("900", None),
        ("", None),
        ("abc", None),
        ("1e3", None),
        ("9" * 5000, None),
    ],
)
def test_the_browser_s_clock_becomes_the_message_s_offset(
    app, client, session, browser_headers, sent, kept
):
    """Tickets from the form had no customer clock (the follow page and the ticket's "customer
    local time" read it): the form's script sends the browser's offset, and only an offset a
    clock on earth uses is kept; anything else is ignored and the question still goes."""
    from mailrouter.intake.worker import Worker
    from support.desk.models import Message

    response = client.post("/contact", data={**VALID, "utc_offset": sent}, headers=browser_headers)
    assert response.status_code == 302
    assert Worker(app).run_until_idle() == 1
    (message,) = session.scalars(select(Message).where(Message.direction == "in")).all()
    assert message.date_offset_minutes == kept


def test_the_ticket_page_tells_the_form_customer_s_time_from_their_browser(
    app, client, session, browser_headers
):
    """The customer card said "from the date of their last mail" of a question sent with the
    form, whose clock comes from the browser."""
    from mailrouter.intake.worker import Worker
    from tests.factories import make_user
    from tests.support.staff_helpers import login

    client.post("/contact", data={**VALID, "utc_offset": "-480"}, headers=browser_headers)
    assert Worker(app).run_until_idle() == 1
    admin = make_user(session, role="admin")
    ticket_id = session.scalar(select(Ticket.id))
    session.commit()
    login(client, admin.email)
    page = client.get(f"/staff/tickets/{ticket_id}?lang=en").get_data(as_text=True)
    assert re.search(
        r"Their time now: \d\d:\d\d \(UTC-8\), from their browser&#39;s clock on the contact form",
        page,
    )
    chinese = client.get(f"/staff/tickets/{ticket_id}?lang=zh").get_data(as_text=True)
    assert "（UTC-8），依据其提交联系表单时浏览器的时钟" in chinese


def test_a_question_the_browser_took_whole_is_not_refused_for_its_line_breaks(
    client, session, browser_headers
):
    # The box's maxlength counts a line break as one character; the browser sends it as CR LF,
    # two. A question of 10,000 characters in 200 lines, which the browser let the customer type,
    # was refused as "under 10,000 characters" at 10,200.
    lines = ["x" * 49] * 200
    typed = "\n".join(lines)
    assert len(typed) < 10_000 < len("\r\n".join(lines))
    data = dict(VALID, question="\r\n".join(lines))
    response = client.post("/contact?lang=en", data=data, headers=browser_headers)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    (mail,) = _queued(session)
    body = message_from_bytes(mail.raw, policy=default).get_body(("plain",)).get_content()
    assert body.count("x" * 49) == 200


def test_the_confirmation_says_when_the_answer_is_due_on_the_customer_s_clock(
    app, client, session, browser_headers
):
    """The auto-reply promised an answer by a time on the customer's clock; the page shown
    after sending said only that the question was received. It now names the same moment
    for a question from anyone (no tier, no earlier report: test_contact_leaks), on the
    clock of the browser that sent the form (not a zone on record: the page must not tell
    whose address it is)."""
    data = {**VALID, "utc_offset": "-300"}
    sent = _sent_and_processed(app, client, session, browser_headers, data)
    ticket = session.scalar(select(Ticket))
    assert ticket.first_response_due_at is not None
    due = ticket.first_response_due_at.astimezone(timezone(timedelta(hours=-5)))
    mail = session.scalar(select(OutboundMail).where(OutboundMail.kind == "auto_reply"))
    auto_reply = message_from_bytes(mail.raw, policy=default).get_body(("plain",))
    assert f"{due:%H:%M}" in auto_reply.get_content()  # the auto-reply's moment, same clock
    session.commit()
    page = client.get(sent, headers=browser_headers).get_data(as_text=True)
    shown = re.search(r'data-testid="contact-answer-by">([^<]+)<', page)
    assert shown and f"{due:%H:%M}" in shown.group(1) and "UTC-5" in shown.group(1)
    assert "We will answer you personally by: <strong" in page
    chinese = client.get(sent + "&lang=zh", headers=browser_headers).get_data(as_text=True)
    shown = re.search(r'data-testid="contact-answer-by">([^<]+)<', chinese)
    assert shown and f"{due:%H:%M}" in shown.group(1) and "UTC-5" in shown.group(1)
    # The time says 之前 itself ("您当地时间明天 03:46（UTC-5）之前"): the label does not.
    assert "我们亲自回复您的期限：<strong" in chinese and chinese.count("之前") == 1


@pytest.mark.parametrize(
    ("question", "slug"),
    [
        ("ni hao, tui kuan duo jiu neng dao zhang?", "/a/refund-time-zh"),
        ("Hi, this is Zhang Wei from Wuhan. How long does a refund take?", "/a/refund-time-en"),
    ],
)
def test_a_question_typed_in_pinyin_is_offered_the_chinese_answer(
    client, demo_index, browser_headers, question, slug
):
    """Pinyin typed for want of a Chinese keyboard is offered the Chinese article (the one
    reading of pinyin, support.core.text.read_pinyin); an English question that names a
    Chinese customer in pinyin is offered the English one, and no Chinese."""
    offered = [
        m["url"]
        for m in client.post("/contact/matches", data={"q": question}).get_json()["matches"]
    ]
    data = {**VALID, "subject": "", "question": question, "action": "check"}
    html = client.post("/contact", data=data, headers=browser_headers).get_data(as_text=True)
    shown = html.split('id="contact-matches"')[1].split("</section>")[0]
    assert offered[0] == slug and f'href="{slug}"' in shown
    other = "-en" if slug.endswith("-zh") else "-zh"
    assert not [url for url in offered if url.endswith(other)] and f'{other}"' not in shown
