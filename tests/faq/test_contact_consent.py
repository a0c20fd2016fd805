"""The contact form asks for consent: it is not sent without the box ticked (checked on the
server), and what the customer agreed to is recorded with the question."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mailrouter.models import InboundMail
from support.desk import privacy
from support.desk.models import ConsentRecord

FORM = {
    "name": "Wang Fang",
    "email": "Wang.Fang@example.org",
    "subject": "Kettle lid cracked",
    "question": "The lid of my new kettle was cracked when it arrived. What can I do?",
    "department": "",
    "action": "send",
}


def _rows(session, model) -> list:
    rows = session.scalars(select(model)).all()
    session.commit()
    return rows


def test_the_form_shows_the_consent_text_in_the_page_language(client, browser_headers) -> None:
    english = client.get("/contact?lang=en", headers=browser_headers).get_data(as_text=True)
    assert 'type="checkbox"' in english and 'name="consent"' in english
    assert "I agree that Lumen Home stores my name, email address and question" in english
    chinese = client.get("/contact?lang=zh", headers=browser_headers).get_data(as_text=True)
    assert "我同意Lumen Home保存我的姓名、邮箱地址和问题" in chinese
    assert "support@example.com" in chinese


@pytest.mark.parametrize("consent", [None, "", "n"])
def test_without_consent_nothing_is_sent(client, session, browser_headers, consent) -> None:
    data = dict(FORM) if consent is None else {**FORM, "consent": consent}
    response = client.post("/contact?lang=en", data=data, headers=browser_headers)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Please tick the box to agree that we store your details to answer you." in page
    assert _rows(session, InboundMail) == [] and _rows(session, ConsentRecord) == []


def test_the_error_is_in_chinese_on_the_chinese_page(client, browser_headers) -> None:
    response = client.post("/contact?lang=zh", data=FORM, headers=browser_headers)
    assert response.status_code == 400
    assert "请勾选此框" in response.get_data(as_text=True)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_consent_is_recorded_with_the_question(
    app, client, session, browser_headers, language
) -> None:
    response = client.post(
        f"/contact?lang={language}", data={**FORM, "consent": "y"}, headers=browser_headers
    )
    assert response.status_code == 302
    [mail] = _rows(session, InboundMail)
    [record] = _rows(session, ConsentRecord)
    shown = privacy.consent_text(app.config, language)
    assert record.text == shown and record.language == language
    assert record.version == privacy.consent_version(shown) == mail.meta["consent_version"]
    assert (record.channel, record.purpose) == ("web", "contact")
    assert record.email == "wang.fang@example.org" and record.given_at is not None


def test_a_new_consent_text_is_a_new_version(app, client, session, browser_headers) -> None:
    client.post("/contact?lang=en", data={**FORM, "consent": "y"}, headers=browser_headers)
    app.config["PRIVACY_CONSENT_TEXT"] = {
        "en": "We keep your question for {company}.",
        "zh": "同意",
    }
    client.post(
        "/contact?lang=en",
        data={**FORM, "email": "li.lei@example.org", "consent": "y"},
        headers=browser_headers,
    )
    first, second = _rows(session, ConsentRecord)
    assert second.text == "We keep your question for Lumen Home."
    assert first.version != second.version


def test_chinese_pages_name_the_company_by_its_chinese_name(app, client, browser_headers) -> None:
    # The demo company is 流明家居 in its Chinese FAQ; its Chinese pages said Lumen Home.
    app.config["COMPANY_NAME_ZH"] = "流明家居"
    chinese = client.get("/contact?lang=zh", headers=browser_headers).get_data(as_text=True)
    assert "我同意流明家居保存我的姓名" in chinese
    assert "流明家居 · 帮助中心" in chinese and "Lumen Home" not in chinese
    taiwan = client.get("/?lang=zh&script=hant", headers=browser_headers).get_data(as_text=True)
    assert "流明家居 · 幫助中心" in taiwan and "Lumen Home" not in taiwan
    english = client.get("/contact?lang=en", headers=browser_headers).get_data(as_text=True)
    assert "I agree that Lumen Home stores" in english and "流明家居" not in english
    staff = client.get("/staff/login?lang=zh", headers=browser_headers).get_data(as_text=True)
    assert "流明家居" in staff and "Lumen Home" not in staff
