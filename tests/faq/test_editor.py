"""Staff editing under /staff/faq: every change is visible to customers' searches at once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from faq.knowledge import search_faq
from faq.models import Article, Category, Phrasing, SearchQuery, UnansweredQuestion
from faq.phrasings import propose_phrasing
from support.desk.models import AuditEvent
from tests.factories import make_ticket


def _slugs(app, text: str, language: str = "en") -> list[str]:
    results, _ = search_faq(text, language=language, app=app)
    return [hit.slug for hit in results.hits]


def _fresh(session, model, **where):
    statement = select(model).filter_by(**where).execution_options(populate_existing=True)
    found = session.scalars(statement).all()
    session.commit()
    return found


def _article_form(category_id: int, **fields) -> dict:
    data = {
        "question": "How do I descale my kettle?",
        "answer_md": "Boil **vinegar** and water (1:1), then rinse twice.",
        "category_id": str(category_id),
        "language": "en",
        "slug": "",
        "translation_key": "",
        "phrasings": "kettle has white limescale\nchalk inside the kettle",
        "is_published": "y",
        "action": "save",
    }
    data.update(fields)
    return data


def test_editor_needs_a_signed_in_staff_member(client):
    response = client.get("/staff/faq/")
    assert response.status_code == 302 and "/staff/login" in response.location


def test_create_edit_and_unpublish_reach_search_at_once(app, staff_client, session, kb):
    care = kb.category("care", "Care")
    kb.commit()
    response = staff_client.post("/staff/faq/articles/new", data=_article_form(care.id))
    assert response.status_code == 302
    (article,) = _fresh(session, Article)
    assert (
        article.slug == "how-do-i-descale-my-kettle"
        and article.updated_by_id == staff_client.user.id
    )
    assert _slugs(app, "descale") == [article.slug]
    assert _slugs(app, "white limescale") == [article.slug]  # a staff phrasing

    form = _article_form(
        care.id, question="How do I remove limescale from my kettle?", phrasings=""
    )
    staff_client.post(f"/staff/faq/articles/{article.id}", data=form)
    assert _slugs(app, "remove limescale") == [article.slug]

    staff_client.post(f"/staff/faq/articles/{article.id}/unpublish")
    page = app.test_client().get("/search?q=limescale&lang=en").get_data(as_text=True)
    assert "limescale from my kettle" not in page and "0 answers found" in page
    assert staff_client.get(f"/a/{article.slug}").status_code == 404
    staff_client.post(f"/staff/faq/articles/{article.id}/publish")
    assert _slugs(app, "limescale") == [article.slug]
    actions = [e.action for e in _fresh(session, AuditEvent, subject_id=article.id)]
    assert actions.count("faq.article_changed") == 3 and "faq.article_created" in actions


def test_preview_renders_markdown_without_saving(staff_client, session, kb):
    care = kb.category("care")
    kb.commit()
    form = _article_form(care.id, action="preview", answer_md="**Strong** <script>x()</script>")
    html = staff_client.post("/staff/faq/articles/new", data=form).get_data(as_text=True)
    assert "<strong>Strong</strong>" in html and "<script>x()</script>" not in html
    assert _fresh(session, Article) == []


def test_invalid_article_shows_errors_by_the_fields(staff_client, session, kb):
    care = kb.category("care")
    kb.commit()
    form = _article_form(care.id, question="", slug="Not A Slug")
    html = staff_client.post("/staff/faq/articles/new?lang=en", data=form).get_data(as_text=True)
    assert 'id="question-error"' in html and 'id="slug-error"' in html
    assert _fresh(session, Article) == []


def test_a_new_article_asks_for_its_category(staff_client, session, kb):
    # The list opened on the first category (A to Z): an editor who missed it filed a
    # question about air filters under "Company and careers".
    kb.category("careers", "Company and careers")
    care = kb.category("care", "Care")
    kb.commit()
    html = staff_client.get("/staff/faq/articles/new?lang=en").get_data(as_text=True)
    first = re.search(r'<select[^>]*id="category_id"[^>]*>\s*<option([^>]*)>([^<]*)<', html)
    assert first is not None and first.group(2) == "Choose a category", html  # shown first
    form = _article_form(0)
    html = staff_client.post("/staff/faq/articles/new?lang=en", data=form).get_data(as_text=True)
    assert 'id="category_id-error"' in html and "Choose the article&#39;s category." in html
    assert _fresh(session, Article) == []
    assert (
        staff_client.post("/staff/faq/articles/new", data=_article_form(care.id)).status_code == 302
    )


def test_translation_is_linked_and_shown_to_customers(app, staff_client, session, kb):
    care = kb.category("care", "Care", "保养")
    source = kb.article(care, "How do I descale my kettle?", "Use vinegar.")
    kb.commit()
    html = staff_client.get(f"/staff/faq/articles/new?translation_of={source.id}").get_data(
        as_text=True
    )
    assert f'value="{source.translation_key}"' in html
    assert re.search(r'<option selected value="zh">|<option value="zh" selected>', html)
    form = _article_form(
        care.id,
        question="水壶怎么除垢？",
        answer_md="用白醋。",
        language="zh",
        translation_key=source.translation_key,
        phrasings="",
    )
    staff_client.post("/staff/faq/articles/new", data=form)
    (zh,) = _fresh(session, Article, language="zh")
    assert zh.slug == "how-do-i-descale-my-kettle-zh"
    page = staff_client.get(f"/a/{source.slug}").get_data(as_text=True)
    assert f'href="/a/{zh.slug}"' in page
    assert _slugs(app, "除垢", "zh") == [zh.slug]


def test_only_admins_pin_a_notice(app, staff_client, admin_client, session, kb):
    article = kb.article(kb.category("news"), "Holiday opening hours")
    kb.commit()
    assert staff_client.post(f"/staff/faq/articles/{article.id}/pin").status_code == 403
    assert admin_client.post(f"/staff/faq/articles/{article.id}/pin").status_code == 302
    assert _fresh(session, Article)[0].is_pinned
    home = app.test_client().get("/?lang=en").get_data(as_text=True)
    assert 'class="notice card"' in home and "Holiday opening hours" in home


def test_categories_are_created_and_renamed(app, staff_client, session, kb):
    data = {"slug": "care", "name_en": "Care", "name_zh": "保养", "is_published": "y"}
    assert staff_client.post("/staff/faq/categories/new", data=data).status_code == 302
    html = staff_client.post("/staff/faq/categories/new?lang=en", data=data).get_data(as_text=True)
    assert "already exists" in html
    (category,) = _fresh(session, Category)
    kb.article(category, "How do I descale my kettle?")
    kb.commit()
    data["name_en"] = "Care and cleaning"
    staff_client.post(f"/staff/faq/categories/{category.id}", data=data)
    results, _ = search_faq("descale", app=app)
    assert results.hits[0].category_name == "Care and cleaning"


def test_proposed_phrasings_are_reviewed(app, staff_client, session, kb):
    article = kb.article(kb.category("care"), "How do I descale my kettle?")
    proposal = propose_phrasing(session, article.id, "white crust in boiler", "search")
    kb.commit()
    html = staff_client.get("/staff/faq/phrasings").get_data(as_text=True)
    assert "white crust in boiler" in html
    staff_client.post(f"/staff/faq/phrasings/{proposal.id}/approve")
    assert _fresh(session, Phrasing)[0].status == "approved"
    assert _slugs(app, "white crust") == [article.slug]


def test_gaps_group_unanswered_questions(staff_client, session, kb):
    ticket = make_ticket(session)
    for text in ["Do you sell spare filters?", "do you sell spare  filters", "gift wrapping?"]:
        session.add(SearchQuery(query=text, result_count=0, visitor="v"))
    session.add(
        UnansweredQuestion(text="Do you sell spare filters", ticket_id=ticket.id, language="en")
    )
    session.commit()
    html = staff_client.get("/staff/faq/gaps").get_data(as_text=True)
    row = re.search(
        r"<tr><td>Do you sell spare filters\?</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", html
    )
    assert row and row.groups() == ("3", "2", "1")
    assert html.index("spare filters") < html.index("gift wrapping")
    # Staff know a ticket by its reference, which opens it (not "#1", a database id).
    link = f'<a href="/staff/tickets/{ticket.id}">{ticket.reference}</a>'
    assert link in html and f"#{ticket.id}" not in html
    # The company's zone once, in the column's heading, not in every row.
    assert html.count("北京时间") == 1  # the page is in the desk's language, Chinese


def test_gaps_show_a_pinyin_mail_as_typed_and_its_chinese_reading(staff_client, session, kb):
    """A mail written in pinyin (no Chinese keyboard) is listed as the customer typed it, the
    Chinese it spells beside it: staff write the article in characters."""
    ticket = make_ticket(session)
    typed = "ni hao, qing wen ke yi song dao ao men ma?"
    session.add(UnansweredQuestion(text=typed, ticket_id=ticket.id, language="zh"))
    session.add(UnansweredQuestion(text="Do you ship to Macau?", language="en"))
    session.commit()
    html = staff_client.get("/staff/faq/gaps").get_data(as_text=True)
    assert f"<td>{typed}" in html
    assert '<div class="muted" lang="zh-Hans">你好，请问可以送到澳门吗？</div>' in html
    assert html.count('<div class="muted" lang="zh-Hans">') == 1  # English gets none


def test_gaps_show_an_agent_only_mail_of_tickets_they_may_see(staff_client, session):
    """The gap's text is the customer's mail: another department's stays out of the report."""
    own = make_ticket(session, department_code="service")
    other = make_ticket(session, department_code="sales")
    session.add_all(
        [
            UnansweredQuestion(text="Can I return a kettle?", ticket_id=own.id, language="en"),
            UnansweredQuestion(
                text="Wang Fang's invoice 4711 for the Shanghai tender", ticket_id=other.id
            ),
        ]
    )
    session.commit()
    html = staff_client.get("/staff/faq/gaps").get_data(as_text=True)
    assert "Can I return a kettle?" in html
    assert "invoice 4711" not in html and other.reference not in html
    assert own.reference in html


def test_gaps_leave_out_mail_of_departments_whose_mail_no_article_answers(app, session):
    """A job application, a journalist's request: listed as questions the FAQ does not answer
    when they had been routed (or later moved) to HR or PR (AUTOREPLY_NO_FAQ_DEPARTMENTS)."""
    from faq.gaps import gap_report

    assert {"hr", "pr"} <= set(app.config["AUTOREPLY_NO_FAQ_DEPARTMENTS"])
    texts = {
        "service": "Can I return a kettle after 30 days?",
        "hr": "Application for the warehouse team lead position",
        "pr": "Interview request for our podcast about home appliances",
    }
    for code, text in texts.items():
        ticket = make_ticket(session, department_code=code)
        session.add(UnansweredQuestion(text=text, ticket_id=ticket.id, language="en"))
    session.add(UnansweredQuestion(text="Do you ship to Macau?", language="en"))  # no ticket
    session.commit()
    everything = {group.text for group in gap_report(session)}
    assert everything == {*texts.values(), "Do you ship to Macau?"}
    shown = {
        group.text
        for group in gap_report(
            session, left_out_departments=app.config["AUTOREPLY_NO_FAQ_DEPARTMENTS"]
        )
    }
    assert shown == {texts["service"], "Do you ship to Macau?"}


def test_the_gaps_page_lists_no_job_application(app, session):
    from tests.factories import make_user
    from tests.faq.conftest import sign_in

    admin = make_user(session, role="admin")
    for code, text in (("hr", "Application: warehouse team lead"), ("service", "Kettle lid?")):
        ticket = make_ticket(session, department_code=code)
        session.add(UnansweredQuestion(text=text, ticket_id=ticket.id, language="en"))
    session.commit()
    client = app.test_client()
    sign_in(client, admin)
    html = client.get("/staff/faq/gaps").get_data(as_text=True)
    assert "Kettle lid?" in html and "warehouse team lead" not in html


@pytest.fixture
def unlink_drafts(db):
    """tests/conftest.py empties tables in dependency order, which a draft's link back to its
    ticket (articles <-> tickets reference each other) breaks on SQLite: unlink afterwards."""
    yield
    with db.engine.begin() as conn:
        conn.execute(update(Article).values(source_ticket_id=None))


def test_a_solved_ticket_becomes_a_draft_article_in_one_click(
    staff_client, session, kb, unlink_drafts
):
    from support.desk.models import Message

    kb.category("care")
    ticket = make_ticket(session, subject="Re: How do I descale the kettle?", status="resolved")
    session.add(
        Message(
            ticket=ticket,
            direction="out",
            body_text="Boil vinegar and water, then rinse.",
            new_text="Boil vinegar and water, then rinse.",
        )
    )
    open_ticket = make_ticket(session, subject="Still broken")
    session.commit()
    response = staff_client.post(f"/staff/faq/from-ticket/{ticket.id}")
    assert response.status_code == 302 and "/staff/faq/articles/" in response.location
    (draft,) = _fresh(session, Article)
    assert draft.source_ticket_id == ticket.id and draft.is_published is False
    assert draft.question == "How do I descale the kettle?" and "vinegar" in draft.answer_md
    staff_client.post(f"/staff/faq/from-ticket/{ticket.id}")  # twice: still one draft
    assert len(_fresh(session, Article)) == 1
    staff_client.post(f"/staff/faq/from-ticket/{open_ticket.id}")
    assert len(_fresh(session, Article)) == 1


def test_removed_phrasing_is_no_longer_found(app, session, kb):
    with app.app_context():  # as the worker and the CLI run: the index and settings are the app's
        from faq.knowledge import update_article

        article = kb.article(
            kb.category("care"),
            "How do I descale?",
            "Boil vinegar.",
            phrasings=["chalk inside the kettle"],
        )
        kb.commit()
        assert _slugs(app, "chalk inside") == [article.slug]
        update_article(session, article, phrasings=[])
        session.commit()
        assert _slugs(app, "chalk inside") == []


def test_article_list_filters_and_counts_waiting_phrasings(staff_client, session, kb):
    care = kb.category("care", "Care", name_zh="保养")
    descale = kb.article(care, "How do I descale my kettle?")
    kb.article(care, "水壶怎么除垢？", language="zh", is_published=False)
    propose_phrasing(session, descale.id, "white crust in boiler", "search")
    kb.commit()
    html = staff_client.get("/staff/faq/?lang=en").get_data(as_text=True)
    assert "How do I descale my kettle?" in html and "水壶怎么除垢？" in html
    assert "1 phrasing to review" in html  # not "1 phrasings"
    html = staff_client.get("/staff/faq/?lang=en&status=draft").get_data(as_text=True)
    assert "水壶怎么除垢？" in html and "How do I descale my kettle?" not in html
    html = staff_client.get("/staff/faq/?lang=en&q=descale&language=en").get_data(as_text=True)
    assert "How do I descale my kettle?" in html and "水壶" not in html
    edit = staff_client.get(f"/staff/faq/articles/{descale.id}?lang=en").get_data(as_text=True)
    assert "white crust in boiler" in edit and "Add the 中文 version" in edit
    # On a Chinese page the categories are named in Chinese, in the list and in the filter.
    kb.category("delivery", "Delivery", name_zh="配送")
    kb.commit()
    chinese = staff_client.get("/staff/faq/?lang=zh").get_data(as_text=True)
    assert "<td>保养</td>" in chinese and ">配送</option>" in chinese


def test_the_categories_page_lists_categories_with_their_article_counts(staff_client, kb) -> None:
    """It answered 500 once (issue 16): nothing loaded it."""
    category = kb.category("shipping", "Shipping", "配送")
    kb.article(category, "Where is my parcel?")
    kb.article(category, "How much is delivery?")
    kb.commit()
    page = staff_client.get("/staff/faq/categories?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Shipping" in html and ">2<" in html.replace(" ", "")


def test_a_new_article_detects_its_language_and_gets_a_pinyin_slug(staff_client, session, kb):
    care = kb.category("care", "Care", "保养")
    kb.commit()
    html = staff_client.get("/staff/faq/articles/new").get_data(as_text=True)
    assert re.search(r'<option selected value="auto">|<option value="auto" selected>', html)
    chinese = _article_form(
        care.id, question="退货流程怎么走？", answer_md="请在30天内寄回。", language="auto"
    )
    staff_client.post("/staff/faq/articles/new", data=chinese)
    english = _article_form(care.id, question="How do I return an item?", language="auto")
    staff_client.post("/staff/faq/articles/new", data=english)
    staff_client.post("/staff/faq/articles/new", data=english)  # the same question again
    (zh,) = _fresh(session, Article, language="zh")
    assert zh.slug == "tuihuo-liucheng-zenme-zou-zh"
    slugs = sorted(a.slug for a in _fresh(session, Article, language="en"))
    assert slugs == ["how-do-i-return-an-item", "how-do-i-return-an-item-2"]  # unique


def test_the_article_filter_takes_long_text_and_wildcards_literally(staff_client, kb):
    """60,000 characters made SQLite's LIKE fail ("pattern too complex", a 500); a typed % or _
    matched everything."""
    category = kb.category("orders")
    kb.article(category, "Where is my parcel?")
    kb.article(category, "100% refund_policy")
    kb.commit()
    assert staff_client.get("/staff/faq/", query_string={"q": "x" * 60_000}).status_code == 200
    listed = staff_client.get("/staff/faq/", query_string={"q": "%"}).get_data(as_text=True)
    assert "100% refund_policy" in listed and "Where is my parcel?" not in listed


def test_category_names_come_in_the_readers_language_first(staff_client, kb) -> None:
    category = kb.category("shipping", "Shipping", "配送")
    kb.article(category, "Where is my parcel?")
    kb.commit()
    english = staff_client.get("/staff/faq/categories?lang=en").get_data(as_text=True)
    assert ">Shipping / 配送</a>" in english
    chinese = staff_client.get("/staff/faq/categories?lang=zh").get_data(as_text=True)
    assert ">配送 / Shipping</a>" in chinese
    form = staff_client.get("/staff/faq/articles/new?lang=zh").get_data(as_text=True)
    assert ">配送 / Shipping</option>" in form
    edit = staff_client.get(f"/staff/faq/categories/{category.id}?lang=zh").get_data(as_text=True)
    assert edit.index('name="name_zh"') < edit.index('name="name_en"')


def test_categories_are_listed_by_the_name_the_page_shows(staff_client, client, kb) -> None:
    # A Chinese page listed 退货 (Returns), 保修 (Warranty), 发票 (Invoices) in the order of
    # their English names: by pinyin they are 保修 bao, 发票 fa, 退货 tui.
    for slug, english, chinese in (
        ("invoices", "Invoices", "发票"),
        ("returns", "Returns", "退货"),
        ("warranty", "Warranty", "保修"),
    ):
        kb.article(kb.category(slug, english, chinese), f"About {english}?")
    kb.commit()

    def order(html: str, names: tuple[str, ...]) -> list[str]:
        return sorted(names, key=html.index)

    zh, en = ("保修", "发票", "退货"), ("Invoices", "Returns", "Warranty")
    for path in ("/staff/faq/categories", "/staff/faq/", "/staff/faq/articles/new"):
        assert order(staff_client.get(f"{path}?lang=zh").get_data(as_text=True), zh) == list(zh)
        assert order(staff_client.get(f"{path}?lang=en").get_data(as_text=True), en) == list(en)
    search = client.get("/search?lang=zh").get_data(as_text=True)
    topics = search[search.index('id="search-category"') :]
    assert order(topics, zh) == list(zh)


def test_saving_a_draft_says_customers_do_not_see_it(staff_client, session, kb):
    """ "Article saved." on a new article left unpublished: its writer believed customers
    could find it."""
    care = kb.category("care", "Care")
    kb.commit()
    draft = _article_form(care.id)
    del draft["is_published"]
    page = staff_client.post(
        "/staff/faq/articles/new?lang=en", data=draft, follow_redirects=True
    ).get_data(as_text=True)
    assert "Saved as a draft: customers do not see it until you publish it." in page
    (article,) = _fresh(session, Article)
    page = staff_client.post(
        f"/staff/faq/articles/{article.id}?lang=en",
        data=_article_form(care.id),
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Article saved." in page and "Saved as a draft" not in page  # published now


def test_gaps_page_says_what_it_waits_for_when_empty(staff_client):
    """No gap yet: the page says what puts a question here (one search or mail is enough; a
    search counts unless a result was opened; automated browsers' searches are not counted),
    so a new admin who searched from a script does not take it for broken."""
    html = staff_client.get("/staff/faq/gaps?lang=en").get_data(as_text=True)
    assert "No gaps found: customers find answers to what they search." not in html
    assert "as soon as one customer" in html and "automated browsers" in html
    zh = staff_client.get("/staff/faq/gaps?lang=zh").get_data(as_text=True)
    assert "只要有一位客户" in zh and "自动化浏览器" in zh


def test_a_portal_search_that_found_nothing_is_a_gap_at_once(
    client, staff_client, session, kb, browser_headers
):
    """One customer's search with no result is listed straight away (no delay, no minimum),
    also when staff searched while signed in; a headless browser's is not (demand.is_bot)."""
    kb.article(kb.category("care"), "How do I descale my kettle?")
    kb.commit()
    client.get("/search?q=qwzxv+plorb", headers=browser_headers)
    staff_client.get("/search?q=gift+wrapping+zzqx", headers=browser_headers)
    headless = {"User-Agent": browser_headers["User-Agent"].replace("Chrome/", "HeadlessChrome/")}
    client.get("/search?q=plimbo+frozzle", headers=headless)
    html = staff_client.get("/staff/faq/gaps?lang=en").get_data(as_text=True)
    assert "qwzxv plorb" in html and "gift wrapping zzqx" in html
    assert "plimbo frozzle" not in html


def test_a_contact_form_question_whose_subject_opens_its_body_is_shown_once(staff_client, session):
    """The form makes a subject of the question's opening (faq.portal.subject_from_question);
    the mail's question is subject and body, which read the same words twice."""
    from faq.portal import subject_from_question

    body = "Do you sell spare filters for the AX-200 kettle, and how often should I change them?"
    short = "Do you ship to Macau?"
    ticket = make_ticket(session)
    for question in (body, short):
        text = f"{subject_from_question(question)}\n{question}"
        session.add(UnansweredQuestion(text=text, language="en", ticket_id=ticket.id))
    # A subject of its own stays: it says something the body does not.
    mail = "Invoice\nCan I get a company invoice?"
    session.add(UnansweredQuestion(text=mail, language="en", ticket_id=ticket.id))
    session.commit()
    html = staff_client.get("/staff/faq/gaps?lang=en").get_data(as_text=True)
    assert f"<tr><td>{body}</td>" in html
    assert f"<tr><td>{short}</td>" in html
    assert "<tr><td>Invoice Can I get a company invoice?</td>" in html
